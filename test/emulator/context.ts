// What every request handler gets: the tenant state, the emulator's base URL and the raw
// request/response; plus how a path's tenant segment is recognised (id, domain, common, …).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TENANT_DOMAIN, TENANT_ID, type EmulatorState } from './state';

export interface Ctx {
  state: EmulatorState;
  /** https://localhost:PORT */
  baseUrl: string;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

/** Multi-tenant aliases Entra accepts in place of a tenant. */
const ALIASES = ['common', 'organizations'];

export function isKnownTenant(segment: string): boolean {
  const s = segment.toLowerCase();
  return s === TENANT_ID || s === TENANT_DOMAIN || ALIASES.includes(s);
}

export function isAlias(segment: string): boolean {
  return ALIASES.includes(segment.toLowerCase());
}

/** The segment endpoints are published under: the tenant id, or the alias as given. */
export function endpointTenant(segment: string): string {
  return isAlias(segment) ? segment.toLowerCase() : TENANT_ID;
}

/** The correlation id a client sent (MSAL: the `client-request-id` query parameter or header). */
export function clientRequestId(ctx: Ctx): string | undefined {
  const fromQuery = ctx.url.searchParams.get('client-request-id');
  const header = ctx.req.headers['client-request-id'];
  return fromQuery ?? (typeof header === 'string' ? header : undefined);
}

// Client authentication at the token endpoint, as Entra does it. The grant decides whether the
// request is a public client's (ClientAuthRule): none for a code issued to a Mobile-and-desktop
// Reply URL (AADSTS700025 when one is sent), required for one issued to a Web Reply URL
// (AADSTS7000218 without), optional for the device code flow when the app allows public client
// flows. A confidential client proves itself with exactly one of a client secret (form or HTTP Basic) or a certificate assertion (RFC 7523 JWT,
// RS256/PS256, signed by a registered certificate named by its x5t#S256 thumbprint, aud = the
// token endpoint, iss = sub = client_id, inside its time window). Pure apart from the state read.
import crypto from 'node:crypto';
import type { EntraError } from './entra-errors';
import { decodeJwt, verifySignature, type DecodedJwt } from './jwt';
import type { ClientAuthMethod } from './token-mint';
import { TENANT_DOMAIN, type AppRegistration, type ClientAuthRule } from './state';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Clock skew Entra tolerates on assertion times, in seconds. */
const ASSERTION_SKEW_SECONDS = 300;

export type ClientAuthResult = { ok: true; method: ClientAuthMethod } | { ok: false; error: EntraError };

export interface ClientAuthInput {
  form: Record<string, string>;
  authorization?: string;
  /** Token endpoint URLs an assertion's `aud` may name. */
  audiences: string[];
  /** The client's wall clock in ms (assertions are made by the client's clock, not the tenant's). */
  now: number;
  /** What the grant demands (entra-token's clientAuthRule). */
  rule: ClientAuthRule;
}

const fail = (error: EntraError): ClientAuthResult => ({ ok: false, error });

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
}

function secretsEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export function authenticateClient(app: AppRegistration, input: ClientAuthInput): ClientAuthResult {
  const basic = basicCredentials(input.authorization);
  const clientId = input.form.client_id ?? basic?.id;
  if (!clientId) return fail({ status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'client_id' } });
  if (clientId !== app.clientId) return fail({ status: 400, error: 'unauthorized_client', aadsts: 700016, vars: { clientId, tenant: TENANT_DOMAIN } });
  const secret = input.form.client_secret ?? basic?.secret;
  const assertion = input.form.client_assertion;
  const methods = [secret !== undefined, assertion !== undefined || input.form.client_assertion_type !== undefined].filter(Boolean).length;
  if (methods === 0) {
    const publicOk = input.rule === 'forbidden' || (input.rule === 'optional' && app.allowPublicClient);
    return publicOk ? { ok: true, method: 'none' } : fail({ status: 401, error: 'invalid_client', aadsts: 7000218 });
  }
  if (input.rule === 'forbidden') return fail({ status: 401, error: 'invalid_client', aadsts: 700025 });
  if (methods > 1) {
    return fail({ status: 400, error: 'invalid_request', aadsts: 9002313, text: 'Invalid request. Use exactly one client authentication method: client_secret or client_assertion, not both.' });
  }
  if (secret !== undefined) {
    return secretsEqual(secret, app.secret) ? { ok: true, method: 'secret' } : fail({ status: 401, error: 'invalid_client', aadsts: 7000215, vars: { clientId } });
  }
  return checkAssertion(app, clientId, input);
}

function checkAssertion(app: AppRegistration, clientId: string, input: ClientAuthInput): ClientAuthResult {
  if (input.form.client_assertion_type !== JWT_BEARER) {
    return fail({ status: 400, error: 'invalid_request', aadsts: 9002313, text: `Invalid request. client_assertion_type must be '${JWT_BEARER}'.` });
  }
  const jwt = decodeJwt(input.form.client_assertion ?? '');
  if (!jwt) return fail({ status: 400, error: 'invalid_request', aadsts: 50027 });
  const key = registeredKey(app, jwt);
  const reason = (r: string) => fail({ status: 401, error: 'invalid_client', aadsts: 700027, vars: { reason: `[Reason - ${r}]` } });
  if (!key) return reason(`The key was not found., Thumbprint of key used by client: '${thumbprintHex(jwt)}', Please visit the Azure Portal to see configured keys for app Id '${clientId}'.`);
  if (!verifySignature(jwt, key)) return reason('The provided signature value did not match the expected signature value.');
  const c = jwt.claims;
  if (c.iss !== clientId || c.sub !== clientId) return fail({ status: 401, error: 'invalid_client', aadsts: 700021 });
  if (typeof c.aud !== 'string' || !input.audiences.includes(c.aud)) return reason(`The audience '${String(c.aud)}' is not this token endpoint.`);
  const now = input.now / 1000;
  const exp = typeof c.exp === 'number' ? c.exp : -Infinity;
  const nbf = typeof c.nbf === 'number' ? c.nbf : -Infinity;
  if (exp + ASSERTION_SKEW_SECONDS < now || nbf - ASSERTION_SKEW_SECONDS > now) return fail({ status: 401, error: 'invalid_client', aadsts: 700024 });
  return { ok: true, method: 'certificate' };
}

/** The registered certificate the assertion names: `x5t#S256` (or the deprecated SHA-1 `x5t`). */
function registeredKey(app: AppRegistration, jwt: DecodedJwt): crypto.KeyObject | undefined {
  const s256 = jwt.header['x5t#S256'];
  if (typeof s256 === 'string') return app.certificates.get(`S256:${s256}`);
  const sha1 = jwt.header.x5t;
  return typeof sha1 === 'string' ? app.certificates.get(`SHA1:${sha1}`) : undefined;
}

function thumbprintHex(jwt: DecodedJwt): string {
  const t = jwt.header['x5t#S256'] ?? jwt.header.x5t;
  return typeof t === 'string' ? Buffer.from(t, 'base64url').toString('hex').toUpperCase() : '';
}

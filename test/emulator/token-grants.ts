// The two grants the emulator redeems, as Entra judges them: authorization_code (single use,
// ~10 minute life, same redirect_uri, PKCE S256/plain) and refresh_token (opaque, rotated on
// every use while the old one stays valid until its own inactivity; revocation and expiry by
// the admin API). Both end in one resource's scopes, which the user must have consented to.
import crypto from 'node:crypto';
import { allRedirectUris, isRegisteredRedirect } from './authorize-response';
import type { EntraError } from './entra-errors';
import { fullScopes, isScopeProblem, parseScopes, resourceByUri } from './scopes';
import { TENANT_DOMAIN, type EmulatorState, type User } from './state';

/** RFC 8628 §3.4's grant type for redeeming a device code. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** The short name Entra also accepts, and MSAL sends (msal-common GrantType.DEVICE_CODE_GRANT). */
export const DEVICE_CODE_GRANT_SHORT = 'device_code';
export const isDeviceCodeGrant = (grantType: string | undefined) => grantType === DEVICE_CODE_GRANT || grantType === DEVICE_CODE_GRANT_SHORT;

export interface GrantResult {
  user: User;
  resourceUri: string;
  permissions: string[];
  /** OIDC scopes of the request: openid → id_token, offline_access → refresh_token. */
  oidc: Set<string>;
  nonce?: string;
  /** When the grant began (the sign-in), carried into every refresh token it spawns. */
  grantIssuedAt: number;
  /** What a later refresh without `scope` is for. */
  defaultScope: string;
}

type Form = Record<string, string>;
type Resolved = Omit<GrantResult, 'user' | 'nonce' | 'grantIssuedAt'>;

export function isGrantError(o: object): o is EntraError {
  return 'error' in o;
}

const invalidGrant = (aadsts: number, vars?: Record<string, string>): EntraError => ({ status: 400, error: 'invalid_grant', aadsts, vars });
const missing = (param: string): EntraError => ({ status: 400, error: 'invalid_request', aadsts: 900144, vars: { param } });

/** Exactly one resource's permissions, every one of them consented by (or for) the user. */
export function resolveScope(state: EmulatorState, user: User, scope: string): Resolved | EntraError {
  const parsed = parseScopes(scope);
  if (isScopeProblem(parsed)) {
    return parsed.kind === 'unknown-resource'
      ? { status: 400, error: 'invalid_resource', aadsts: 500011, vars: { resource: parsed.resource, tenant: TENANT_DOMAIN } }
      : { status: 400, error: 'invalid_scope', aadsts: 70011, vars: { scope: parsed.scope } };
  }
  if (parsed.byResource.size > 1) return { status: 400, error: 'invalid_scope', aadsts: 700022, vars: { scope } };
  const [entry] = [...parsed.byResource];
  if (!entry) return { status: 400, error: 'invalid_scope', aadsts: 70011, vars: { scope } };
  const [resourceUri, names] = entry;
  if (!fullScopes(resourceUri, names).every((s) => state.isGranted(user, s))) {
    return invalidGrant(65001, { clientId: state.app.clientId, appName: state.app.displayName });
  }
  // Like Entra, the token carries every permission granted for the resource, not only those asked.
  const known = Object.keys(resourceByUri(resourceUri)?.permissions ?? {});
  const granted = known.filter((n) => state.isGranted(user, `${resourceUri}/${n}`));
  return { resourceUri, permissions: granted, oidc: parsed.oidc, defaultScope: fullScopes(resourceUri, names).join(' ') };
}

function pkceMatches(challenge: string, method: 'S256' | 'plain' | undefined, verifier: string): boolean {
  const computed = method === 'S256' ? crypto.createHash('sha256').update(verifier).digest('base64url') : verifier;
  return computed.length === challenge.length && crypto.timingSafeEqual(Buffer.from(computed), Buffer.from(challenge));
}

export function redeemCode(state: EmulatorState, form: Form): GrantResult | EntraError {
  if (!form.code) return missing('code');
  const rec = state.codes.get(form.code);
  if (!rec) return invalidGrant(70000);
  if (rec.used) return invalidGrant(54005);
  if (state.clock.now() - rec.issuedAt > state.lifetimes.codeSeconds * 1000) return invalidGrant(70008);
  if (!form.redirect_uri) return missing('redirect_uri');
  if (form.redirect_uri !== rec.request.redirectUri) {
    const vars = { redirectUri: form.redirect_uri, clientId: state.app.clientId };
    return isRegisteredRedirect(allRedirectUris(state.app), form.redirect_uri) ? invalidGrant(70004, vars) : { status: 400, error: 'invalid_request', aadsts: 50011, vars };
  }
  const { codeChallenge, codeChallengeMethod } = rec.request;
  if (codeChallenge !== undefined && !pkceMatches(codeChallenge, codeChallengeMethod, form.code_verifier ?? '')) return invalidGrant(501481);
  const user = state.findUser(rec.username);
  if (!user) return invalidGrant(70000);
  const resolved = resolveScope(state, user, form.scope ?? rec.request.scope);
  if (isGrantError(resolved)) return resolved;
  rec.used = true;
  return { ...resolved, user, nonce: rec.request.nonce, grantIssuedAt: rec.issuedAt };
}

/** .NET TimeSpan text ("90.00:00:00"), as Entra prints an inactivity window. */
function timeSpan(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const pad = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${d}.${pad(h)}:${pad(m)}:${pad(Math.floor(seconds % 60))}`;
}

const isoTicks = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

export function redeemRefreshToken(state: EmulatorState, form: Form): GrantResult | EntraError {
  if (!form.refresh_token) return missing('refresh_token');
  const rec = state.refreshTokens.get(form.refresh_token);
  if (!rec) return invalidGrant(9002313);
  const user = state.findUser(rec.username);
  if (!user) return invalidGrant(9002313);
  const now = state.clock.now();
  if (rec.grantIssuedAt < user.tokensValidFrom) {
    return invalidGrant(50173, { issued: isoTicks(rec.grantIssuedAt), validFrom: isoTicks(user.tokensValidFrom) });
  }
  const inactivity = state.lifetimes.refreshTokenInactivitySeconds;
  if (rec.expired || now - rec.lastUsedAt > inactivity * 1000) {
    return invalidGrant(700082, { issued: isoTicks(rec.grantIssuedAt), inactive: timeSpan(rec.expired ? inactivity : Math.floor((now - rec.lastUsedAt) / 1000)) });
  }
  const resolved = resolveScope(state, user, form.scope ?? rec.defaultScope);
  if (isGrantError(resolved)) return resolved;
  rec.lastUsedAt = now;
  return { ...resolved, user, grantIssuedAt: rec.grantIssuedAt };
}

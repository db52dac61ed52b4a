// Bearer-token checks shared by EWS and Graph: a token this tenant signed, for the expected
// audience, not expired by the emulator's clock, naming a known user. Each failure says why,
// so EWS and Graph can each answer in their own words (x-ms-diagnostics, Graph error JSON).
import { decodeJwt, verifySignature, type JwtClaims } from './jwt';
import { TENANT_ID, type EmulatorState, type User } from './state';

export type BearerFailure =
  | { kind: 'missing' }
  | { kind: 'malformed' }
  | { kind: 'signature' }
  | { kind: 'audience'; aud: string }
  | { kind: 'expired'; exp: number }
  | { kind: 'unknown-user'; upn: string };

export type BearerResult = { ok: true; user: User; claims: JwtClaims } | { ok: false; failure: BearerFailure };

const fail = (failure: BearerFailure): BearerResult => ({ ok: false, failure });

export function validateBearer(state: EmulatorState, authorization: string | undefined, audience: string): BearerResult {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return fail({ kind: 'missing' });
  const jwt = decodeJwt(m[1] as string);
  if (!jwt) return fail({ kind: 'malformed' });
  if (jwt.header.alg !== 'RS256' || jwt.header.kid !== state.signingKey.kid || !verifySignature(jwt, state.signingKey.publicKey)) {
    return fail({ kind: 'signature' });
  }
  const c = jwt.claims;
  if (c.tid !== TENANT_ID) return fail({ kind: 'signature' });
  if (c.aud !== audience) return fail({ kind: 'audience', aud: String(c.aud) });
  const exp = typeof c.exp === 'number' ? c.exp : 0;
  if (exp * 1000 <= state.clock.now()) return fail({ kind: 'expired', exp });
  const upn = typeof c.upn === 'string' ? c.upn : '';
  const user = state.findUser(upn);
  if (!user) return fail({ kind: 'unknown-user', upn });
  return { ok: true, user, claims: c };
}

/** The token's delegated permissions (`scp`, space separated). */
export function permissionsOf(claims: JwtClaims): string[] {
  return typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
}

// Mints the tokens a successful token request returns: a v1-style access token for the
// resource (as Exchange Online and Graph receive them: iss https://sts.windows.net/<tid>/,
// ver 1.0, upn/unique_name, scp), a v2 id token for the app, and client_info for MSAL.
import crypto from 'node:crypto';
import { signJwt } from './jwt';
import { TENANT_ID, type EmulatorState, type User } from './state';
import { v2Issuer } from './entra-metadata';

/** Entra's id tokens live one hour. */
const ID_TOKEN_SECONDS = 3600;

/** How the client proved itself: 'none' for a public client (appidacr 0). */
export type ClientAuthMethod = 'none' | 'secret' | 'certificate';

export interface MintRequest {
  user: User;
  resourceUri: string;
  /** Permission names (short form) the access token carries in `scp`. */
  permissions: string[];
  nonce?: string;
  clientAuth: ClientAuthMethod;
  /** When the user signed in (the grant's start), for auth_time-like claims. */
  authTime: number;
}

export interface MintedTokens {
  accessToken: string;
  idToken: string;
  expiresIn: number;
  clientInfo: string;
}

const v1Issuer = () => `https://sts.windows.net/${TENANT_ID}/`;

/** A per-app subject, like Entra's pairwise `sub`. */
function pairwiseSub(oid: string, clientId: string): string {
  return crypto.createHash('sha256').update(`${oid}|${clientId}`).digest('base64url').slice(0, 43);
}

const randomId = () => crypto.randomBytes(16).toString('base64url');

interface Stamp {
  now: number;
  sid: string;
}

/** A v1 access token's claims, as Exchange Online and Graph receive them. */
function accessClaims(state: EmulatorState, req: MintRequest, t: Stamp, expiresIn: number): Record<string, unknown> {
  const { user } = req;
  const [given, ...rest] = user.name.split(' ');
  return {
    aud: req.resourceUri,
    iss: v1Issuer(),
    iat: t.now,
    nbf: t.now,
    exp: t.now + expiresIn,
    acr: '1',
    aio: randomId(),
    amr: ['pwd'],
    app_displayname: state.app.displayName,
    appid: state.app.clientId,
    appidacr: { none: '0', secret: '1', certificate: '2' }[req.clientAuth],
    family_name: rest.join(' ') || undefined,
    given_name: given,
    idtyp: 'user',
    ipaddr: '127.0.0.1',
    name: user.name,
    oid: user.oid,
    rh: randomId(),
    scp: req.permissions.join(' '),
    sid: t.sid,
    sub: pairwiseSub(user.oid, req.resourceUri),
    tid: TENANT_ID,
    unique_name: user.username,
    upn: user.username,
    uti: randomId(),
    ver: '1.0',
  };
}

/** A v2 id token's claims, for the app. */
function idClaims(state: EmulatorState, baseUrl: string, req: MintRequest, t: Stamp): Record<string, unknown> {
  const { user } = req;
  const claims: Record<string, unknown> = {
    aud: state.app.clientId,
    iss: v2Issuer(baseUrl),
    iat: t.now,
    nbf: t.now,
    exp: t.now + ID_TOKEN_SECONDS,
    name: user.name,
    oid: user.oid,
    preferred_username: user.username,
    rh: randomId(),
    sid: t.sid,
    sub: pairwiseSub(user.oid, state.app.clientId),
    tid: TENANT_ID,
    uti: randomId(),
    ver: '2.0',
  };
  if (req.nonce !== undefined) claims.nonce = req.nonce;
  return claims;
}

export function mintTokens(state: EmulatorState, baseUrl: string, req: MintRequest): MintedTokens {
  const expiresIn = state.accessTokenSeconds();
  const stamp: Stamp = {
    now: Math.floor(state.clock.now() / 1000),
    sid: crypto.createHash('sha256').update(`${req.user.oid}|${req.authTime}`).digest('hex').slice(0, 32),
  };
  const header = { typ: 'JWT', x5t: state.signingKey.kid, kid: state.signingKey.kid };
  return {
    accessToken: signJwt(header, accessClaims(state, req, stamp, expiresIn), state.signingKey.privateKey),
    idToken: signJwt(header, idClaims(state, baseUrl, req, stamp), state.signingKey.privateKey),
    expiresIn,
    clientInfo: clientInfo(req.user.oid),
  };
}

/** base64url of {"uid","utid"}: what MSAL builds the home account id from. */
export function clientInfo(oid: string): string {
  return Buffer.from(JSON.stringify({ uid: oid, utid: TENANT_ID }), 'utf8').toString('base64url');
}

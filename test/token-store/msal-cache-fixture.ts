// A token cache in msal-node 7's serialized shape (see msal-node src/cache/serializer/
// SerializerTypes.ts and CacheHelpers.ts for keys), as the daemon's cache file holds it.
// Secrets here are made up: unsigned JWTs and random strings.

export interface FixtureAccount {
  uid: string;
  utid: string;
  username: string;
  name: string;
}

export interface FixtureOptions {
  clientId: string;
  accounts: FixtureAccount[];
  /** The authority host the tokens were issued by (default login.microsoftonline.com). */
  environment?: string;
  /** Seconds since the epoch: cached_at; expires_on is an hour later. */
  nowSec: number;
  /** Access tokens per account, each for a different scope (default 1). */
  accessTokensPerAccount?: number;
  /** Length of each access token's secret (default 1,200 characters, like Entra's). */
  secretLength?: number;
  /** Fills the secrets, so two caches made with different seeds differ everywhere. */
  seed?: string;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256' }))}.${b64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
}

export function makeCacheJson(opts: FixtureOptions): string {
  const env = opts.environment ?? 'login.microsoftonline.com';
  const cache = { Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: {}, AppMetadata: {} } as Record<string, Record<string, unknown>>;
  for (const a of opts.accounts) addAccount(cache, opts, env, a);
  cache.AppMetadata![`appmetadata-${env}-${opts.clientId}`] = { client_id: opts.clientId, environment: env };
  return JSON.stringify(cache);
}

function addAccount(cache: Record<string, Record<string, unknown>>, opts: FixtureOptions, env: string, a: FixtureAccount): void {
  const home = `${a.uid}.${a.utid}`;
  const base = { home_account_id: home, environment: env, client_id: opts.clientId };
  cache.Account![`${home}-${env}-${a.utid}`.toLowerCase()] = {
    home_account_id: home,
    environment: env,
    realm: a.utid,
    local_account_id: a.uid,
    username: a.username,
    authority_type: 'MSSTS',
    name: a.name,
    client_info: b64url(JSON.stringify({ uid: a.uid, utid: a.utid })),
    tenantProfiles: [JSON.stringify({ tenantId: a.utid, localAccountId: a.uid, name: a.name, isHomeTenant: true })],
  };
  const idClaims = { aud: opts.clientId, iss: `https://${env}/${a.utid}/v2.0`, iat: opts.nowSec, exp: opts.nowSec + 3600, oid: a.uid, tid: a.utid, preferred_username: a.username, name: a.name };
  cache.IdToken![`${home}-${env}-idtoken-${opts.clientId}-${a.utid}--`.toLowerCase()] = { ...base, credential_type: 'IdToken', realm: a.utid, secret: fakeJwt(idClaims) };
  const count = opts.accessTokensPerAccount ?? 1;
  for (let i = 0; i < count; i++) {
    const target = i === 0 ? 'https://outlook.office365.com/EWS.AccessAsUser.All' : `https://example.test/scope${i}/.default`;
    cache.AccessToken![`${home}-${env}-accesstoken-${opts.clientId}-${a.utid}-${target}-`.toLowerCase()] = {
      ...base,
      credential_type: 'AccessToken',
      realm: a.utid,
      target,
      secret: filler(`${opts.seed ?? 'at'}:${a.uid}:${i}`, opts.secretLength ?? 1200),
      cached_at: String(opts.nowSec),
      expires_on: String(opts.nowSec + 3600),
      extended_expires_on: String(opts.nowSec + 7200),
      token_type: 'Bearer',
    };
  }
  cache.RefreshToken![`${home}-${env}-refreshtoken-${opts.clientId}---`.toLowerCase()] = {
    ...base,
    credential_type: 'RefreshToken',
    secret: filler(`${opts.seed ?? 'rt'}:${a.uid}:rt`, 800),
  };
}

/** Deterministic filler text of `length` characters drawn from `seed`. */
export function filler(seed: string, length: number): string {
  let out = '';
  let x = 0;
  for (const ch of seed) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  while (out.length < length) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out += alphabet[x >>> 26];
  }
  return out;
}

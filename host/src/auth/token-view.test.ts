import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { TokenEntry } from '../../../shared/protocol';
import { viewTokenCache } from './token-view';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64({ typ: 'JWT', alg: 'RS256', kid: 'k1' })}.${b64(claims)}.c2lnbmF0dXJl`;

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const ALICE = 'uid-a.utid-1';
const BOB = 'uid-b.utid-1';
const ENV = 'login.microsoftonline.com';
const CLIENT = '11111111-2222-3333-4444-555555555555';

const ID_TOKEN = jwt({ aud: CLIENT, name: 'Alice', preferred_username: 'alice@contoso.example', nonce: 'n' });
const EWS_TOKEN = jwt({ aud: 'https://outlook.office365.com', scp: 'EWS.AccessAsUser.All', upn: 'alice@contoso.example' });
const GRAPH_TOKEN = 'EwBwA8l6BAAU-opaque-graph-token';
const REFRESH_TOKEN = '1.AXoA-opaque-refresh-token-secret';
const BOB_REFRESH = '1.AXoA-bob-refresh-token-secret';

function cacheJson(): string {
  const ewsTarget = 'https://outlook.office365.com/EWS.AccessAsUser.All';
  const base = (home: string) => ({ home_account_id: home, environment: ENV, client_id: CLIENT, realm: 'utid-1' });
  return JSON.stringify({
    Account: {
      [`${ALICE}-${ENV}-utid-1`]: { home_account_id: ALICE, environment: ENV, realm: 'utid-1', local_account_id: 'uid-a', username: 'alice@contoso.example', authority_type: 'MSSTS', name: 'Alice' },
      [`${BOB}-${ENV}-utid-1`]: { home_account_id: BOB, environment: ENV, realm: 'utid-1', local_account_id: 'uid-b', username: 'bob@contoso.example', authority_type: 'MSSTS' },
    },
    IdToken: { [`${ALICE}-${ENV}-idtoken-${CLIENT}-utid-1---`]: { ...base(ALICE), credential_type: 'IdToken', secret: ID_TOKEN } },
    AccessToken: {
      [`${ALICE}-${ENV}-accesstoken-${CLIENT}-utid-1-${ewsTarget.toLowerCase()}--`]: {
        ...base(ALICE), credential_type: 'AccessToken', secret: EWS_TOKEN, target: `${ewsTarget} openid profile`, cached_at: String(NOW / 1000 - 600), expires_on: String(NOW / 1000 + 3000), extended_expires_on: String(NOW / 1000 + 6000), refresh_on: String(NOW / 1000 + 1200), token_type: 'Bearer',
      },
      // A key that (wrongly) carries a token string: the viewer must not pass it on.
      [`${ALICE}-${ENV}-accesstoken-${CLIENT}-utid-1-${GRAPH_TOKEN}`]: {
        ...base(ALICE), credential_type: 'AccessToken', secret: GRAPH_TOKEN, target: 'https://graph.microsoft.com/Mail.ReadBasic', cached_at: String(NOW / 1000 - 7200), expires_on: String(NOW / 1000 - 60),
      },
    },
    RefreshToken: {
      [`${ALICE}-${ENV}-refreshtoken-${CLIENT}----`]: { home_account_id: ALICE, environment: ENV, credential_type: 'RefreshToken', client_id: CLIENT, secret: REFRESH_TOKEN },
      [`${BOB}-${ENV}-refreshtoken-${CLIENT}----`]: { home_account_id: BOB, environment: ENV, credential_type: 'RefreshToken', client_id: CLIENT, secret: BOB_REFRESH },
    },
    AppMetadata: { [`appmetadata-${ENV}-${CLIENT}`]: { client_id: CLIENT, environment: ENV } },
  });
}

const opts = { now: NOW, inactivityMs: 90 * DAY, refreshTokenLastUsed: (id: string) => (id === ALICE ? NOW - DAY : undefined) };

describe('viewTokenCache', () => {
  it('never lets a token string out, whole or inside a key', () => {
    const out = JSON.stringify(viewTokenCache(cacheJson(), opts));
    for (const secret of [ID_TOKEN, EWS_TOKEN, GRAPH_TOKEN, REFRESH_TOKEN, BOB_REFRESH]) expect(out).not.toContain(secret);
    expect(out).not.toContain('c2lnbmF0dXJl'); // the JWT signature
  });

  it('lists every entity with its kind, in cache order, as the protocol’s TokenEntry', () => {
    const entries = viewTokenCache(cacheJson(), opts);
    expect(entries.map((e) => e.kind)).toEqual(['account', 'account', 'id-token', 'access-token', 'access-token', 'refresh-token', 'refresh-token', 'app-metadata']);
    for (const e of entries) expect(TokenEntry.parse(e)).toEqual(e);
  });

  it('decodes an access token and converts MSAL’s seconds to milliseconds', () => {
    const ews = viewTokenCache(cacheJson(), opts).find((e) => e.kind === 'access-token' && e.jwt);
    expect(ews).toMatchObject({
      homeAccountId: ALICE,
      username: 'alice@contoso.example',
      environment: ENV,
      realm: 'utid-1',
      clientId: CLIENT,
      scopes: ['https://outlook.office365.com/EWS.AccessAsUser.All', 'openid', 'profile'],
      cachedAt: NOW - 600_000,
      expiresOn: NOW + 3_000_000,
      extendedExpiresOn: NOW + 6_000_000,
      refreshOn: NOW + 1_200_000,
      jwt: { header: { alg: 'RS256', kid: 'k1' }, claims: { aud: 'https://outlook.office365.com', scp: 'EWS.AccessAsUser.All' } },
    });
  });

  it('marks an opaque access token as such, without a jwt', () => {
    const graph = viewTokenCache(cacheJson(), opts).find((e) => e.kind === 'access-token' && !e.jwt);
    expect(graph?.jwt).toBeNull();
    expect(graph?.note).toMatch(/opaque/);
    expect(graph?.key).toContain('[token]');
  });

  it('shows refresh tokens as opaque, with when inactivity ends them', () => {
    const [alice, bob] = viewTokenCache(cacheJson(), opts).filter((e) => e.kind === 'refresh-token');
    expect(alice).toMatchObject({ username: 'alice@contoso.example', jwt: null, note: 'refresh tokens are opaque and never shown', lapsesAt: NOW - DAY + 90 * DAY });
    expect(bob?.lapsesAt).toBeUndefined();
  });

  it.each([
    ['a username in another case', 'ALICE@contoso.example'],
    ['a homeAccountId', ALICE],
  ])('keeps only one account’s entries when filtered by %s', (_how, account) => {
    const entries = viewTokenCache(cacheJson(), { ...opts, account });
    expect(entries.length).toBe(5);
    expect(entries.every((e) => e.homeAccountId === ALICE)).toBe(true);
  });

  it('returns nothing for an empty cache file', () => {
    expect(viewTokenCache('', opts)).toEqual([]);
    expect(viewTokenCache('{}', opts)).toEqual([]);
  });

  it('refuses a cache that is not JSON without quoting it', () => {
    const broken = `{"RefreshToken": {"k": {"secret": "${REFRESH_TOKEN}"`;
    expect(() => viewTokenCache(broken, opts)).toThrow(AppError);
    try {
      viewTokenCache(broken, opts);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(REFRESH_TOKEN);
    }
  });
});

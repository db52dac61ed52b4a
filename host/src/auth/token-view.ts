// The token viewer: MSAL's serialized cache (msal-node JsonCache) turned into TokenEntry rows.
// Pure. Guarantees: no token string (`secret`) leaves this module, neither whole nor inside a
// key; JWTs appear only as decoded header and claims; refresh tokens are never decoded.
import { AppError } from '../../../shared/errors';
import type { TokenEntry } from '../../../shared/protocol';
import { decodeJwt } from './jwt-view';

export interface TokenViewOptions {
  now: number;
  /** When the account's refresh token was last used (ms), if the daemon knows. */
  refreshTokenLastUsed?: (homeAccountId: string) => number | undefined;
  /** How long an unused refresh token lives (Entra: 90 days). */
  inactivityMs: number;
  /** Only this account: its username (case-insensitive) or homeAccountId. */
  account?: string;
}

type Entity = Record<string, unknown>;
type Kind = TokenEntry['kind'];

/** MSAL's top-level sections, in the order the viewer lists them. */
const SECTIONS: [section: string, kind: Kind][] = [
  ['Account', 'account'],
  ['IdToken', 'id-token'],
  ['AccessToken', 'access-token'],
  ['RefreshToken', 'refresh-token'],
  ['AppMetadata', 'app-metadata'],
];

export function viewTokenCache(cacheJson: string, opts: TokenViewOptions): TokenEntry[] {
  const cache = parseCache(cacheJson);
  const secrets = collectSecrets(cache);
  const usernames = usernamesByAccount(cache);
  const entries: TokenEntry[] = [];
  for (const [section, kind] of SECTIONS) {
    for (const [key, entity] of Object.entries(sectionOf(cache, section))) {
      entries.push(toEntry(kind, scrubKey(key, secrets), entity, usernames, opts));
    }
  }
  return opts.account === undefined ? entries : entries.filter((e) => belongsTo(e, opts.account ?? ''));
}

function toEntry(kind: Kind, key: string, entity: Entity, usernames: Map<string, string>, opts: TokenViewOptions): TokenEntry {
  const homeAccountId = str(entity.home_account_id);
  const entry: TokenEntry = {
    kind,
    key,
    homeAccountId,
    username: str(entity.username) ?? (homeAccountId ? usernames.get(homeAccountId) : undefined),
    environment: str(entity.environment),
    realm: str(entity.realm),
    clientId: str(entity.client_id),
  };
  const target = str(entity.target);
  if (target) entry.scopes = target.split(' ').filter(Boolean);
  if (kind === 'id-token' || kind === 'access-token') describeJwt(entry, entity, opts.now);
  if (kind === 'refresh-token') describeRefreshToken(entry, homeAccountId, opts);
  return dropUndefined(entry);
}

function describeJwt(entry: TokenEntry, entity: Entity, now: number): void {
  entry.cachedAt = secondsToMs(entity.cached_at);
  entry.expiresOn = secondsToMs(entity.expires_on);
  entry.extendedExpiresOn = secondsToMs(entity.extended_expires_on);
  entry.refreshOn = secondsToMs(entity.refresh_on);
  const secret = str(entity.secret);
  entry.jwt = secret ? decodeJwt(secret) : null;
  if (!entry.jwt) entry.note = 'opaque or encrypted token: only the service it is for can read it';
  else if (entry.expiresOn !== undefined && entry.expiresOn <= now) entry.note = 'expired: the daemon gets a new one when it needs one';
}

function describeRefreshToken(entry: TokenEntry, homeAccountId: string | undefined, opts: TokenViewOptions): void {
  entry.jwt = null;
  entry.note = 'refresh tokens are opaque and never shown';
  const lastUsed = homeAccountId ? opts.refreshTokenLastUsed?.(homeAccountId) : undefined;
  if (lastUsed !== undefined) entry.lapsesAt = lastUsed + opts.inactivityMs;
}

function belongsTo(entry: TokenEntry, account: string): boolean {
  return entry.homeAccountId === account || entry.username?.toLowerCase() === account.toLowerCase();
}

function parseCache(cacheJson: string): Entity {
  let cache: unknown;
  try {
    cache = cacheJson.trim() === '' ? {} : JSON.parse(cacheJson);
  } catch {
    // Never quote the parser's message: it may quote the cache, tokens included.
    throw new AppError('internal', 'The token cache is not valid JSON.', { advice: 'Sign out and in again (`ews-daemon logout`, then `ews-daemon consent`) to rewrite it.', retryable: false });
  }
  return isEntity(cache) ? cache : {};
}

function sectionOf(cache: Entity, section: string): Record<string, Entity> {
  const value = cache[section];
  if (!isEntity(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((pair): pair is [string, Entity] => isEntity(pair[1])));
}

function usernamesByAccount(cache: Entity): Map<string, string> {
  const map = new Map<string, string>();
  for (const account of Object.values(sectionOf(cache, 'Account'))) {
    const id = str(account.home_account_id);
    const username = str(account.username);
    if (id && username) map.set(id, username);
  }
  return map;
}

/** Every token string in the cache, so that no key can carry one out. */
function collectSecrets(cache: Entity): string[] {
  return SECTIONS.flatMap(([section]) => Object.values(sectionOf(cache, section)).map((e) => str(e.secret))).filter((s): s is string => !!s);
}

function scrubKey(key: string, secrets: string[]): string {
  return secrets.reduce((k, secret) => k.split(secret).join('[token]'), key);
}

function secondsToMs(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n * 1000 : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isEntity(value: unknown): value is Entity {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dropUndefined(entry: TokenEntry): TokenEntry {
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as TokenEntry;
}

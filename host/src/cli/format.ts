// Human output of the CLI: what a person reads at a glance. Pure: results and `now` in, lines out.
// Text from outside is quoted as it came; main.ts strips terminal controls from every line it
// writes (cli/terminal-text.ts), so no formatter needs to.
import type { AccountStatus, ClientInfo, ErrorInfo, GrantState, InboxCount, StatusResult, TokenEntry, TokensViewResult } from '../../../shared/protocol';
import { formatCacheKey } from './format-cache-key';

const BACKEND_NAME = { ews: 'EWS', graph: 'Microsoft Graph' } as const;

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "2 s", "41 min", "3 h 5 min", "12 days": a span at the precision a person needs. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.round(h / 24)} days`;
}

export function formatAgo(at: number, now: number): string {
  return `${formatSpan(now - at)} ago`;
}

export function formatIn(at: number, now: number): string {
  return at <= now ? `${formatSpan(now - at)} ago` : `in ${formatSpan(at - now)}`;
}

function date(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export function formatInboxLine(count: InboxCount, now: number, account?: AccountStatus): string {
  const base = `${count.account}  Inbox ${formatCount(count.total)} items (${formatCount(count.unread)} unread) via ${BACKEND_NAME[count.backend]}, fetched ${formatAgo(count.fetchedAt, now)}`;
  const renew = account?.nextRefreshAt;
  return renew ? `${base}; token renews ${formatIn(renew, now)}` : base;
}

/** The line a count older than asked gets (the server asked to wait: no newer one until then). */
export function staleLines(count: InboxCount): string[] {
  if (!count.stale) return [];
  return [`  (older than asked: the mail server asked to wait until ${new Date(count.stale.retryAt).toISOString().slice(11, 19)} UTC; a newer count comes after that)`];
}

const STATE_WORDS: Record<GrantState['kind'], string> = {
  'signed-in': 'signed in',
  refreshing: 'renewing its token',
  retrying: 'retrying a failed renewal',
  'needs-consent': 'NEEDS SIGN-IN',
};

const REALTIME_WORDS = { streaming: 'pushed (EWS streaming)', polling: 'polled', off: 'fetched when asked' } as const;

export function formatError(e: Pick<ErrorInfo, 'code' | 'message' | 'advice' | 'aadsts' | 'link'>): string {
  const aadsts = e.aadsts ? ` (AADSTS${e.aadsts})` : '';
  const link = e.link ? `\n  ${e.link}` : '';
  return `${e.message}${aadsts}\n  ${e.advice}${link}`;
}

export function formatAccount(a: AccountStatus, now: number): string[] {
  const lines = [`${a.username}  ${STATE_WORDS[a.state.kind]}`];
  if (a.inbox) lines[0] += ` · Inbox ${formatCount(a.inbox.total)} items (${formatCount(a.inbox.unread)} unread), fetched ${formatAgo(a.inbox.fetchedAt, now)}`;
  if (a.inbox) lines.push(...staleLines(a.inbox));
  lines.push(`  backend: ${BACKEND_NAME[a.backend.active]}. ${a.backend.reason}`);
  if (a.realtime) lines.push(`  counts: ${REALTIME_WORDS[a.realtime.kind]} since ${formatAgo(a.realtime.since, now)}: ${a.realtime.reason}`);
  const token = a.accessTokens[0];
  const parts = [token ? `expires ${formatIn(token.expiresOn, now)}` : 'no access token yet'];
  if (a.nextRefreshAt) parts.push(`renews ${formatIn(a.nextRefreshAt, now)}`);
  if (a.lastRefreshAt) parts.push(`last refresh ${formatAgo(a.lastRefreshAt, now)}`);
  lines.push(`  token: ${parts.join(', ')}`);
  if (a.refreshTokenLapsesAt) lines.push(`  refresh token lapses ${date(a.refreshTokenLapsesAt)} if unused (renewed at each refresh)`);
  if (a.state.kind === 'retrying') lines.push(`  next attempt ${formatIn(a.state.nextAttemptAt, now)} (attempt ${a.state.attempt})`);
  // The daemon's lastError is the one to show: the state's own while it fails (PROTOCOL.md).
  if (a.lastError) lines.push(`  last error: ${formatError(a.lastError).replace(/\n/g, '\n  ')}`);
  return lines;
}

const CREDENTIAL_WORDS = { none: 'no secret: PKCE alone', secret: 'with a client secret', certificate: 'with a certificate' } as const;

export function formatClient(c: ClientInfo): string {
  return `app ${c.clientId}: a ${c.kind} client (${CREDENTIAL_WORDS[c.credential]})`;
}

export function formatStatus(s: StatusResult, now: number): string[] {
  const d = s.daemon;
  const lines = [`ews-daemon ${d.version}, pid ${d.pid}, up ${formatSpan(now - d.startedAt)}; config ${d.configPath}`];
  if (s.client) lines.push(formatClient(s.client));
  if (s.accounts.length === 0) lines.push('Nobody is signed in: run `ews-daemon consent`, or click Sign in in the extension popup.');
  for (const a of s.accounts) lines.push(...formatAccount(a, now));
  if (s.pendingConsents > 0) lines.push(`${s.pendingConsents} sign-in(s) waiting for the browser.`);
  lines.push(...formatCacheKey(s.cacheKey));
  return lines;
}

function entryTitle(e: TokenEntry): string {
  const who = e.username ?? e.homeAccountId ?? '';
  const scopes = e.scopes?.length ? ` [${e.scopes.join(' ')}]` : '';
  return `${e.kind} ${who}${scopes}`.trim();
}

export function formatTokens(v: TokensViewResult, now: number): string[] {
  const lines = [`Token cache ${v.cachePath}: ${v.entries.length} entries (token strings are never shown)`, ...formatCacheKey(v.cacheKey)];
  for (const e of v.entries) {
    lines.push('', entryTitle(e));
    const times: [string, number | undefined][] = [['cached', e.cachedAt], ['expires', e.expiresOn], ['refresh on', e.refreshOn], ['lapses if unused', e.lapsesAt]];
    for (const [label, at] of times) if (at) lines.push(`  ${label}: ${new Date(at).toISOString()} (${formatIn(at, now)})`);
    if (e.note) lines.push(`  ${e.note}`);
    if (e.jwt) {
      lines.push(`  header: ${JSON.stringify(e.jwt.header)}`);
      lines.push(...JSON.stringify(e.jwt.claims, null, 2).split('\n').map((l, i) => (i === 0 ? `  claims: ${l}` : `  ${l}`)));
    }
  }
  return lines;
}

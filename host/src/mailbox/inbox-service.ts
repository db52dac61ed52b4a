// The Inbox count for an account, with the policies around the backends: concurrent callers
// share one request, a count younger than the caller's maxAgeMs comes from memory, a 401 gets
// one forced token refresh and one retry, a server's back-off is honoured without asking again
// (a count older than the caller's maxAgeMs served meanwhile says so: `stale`, or the
// `throttled` error for a caller that passed allowStale: false), and in auto mode an EWS that
// Exchange turned off hands over to Graph, remembered across restarts and re-checked daily.
import { randomUUID } from 'node:crypto';
import { AppError, isAppError } from '../../../shared/errors';
import type { Backend, BackendStatus, InboxCount } from '../../../shared/protocol';
import type { Config } from '../config/config';
import type { Clock, Http, Log } from '../deps';
import type { AcquiredToken } from '../auth/token-source';
import type { BackendMemory } from './backend-memory';
import { fetchInboxViaEws } from './ews-client';
import { fetchInboxViaGraph } from './graph-client';

/** Counts younger than this are served from memory when the caller doesn't say (30 s). */
export const DEFAULT_MAX_AGE_MS = 30_000;
/** After EWS was found turned off, try it again once a day: an admin may allow the app. */
export const EWS_RECHECK_MS = 24 * 60 * 60_000;
/** A busy server that gave no delay is left alone this long (EWS' own back-offs run to minutes). */
export const DEFAULT_BUSY_MS = 60_000;
/** An unchanged count is saved again after this long, so a restart shows a recent fetch time (5 min). */
export const PERSIST_STALE_MS = 5 * 60_000;
/** EWS is off for good in Exchange Online from this date (sources in docs/platform-notes.md, "Retirement"). */
export const EWS_RETIREMENT = '2027-04-01';

export interface MailboxAccount {
  id: string;
  username: string;
}

export interface InboxServiceDeps {
  clock: Clock;
  log: Log;
  http: Http;
  config: Config;
  tokens: { getToken(accountId: string, resource: Backend, opts?: { forceRefresh?: boolean }): Promise<AcquiredToken> };
  records: BackendMemory;
  /** A fresh count was fetched. */
  onCount(accountId: string, count: InboxCount): void;
  /** The backend that answers for this account changed. */
  onBackendChange(accountId: string, backend: Backend): void;
}

type Counts = { total: number; unread: number };

export class InboxService {
  private readonly inflight = new Map<string, Promise<InboxCount>>();
  private readonly following = new Map<string, Promise<InboxCount>>();
  private readonly busyUntil = new Map<string, number>();
  private readonly latest = new Map<string, InboxCount>();

  constructor(private readonly deps: InboxServiceDeps) {}

  last(accountId: string): InboxCount | null {
    return this.latest.get(accountId) ?? this.deps.records.get(accountId).inbox;
  }

  /** The newest count as status shows it: marked stale while the server asks to wait, so no newer one can be had. */
  shown(accountId: string): InboxCount | null {
    const cached = this.last(accountId);
    const busy = this.busyUntil.get(accountId) ?? 0;
    return cached && busy > this.deps.clock.now() ? { ...cached, stale: { reason: 'throttled', retryAt: busy } } : cached;
  }

  /**
   * The newest count if younger than maxAgeMs, else a fetch (shared with concurrent callers).
   * During a server's back-off no fetch is made: the newest count comes back marked `stale`
   * (it is older than this caller asked for), or, with allowStale false, the `throttled` error.
   */
  async count(account: MailboxAccount, maxAgeMs = DEFAULT_MAX_AGE_MS, opts: { allowStale?: boolean } = {}): Promise<InboxCount> {
    const cached = this.last(account.id);
    // Strictly younger: maxAgeMs 0 always fetches, even within the millisecond of the last fetch.
    if (cached && this.deps.clock.now() - cached.fetchedAt < maxAgeMs) return cached;
    let pending = this.inflight.get(account.id);
    if (!pending) {
      pending = this.fetch(account).finally(() => this.inflight.delete(account.id));
      this.inflight.set(account.id, pending);
    }
    const count = await pending;
    if (count.stale && opts.allowStale === false) throw throttledError(count.stale.retryAt - this.deps.clock.now());
    return count;
  }

  /**
   * A count whose request starts after this call (a change was just announced): one in flight
   * may have been answered before the change, so it is waited for and one more fetch follows,
   * shared by every caller who arrives meanwhile.
   */
  countAfterNow(account: MailboxAccount): Promise<InboxCount> {
    const running = this.inflight.get(account.id);
    if (!running) return this.count(account, 0);
    let next = this.following.get(account.id);
    if (!next) {
      next = running.catch(() => undefined).then(() => this.count(account, 0)).finally(() => this.following.delete(account.id));
      this.following.set(account.id, next);
    }
    return next;
  }

  /** Drops what is held for an account that signed out. */
  forget(accountId: string): void {
    this.latest.delete(accountId);
    this.busyUntil.delete(accountId);
  }

  /** The backend that answers now for this account, and why, in words for status lines. */
  backend(accountId: string): BackendStatus {
    const configured = this.deps.config.backend;
    const r = this.deps.records.get(accountId);
    const active = this.choose(accountId);
    return { configured, active, reason: backendReason(configured, active, r.ewsDisabledAt, r.ewsRecheckAt), ewsDisabledAt: r.ewsDisabledAt, ewsRecheckAt: r.ewsRecheckAt };
  }

  private choose(accountId: string): Backend {
    const configured = this.deps.config.backend;
    if (configured !== 'auto') return configured;
    const { ewsDisabledAt, ewsRecheckAt } = this.deps.records.get(accountId);
    return ewsDisabledAt !== null && (ewsRecheckAt ?? 0) > this.deps.clock.now() ? 'graph' : 'ews';
  }

  /** A new count, or during a back-off (including the one this very request met) the last one, marked stale. */
  private async fetch(account: MailboxAccount): Promise<InboxCount> {
    const busy = this.busyUntil.get(account.id) ?? 0;
    if (busy > this.deps.clock.now()) return this.whileBusy(account.id, busy);
    try {
      return await this.fetchNow(account);
    } catch (e) {
      const until = this.busyUntil.get(account.id) ?? 0;
      if (isAppError(e) && e.code === 'throttled' && until > this.deps.clock.now() && this.last(account.id)) return this.whileBusy(account.id, until);
      throw e;
    }
  }

  private async fetchNow(account: MailboxAccount): Promise<InboxCount> {
    let backend = this.choose(account.id);
    let counts: Counts;
    try {
      counts = await this.via(backend, account);
    } catch (e) {
      if (!(isAppError(e) && e.code === 'ews_disabled' && backend === 'ews' && this.deps.config.backend === 'auto')) throw this.noteBusy(account.id, e);
      this.markEwsDisabled(account.id);
      backend = 'graph';
      counts = await this.via(backend, account).catch((e2: unknown) => Promise.reject(this.noteBusy(account.id, e2)));
    }
    if (backend === 'ews' && this.deps.records.get(account.id).ewsDisabledAt !== null) this.markEwsEnabled(account.id);
    const count: InboxCount = { account: account.username, total: counts.total, unread: counts.unread, fetchedAt: this.deps.clock.now(), backend };
    this.remember(account.id, count);
    this.deps.onCount(account.id, count);
    return count;
  }

  /**
   * Keeps the newest count in memory and on disk (shown at once after a restart). The disk is
   * written when the count or backend changed, or the saved one is stale: not on every fetch,
   * which would put an fsync on the hot path of `inbox.count`.
   */
  private remember(accountId: string, count: InboxCount): void {
    this.latest.set(accountId, count);
    const saved = this.deps.records.get(accountId).inbox;
    const same = saved && saved.total === count.total && saved.unread === count.unread && saved.backend === count.backend;
    if (!same || count.fetchedAt - saved.fetchedAt > PERSIST_STALE_MS) this.deps.records.update(accountId, { inbox: count });
  }

  /** One call through a backend, with one forced token refresh and one retry on a 401. */
  private async via(backend: Backend, account: MailboxAccount): Promise<Counts> {
    const call = async (forceRefresh: boolean) => {
      const token = await this.deps.tokens.getToken(account.id, backend, { forceRefresh }).catch((e: unknown) => Promise.reject(this.scopeMissing(e, backend)));
      const clientRequestId = randomUUID();
      const deps = { http: this.deps.http, log: this.deps.log };
      return backend === 'ews'
        ? fetchInboxViaEws(deps, { ewsUrl: this.deps.config.ewsUrl, accessToken: token.accessToken, anchorMailbox: account.username, clientRequestId })
        : fetchInboxViaGraph(deps, { graphUrl: this.deps.config.graphUrl, accessToken: token.accessToken, clientRequestId });
    };
    try {
      return await call(false);
    } catch (e) {
      if (!(isAppError(e) && e.code === 'mailbox_unauthorized')) throw e;
      this.deps.log.info('mailbox refused the token; refreshing once and retrying', { backend, account: account.username });
      return call(true);
    }
  }

  /**
   * AADSTS65001 on a token for one backend means the grant never covered its scope (a sign-in
   * made while the other backend was configured): say which permission a new sign-in must grant.
   */
  private scopeMissing(e: unknown, backend: Backend): unknown {
    if (!isAppError(e) || e.data.aadsts !== 65001) return e;
    const scope = backend === 'ews' ? this.deps.config.ewsScope : this.deps.config.graphScope;
    const ewsOff = backend === 'graph' && this.deps.config.backend === 'auto';
    const why = ewsOff ? ', which this account needs now that EWS is turned off' : '';
    // A device code sign-in consents to one resource, EWS in auto mode (msal-client.ts): without
    // a browser, Graph's consent takes a device code sign-in with Graph configured.
    const noBrowser = ewsOff ? '; without a browser, set "backend": "graph" in config.json, restart the daemon and run `ews-daemon consent --device-code`' : '';
    return new AppError('scope_missing', `The sign-in did not grant ${scope}${why}.`, {
      advice: `Sign in again (\`ews-daemon consent\` or Sign in in the popup) and accept ${scope.split('/').pop()}${noBrowser}; where users may not consent, an administrator can grant it with \`ews-daemon consent --admin\`.`,
      retryable: false,
      aadsts: 65001,
    }, { cause: e });
  }

  /** Remembers a server's back-off so that nobody asks again before it ends. */
  private noteBusy(accountId: string, e: unknown): unknown {
    if (isAppError(e) && e.code === 'throttled') {
      this.busyUntil.set(accountId, this.deps.clock.now() + (e.data.retryAfterMs ?? DEFAULT_BUSY_MS));
    }
    return e;
  }

  /**
   * During a back-off (until `retryAt`): the last count if there is one, marked stale since the
   * caller wanted a newer one (else it would not be fetching), or the wait.
   */
  private whileBusy(accountId: string, retryAt: number): InboxCount {
    const shown = this.shown(accountId);
    if (shown) return shown;
    throw throttledError(retryAt - this.deps.clock.now());
  }

  private markEwsDisabled(accountId: string): void {
    const now = this.deps.clock.now();
    this.deps.log.warn('EWS is turned off for this tenant or app; switching to Microsoft Graph', { accountId });
    this.deps.records.update(accountId, { ewsDisabledAt: now, ewsRecheckAt: now + EWS_RECHECK_MS });
    this.deps.onBackendChange(accountId, 'graph');
  }

  private markEwsEnabled(accountId: string): void {
    this.deps.log.info('EWS answers again; switching back from Microsoft Graph', { accountId });
    this.deps.records.update(accountId, { ewsDisabledAt: null, ewsRecheckAt: null });
    this.deps.onBackendChange(accountId, 'ews');
  }
}

/** The wait, rounded up to whole seconds: the milliseconds since the server said it mean nothing. */
function throttledError(waitMs: number): AppError {
  const seconds = Math.max(0, Math.ceil(waitMs / 1000));
  return new AppError('throttled', `The mailbox server asked to wait ${seconds} s before the next request.`, {
    advice: 'The count will be fetched when the server’s back-off ends; nothing to do.',
    retryable: true,
    retryAfterMs: seconds * 1000,
  });
}

export function backendReason(configured: Config['backend'], active: Backend, ewsDisabledAt: number | null, ewsRecheckAt: number | null): string {
  if (configured === 'ews') return 'EWS, as configured (backend "ews"); Microsoft Graph is not used.';
  if (configured === 'graph') return 'Microsoft Graph, as configured (backend "graph"); EWS is not used.';
  if (active === 'ews') return ewsDisabledAt === null ? 'EWS answers; Microsoft Graph stands by (backend "auto").' : 'EWS is being tried again after it was turned off (backend "auto").';
  const since = ewsDisabledAt === null ? '' : ` (found ${new Date(ewsDisabledAt).toISOString().slice(0, 10)})`;
  const recheck = ewsRecheckAt === null ? '' : `; EWS is tried again after ${new Date(ewsRecheckAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `EWS is turned off for this tenant${since}: an administrator can allow this app in EWSAllowedAppIDs until ${EWS_RETIREMENT}; using Microsoft Graph${recheck}.`;
}

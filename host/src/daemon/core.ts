// The daemon's state and operations, independent of the socket: the accounts in MSAL's cache,
// the refresher that keeps their tokens valid, the inbox service, how counts arrive without
// asking (realtime.ts: EWS streaming or polling), and the events sent to subscribers. Each
// protocol method is one method here (handlers.ts maps them), the sign-in methods on `consents`.
// Guarantees: an account is taken on in one place (adopt) and let go in one (forget), which
// clears everything every part holds for it; a cache that cannot be read for want of its key
// is kept, said in status, and read again at the next call.
import type { AccountInfo } from '@azure/msal-node';
import { AppError, isAppError } from '../../../shared/errors';
import type { Backend, ConsentCompleteResult, ErrorInfo, GrantState, InboxCount, StatusResult, TokensViewResult } from '../../../shared/protocol';
import type { AcquiredToken } from '../auth/token-source';
import { viewTokenCache } from '../auth/token-view';
import { clientKind } from '../config/config';
import type { InboxService } from '../mailbox/inbox-service';
import type { AccountRecords } from './account-records';
import { selectAccount, type Account } from './account-select';
import { accountStatus } from './account-status';
import type { Consents } from './consents';
import { connectParts, type CoreDeps } from './core-parts';
import { removeCorruptCopies } from './corrupt-copies';
import type { NotifyCommand } from './notify-command';
import type { Realtime } from './realtime';
import { toErrorInfo } from './refresh-outcome';
import { RT_INACTIVITY_MS, type Refresher } from './refresher';
import type { Emit, Subscribers } from './subscribers';

export type { CoreDeps };

/** The token cache could not be opened for want of its key: the daemon serves on, and says so. */
const CACHE_KEY_ERRORS: ReadonlySet<string> = new Set(['keyring_locked', 'cache_key_missing', 'cache_key_wrong', 'config_invalid']);

/** What the core itself keeps per account; the parts (refresher, inbox, …) keep the rest. */
interface Tracked {
  readonly account: Account;
  /** The last inbox count that failed, until one succeeds. */
  inboxError: ErrorInfo | null;
  /** The grant's kind at the last change, to notice a renewal that succeeds after failures. */
  grantKind: GrantState['kind'] | null;
}

export class DaemonCore {
  /** Sign-ins in progress (browser and device code); each ends in signedIn. */
  readonly consents: Consents;
  private readonly tracked = new Map<string, Tracked>();
  private readonly refresher: Refresher;
  private readonly records: AccountRecords;
  private readonly inbox: InboxService;
  private readonly realtime: Realtime;
  private readonly notifier: NotifyCommand;
  private readonly subscribers: Subscribers;
  /** The cache could not be read at start for want of its key: each call tries again. */
  private cacheUnread = false;

  constructor(private readonly deps: CoreDeps) {
    ({ consents: this.consents, subscribers: this.subscribers, records: this.records, refresher: this.refresher, inbox: this.inbox, notifier: this.notifier, realtime: this.realtime } = connectParts(deps, {
      signedIn: (info) => this.signedIn(info),
      status: () => this.status(),
      statusChanged: () => this.queueStatus(),
      refreshed: (id) => this.onRefresh(id),
      counted: (id, count) => this.onCount(id, count),
      backendChanged: (id, backend) => this.onBackendChange(id, backend),
      changeAnnounced: (id) => this.countAfterChange(id),
      live: () => this.accountList().filter((a) => this.refresher.status(a.id)?.state.kind !== 'needs-consent'),
      countQuietly: (id, maxAgeMs) => this.countQuietly(id, maxAgeMs),
    }));
  }

  async start(): Promise<void> {
    await this.records.load();
    // A cache this process cannot decrypt (keyring locked, key missing or wrong) is kept as it
    // is; status says why, and each call that needs it fails with that error and its fix.
    await this.loadAccounts().catch((e: unknown) => {
      if (!isAppError(e) || !CACHE_KEY_ERRORS.has(e.code)) throw e;
      this.cacheUnread = true;
      this.deps.log.error('cannot read the token cache', { errorCode: e.code, error: e.message });
    });
    this.refresher.start();
    this.realtime.start();
  }

  async stop(): Promise<void> {
    this.consents.stop();
    await this.realtime.stop();
    await this.refresher.stop();
    await this.notifier.drain();
    await this.records.flush();
    await this.deps.store.flush();
  }

  /** Adds (or, for the same listener, updates) a subscriber; `watching` while a person looks. */
  subscribe(listener: Emit, opts: { watching?: boolean } = {}): () => void {
    return this.subscribers.add(listener, opts);
  }

  status(): StatusResult {
    const { version, startedAt, paths, config } = this.deps;
    const logPaused = this.deps.logHealth?.() ?? null;
    return {
      daemon: { version, pid: process.pid, startedAt, configPath: config.file, stateDir: paths.stateDir, socketPath: paths.socketPath, ...(logPaused ? { logPaused } : {}) },
      accounts: [...this.tracked.values()].map((t) => this.accountStatus(t)),
      pendingConsents: this.consents.pending,
      client: { kind: clientKind(config.credential), credential: config.credential.kind, clientId: config.clientId },
      cacheKey: this.deps.store.keyInfo(),
    };
  }

  accountList(): Account[] {
    return [...this.tracked.values()].map((t) => t.account);
  }

  /** The account named by username or id; the only one when none is named. */
  resolve(selector: string | undefined): Account {
    return selectAccount(this.accountList(), selector, this.deps.store.keyError());
  }

  async inboxCount(selector: string | undefined, maxAgeMs?: number, allowStale?: boolean): Promise<InboxCount> {
    await this.retryCacheRead();
    const account = this.resolve(selector);
    try {
      const count = await this.inbox.count(account, maxAgeMs, { allowStale });
      this.noteInboxError(account.id, null);
      if (count.stale) this.queueStatus(); // status marks the count stale too, from now until the wait ends
      return count;
    } catch (e) {
      if (isAppError(e)) this.noteInboxError(account.id, e);
      throw e;
    }
  }

  async tokensView(selector: string | undefined): Promise<TokensViewResult> {
    await this.retryCacheRead();
    const account = selector === undefined ? undefined : this.resolve(selector);
    const raw = (await this.deps.store.readRaw()) ?? '{}';
    const entries = viewTokenCache(raw, {
      now: this.deps.clock.now(),
      inactivityMs: RT_INACTIVITY_MS,
      refreshTokenLastUsed: (id) => this.records.get(id).lastRefreshAt ?? undefined,
      account: account?.id,
    });
    return { cachePath: this.deps.paths.cacheFile, entries, cacheKey: this.deps.store.keyInfo() };
  }

  async removeAccount(selector: string | undefined): Promise<{ removed: string[] }> {
    await this.retryCacheRead();
    const targets = selector === undefined ? this.accountList() : [this.resolve(selector)];
    for (const a of targets) await this.forget(a);
    await removeCorruptCopies(this.deps.paths.cacheFile, targets, this.tracked.size === 0, { fs: this.deps.fs, log: this.deps.log, readable: (b) => this.deps.store.readableCopy(b) });
    return { removed: targets.map((a) => a.username) };
  }

  async tokenGet(selector: string | undefined, resource: Backend | undefined, forceRefresh: boolean): Promise<AcquiredToken & { account: string; resource: Backend }> {
    await this.retryCacheRead();
    const account = this.resolve(selector);
    const r = resource ?? this.inbox.backend(account.id).active;
    const token = await this.refresher.getToken(account.id, r, { forceRefresh });
    return { ...token, account: account.username, resource: r };
  }

  /** A new grant in MSAL's cache (a redeemed code or an approved device code): track and count it. */
  private async signedIn(info: AccountInfo): Promise<ConsentCompleteResult> {
    await this.retryCacheRead(); // the other accounts of a cache that could not be read at start
    const account = this.adopt(fromMsal(info), { consented: true });
    // The code's tokens are in MSAL's cache: take the access token now, so the answer shows its expiry.
    await this.refresher.getToken(account.id, this.inbox.backend(account.id).active).catch(() => undefined);
    this.deps.log.info('signed in', { account: account.username });
    void this.notifier.notify('signed-in', account, 'Signed in: the daemon keeps the grant alive from now on.');
    void this.countQuietly(account.id, 0);
    const t = this.tracked.get(account.id);
    if (!t) throw new AppError('no_account', `${account.username} was signed out while signing in.`, { advice: 'Sign in again.', retryable: false });
    return { kind: 'signed-in', account: this.accountStatus(t) };
  }

  /** Takes an account on: tracked here, its tokens kept fresh, its counts pushed. */
  private adopt(account: Account, opts: { consented: boolean }): Account {
    this.tracked.set(account.id, { account, inboxError: null, grantKind: this.tracked.get(account.id)?.grantKind ?? null });
    if (opts.consented) {
      this.records.update(account.id, { lastRefreshAt: this.deps.clock.now() });
      this.refresher.markConsented(account.id);
    }
    this.track(account.id, this.inbox.backend(account.id).active);
    return account;
  }

  /**
   * Lets an account go: every part forgets it at once (a token still in flight is dropped), then
   * its grant leaves MSAL's cache. When that fails, the account is taken on again: nothing lost.
   */
  private async forget(a: Account): Promise<void> {
    this.tracked.delete(a.id);
    this.refresher.untrack(a.id);
    this.records.remove(a.id);
    this.inbox.forget(a.id);
    this.realtime.sync();
    this.queueStatus();
    try {
      await this.deps.msal.remove(a.id);
    } catch (e) {
      this.adopt(a, { consented: false });
      throw e;
    }
    this.deps.log.info('signed out', { account: a.username });
  }

  private accountStatus(t: Tracked) {
    const id = t.account.id;
    const refresh = this.refresher.status(id);
    // adopt() tracks before it lists and forget() lists no more before it untracks.
    if (!refresh) throw new AppError('internal', `The account ${t.account.username} is listed but not tracked.`, { advice: 'Report it with the daemon log.', retryable: false });
    return accountStatus(t.account, { refresh, inboxError: t.inboxError, backend: this.inbox.backend(id), inbox: this.inbox.shown(id), realtime: this.realtime.status(id) });
  }

  /** Background counts (streaming, polling, after sign-in): failures are shown in status, not thrown. */
  private async countQuietly(accountId: string, maxAgeMs: number): Promise<void> {
    await this.inboxCount(accountId, maxAgeMs).catch((e: unknown) => this.deps.log.info('inbox count failed', { account: this.tracked.get(accountId)?.account.username, error: String(e) }));
  }

  /** A change was announced: a count fetched after it, pushed as inbox.changed; failures go to status. */
  private async countAfterChange(accountId: string): Promise<void> {
    const t = this.tracked.get(accountId);
    if (!t) return;
    await this.inbox.countAfterNow(t.account).then(
      () => this.noteInboxError(accountId, null),
      (e: unknown) => (isAppError(e) ? this.noteInboxError(accountId, e) : this.deps.log.info('inbox count failed', { account: t.account.username, error: String(e) })),
    );
  }

  /**
   * Unlocking the keyring or putting the right key back needs no restart: the next call reads
   * the cache again (and answers the key's error while it still cannot).
   */
  private async retryCacheRead(): Promise<void> {
    if (!this.cacheUnread) return;
    await this.loadAccounts();
    this.cacheUnread = false;
    this.deps.log.info('the token cache can be read again', { accounts: this.tracked.size });
  }

  private async loadAccounts(): Promise<void> {
    for (const info of await this.deps.msal.accounts()) this.adopt(fromMsal(info), { consented: false });
  }

  private track(accountId: string, backend: Backend): void {
    this.refresher.track(accountId, [backend], { lastRefreshAt: this.records.get(accountId).lastRefreshAt });
    this.realtime.sync();
    this.queueStatus();
  }

  private onBackendChange(accountId: string, backend: Backend): void {
    const account = this.tracked.get(accountId)?.account;
    if (backend === 'graph' && this.deps.config.backend === 'auto' && account) void this.notifier.notify('ews-disabled', account, this.inbox.backend(accountId).reason);
    this.track(accountId, backend);
  }

  private onRefresh(accountId: string): void {
    const refresh = this.refresher.status(accountId);
    const t = this.tracked.get(accountId);
    if (t && refresh) {
      const state = refresh.state;
      if (t.grantKind === 'retrying' && state.kind === 'signed-in') this.realtime.networkBack();
      if (state.kind === 'needs-consent' && t.grantKind !== 'needs-consent') void this.notifier.notify('needs-consent', t.account, state.error.advice);
      t.grantKind = state.kind;
      const { lastRefreshAt } = refresh;
      if (lastRefreshAt !== null && lastRefreshAt !== this.records.get(accountId).lastRefreshAt) this.records.update(accountId, { lastRefreshAt });
    }
    this.realtime.sync();
    this.queueStatus();
  }

  private onCount(accountId: string, count: InboxCount): void {
    this.noteInboxError(accountId, null);
    this.subscribers.emit('inbox.changed', count);
    this.queueStatus();
  }

  /** Records the outcome of a count (null: it succeeded) for status, which changes if an error comes or goes. */
  private noteInboxError(accountId: string, e: AppError | null): void {
    const t = this.tracked.get(accountId);
    if (!t || (e === null && t.inboxError === null)) return;
    t.inboxError = e === null ? null : toErrorInfo(e, this.deps.clock.now());
    this.queueStatus();
  }

  private queueStatus(): void {
    this.subscribers.queueStatus();
  }
}

function fromMsal(info: AccountInfo): Account {
  return { id: info.homeAccountId, username: info.username, name: info.name, tenantId: info.tenantId };
}

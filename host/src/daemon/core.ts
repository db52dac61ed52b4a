// The daemon's state and operations, independent of the socket: accounts known to MSAL's cache,
// pending consents, the refresher that keeps their tokens valid, the inbox service, how counts
// arrive without asking (realtime.ts: EWS streaming or polling), and the events sent to
// subscribers. Each protocol method is one method here (handlers.ts maps them), the sign-in
// methods on `consents` (consents.ts).
import type { AccountInfo } from '@azure/msal-node';
import { AppError, isAppError } from '../../../shared/errors';
import type {
  AccountStatus, Backend, ConsentCompleteResult, ErrorInfo, InboxCount, StatusResult, TokensViewResult,
} from '../../../shared/protocol';
import { viewTokenCache } from '../auth/token-view';
import type { MsalClient } from '../auth/msal-client';
import type { TokenStore } from '../auth/token-store';
import { clientKind, type Config } from '../config/config';
import type { Paths } from '../config/paths';
import type { Clock, Http, HttpStream, Log } from '../deps';
import { EwsStreaming } from '../mailbox/ews-streaming';
import { InboxService } from '../mailbox/inbox-service';
import { AccountRecords } from './account-records';
import { Consents } from './consents';
import { NotifyCommand } from './notify-command';
import { Realtime } from './realtime';
import type { LogPause } from '../io/log';
import { removeCorruptCopies } from './corrupt-copies';
import { toErrorInfo } from './refresh-outcome';
import { Refresher, RT_INACTIVITY_MS } from './refresher';
import type { AcquiredToken } from '../auth/token-source';

export interface Account {
  id: string;
  username: string;
  name?: string;
  tenantId: string;
}

export interface CoreDeps {
  config: Config;
  paths: Paths;
  clock: Clock;
  http: Http;
  stream: HttpStream;
  log: Log;
  store: TokenStore;
  msal: MsalClient;
  version: string;
  startedAt: number;
  /** Why logging is paused (a full disk); null or absent while it works. */
  logHealth?: () => LogPause | null;
}

/** The token cache could not be opened for want of its key: the daemon serves on, and says so. */
const CACHE_KEY_ERRORS: ReadonlySet<string> = new Set(['keyring_locked', 'cache_key_missing', 'cache_key_wrong', 'config_invalid']);

export type Emit = (method: 'status.changed' | 'inbox.changed', params: unknown) => void;

export class DaemonCore {
  /** Sign-ins in progress (browser and device code); each ends in signedIn. */
  readonly consents: Consents;
  private readonly refresher: Refresher;
  private readonly records: AccountRecords;
  private readonly inbox: InboxService;
  private readonly accounts = new Map<string, Account>();
  private readonly inboxErrors = new Map<string, ErrorInfo>();
  private readonly listeners = new Map<Emit, { watching: boolean }>();
  private statusQueued = false;
  private readonly realtime: Realtime;
  private readonly notifier: NotifyCommand;
  /** Each account's last grant state, to notice a renewal that succeeds after failures (the network is back). */
  private readonly grantKinds = new Map<string, string | undefined>();
  /** The cache could not be read at start for want of its key: each call tries again. */
  private cacheUnread = false;

  constructor(private readonly deps: CoreDeps) {
    this.consents = new Consents({ ...deps, signedIn: (info) => this.signedIn(info), changed: () => this.queueStatus() });
    this.records = new AccountRecords({ file: `${deps.paths.stateDir}/accounts.json`, log: deps.log });
    this.refresher = new Refresher({ clock: deps.clock, log: deps.log.child({ component: 'refresher' }), source: deps.msal, onChange: (id) => this.onRefresh(id) });
    this.inbox = new InboxService({
      clock: deps.clock,
      log: deps.log.child({ component: 'inbox' }),
      http: deps.http,
      config: deps.config,
      tokens: this.refresher,
      records: this.records,
      onCount: (id, count) => this.onCount(id, count),
      onBackendChange: (id, backend) => this.onBackendChange(id, backend),
    });
    this.notifier = new NotifyCommand({ argv: deps.config.notifyCommand, log: deps.log.child({ component: 'notify' }) });
    const streaming = new EwsStreaming({
      clock: deps.clock, log: deps.log.child({ component: 'streaming' }), http: deps.http, stream: deps.stream, ewsUrl: deps.config.ewsUrl, tokens: this.refresher,
      onChange: (id) => this.countAfterChange(id),
      onState: () => this.queueStatus(),
    });
    this.realtime = new Realtime({
      clock: deps.clock, log: deps.log.child({ component: 'realtime' }), streaming, streamingEnabled: deps.config.realtime, listeningPollMs: deps.config.pollIntervalSeconds * 1000,
      live: () => this.accountList().filter((a) => this.refresher.status(a.id)?.state.kind !== 'needs-consent'),
      backend: (id) => this.inbox.backend(id).active,
      count: (a, maxAgeMs) => this.countQuietly(this.accounts.get(a.id), maxAgeMs),
      listeners: () => ({ listening: this.listeners.size, watching: [...this.listeners.values()].filter((l) => l.watching).length }),
    });
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
    this.listeners.set(listener, { watching: opts.watching ?? false });
    this.realtime.sync();
    return () => {
      this.listeners.delete(listener);
      this.realtime.sync();
    };
  }

  status(): StatusResult {
    const { version, startedAt, paths, config } = this.deps;
    const logPaused = this.deps.logHealth?.() ?? null;
    return {
      daemon: { version, pid: process.pid, startedAt, configPath: config.file, stateDir: paths.stateDir, socketPath: paths.socketPath, ...(logPaused ? { logPaused } : {}) },
      accounts: [...this.accounts.values()].map((a) => this.accountStatus(a)),
      pendingConsents: this.consents.pending,
      client: { kind: clientKind(config.credential), credential: config.credential.kind, clientId: config.clientId },
      cacheKey: this.deps.store.keyInfo(),
    };
  }

  accountList(): Account[] {
    return [...this.accounts.values()];
  }

  /** The account named by username or id; the only one when none is named. */
  resolve(selector: string | undefined): Account {
    const all = [...this.accounts.values()];
    // Nobody known because the cache could not be read: say why, not "nobody is signed in".
    const unreadable = all.length === 0 ? this.deps.store.keyError() : null;
    if (unreadable) throw unreadable;
    if (all.length === 0) throw new AppError('no_account', 'Nobody is signed in.', { advice: 'Sign in from the extension popup or with `ews-daemon consent`.', retryable: false });
    if (selector === undefined) {
      if (all.length === 1) return all[0]!;
      throw new AppError('invalid_params', `${all.length} accounts are signed in; say which one.`, { advice: `Name one with --account: ${all.map((a) => a.username).join(', ')}.`, retryable: false });
    }
    const wanted = selector.toLowerCase();
    const found = all.find((a) => a.id === selector || a.username.toLowerCase() === wanted);
    if (!found) throw new AppError('no_account', `No signed-in account is named ${selector}.`, { advice: `Signed in: ${all.map((a) => a.username).join(', ')}.`, retryable: false });
    return found;
  }

  /** A new grant in MSAL's cache (a redeemed code or an approved device code): track and count it. */
  private async signedIn(info: AccountInfo): Promise<ConsentCompleteResult> {
    await this.retryCacheRead(); // the other accounts of a cache that could not be read at start
    const account: Account = { id: info.homeAccountId, username: info.username, name: info.name, tenantId: info.tenantId };
    this.accounts.set(account.id, account);
    this.inboxErrors.delete(account.id);
    this.records.update(account.id, { lastRefreshAt: this.deps.clock.now() });
    this.refresher.markConsented(account.id);
    const backend = this.inbox.backend(account.id).active;
    this.track(account.id, backend);
    // The code's tokens are in MSAL's cache: take the access token now, so the answer shows its expiry.
    await this.refresher.getToken(account.id, backend).catch(() => undefined);
    this.deps.log.info('signed in', { account: account.username });
    void this.notifier.notify('signed-in', account.username, 'Signed in: the daemon keeps the grant alive from now on.');
    void this.countQuietly(account, 0);
    return { kind: 'signed-in', account: this.accountStatus(account) };
  }

  async inboxCount(selector: string | undefined, maxAgeMs?: number, allowStale?: boolean): Promise<InboxCount> {
    await this.retryCacheRead();
    const account = this.resolve(selector);
    try {
      const count = await this.inbox.count(account, maxAgeMs, { allowStale });
      this.inboxErrors.delete(account.id);
      return count;
    } catch (e) {
      if (isAppError(e)) this.noteInboxError(account.id, e);
      throw e;
    }
  }

  /** Background counts (streaming, polling, after sign-in): failures are shown in status, not thrown. */
  async countQuietly(account: Account | undefined, maxAgeMs: number): Promise<void> {
    if (!account) return;
    await this.inboxCount(account.id, maxAgeMs).catch((e: unknown) => this.deps.log.info('inbox count failed', { account: account.username, error: String(e) }));
  }

  /** A change was announced: a count fetched after it, pushed as inbox.changed; failures go to status. */
  private async countAfterChange(accountId: string): Promise<void> {
    const account = this.accounts.get(accountId);
    if (!account) return;
    await this.inbox.countAfterNow(account).then(
      () => this.inboxErrors.delete(accountId),
      (e: unknown) => (isAppError(e) ? this.noteInboxError(accountId, e) : this.deps.log.info('inbox count failed', { account: account.username, error: String(e) })),
    );
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
    for (const a of targets) {
      this.refresher.untrack(a.id);
      await this.deps.msal.remove(a.id);
      this.accounts.delete(a.id);
      this.records.remove(a.id);
      this.inbox.forget(a.id);
      this.inboxErrors.delete(a.id);
      this.notifier.forget(a.username);
      this.deps.log.info('signed out', { account: a.username });
    }
    await removeCorruptCopies(this.deps.paths.cacheFile, targets, this.accounts.size === 0, this.deps.log, (b) => this.deps.store.readableCopy(b));
    this.realtime.sync();
    this.queueStatus();
    return { removed: targets.map((a) => a.username) };
  }

  async tokenGet(selector: string | undefined, resource: Backend | undefined, forceRefresh: boolean): Promise<AcquiredToken & { account: string; resource: Backend }> {
    await this.retryCacheRead();
    const account = this.resolve(selector);
    const r = resource ?? this.inbox.backend(account.id).active;
    const token = await this.refresher.getToken(account.id, r, { forceRefresh });
    return { ...token, account: account.username, resource: r };
  }

  private accountStatus(a: Account): AccountStatus {
    const r = this.refresher.status(a.id);
    const inboxError = this.inboxErrors.get(a.id) ?? null;
    const lastError = [r?.lastError ?? null, inboxError].filter((e): e is ErrorInfo => e !== null).sort((x, y) => y.at - x.at)[0] ?? null;
    return {
      id: a.id,
      username: a.username,
      ...(a.name ? { name: a.name } : {}),
      tenantId: a.tenantId,
      state: r?.state ?? { kind: 'refreshing' },
      accessTokens: r?.accessTokens ?? [],
      lastRefreshAt: r?.lastRefreshAt ?? this.records.get(a.id).lastRefreshAt,
      nextRefreshAt: r?.nextRefreshAt ?? null,
      lastError,
      refreshTokenLapsesAt: r?.refreshTokenLapsesAt ?? null,
      backend: this.inbox.backend(a.id),
      inbox: this.inbox.last(a.id),
      realtime: this.realtime.status(a.id),
    };
  }

  /**
   * Unlocking the keyring or putting the right key back needs no restart: the next call reads
   * the cache again (and answers the key's error while it still cannot).
   */
  private async retryCacheRead(): Promise<void> {
    if (!this.cacheUnread) return;
    await this.loadAccounts();
    this.cacheUnread = false;
    this.deps.log.info('the token cache can be read again', { accounts: this.accounts.size });
  }

  private async loadAccounts(): Promise<void> {
    for (const info of await this.deps.msal.accounts()) {
      const account: Account = { id: info.homeAccountId, username: info.username, name: info.name, tenantId: info.tenantId };
      this.accounts.set(account.id, account);
      this.track(account.id, this.inbox.backend(account.id).active);
    }
  }

  private track(accountId: string, backend: Backend): void {
    this.refresher.track(accountId, [backend], { lastRefreshAt: this.records.get(accountId).lastRefreshAt });
    this.realtime.sync();
    this.queueStatus();
  }

  private onBackendChange(accountId: string, backend: Backend): void {
    const username = this.accounts.get(accountId)?.username;
    if (backend === 'graph' && this.deps.config.backend === 'auto' && username) void this.notifier.notify('ews-disabled', username, this.inbox.backend(accountId).reason);
    this.track(accountId, backend);
  }

  private onRefresh(accountId: string): void {
    const state = this.refresher.status(accountId)?.state;
    const before = this.grantKinds.get(accountId);
    if (before === 'retrying' && state?.kind === 'signed-in') this.realtime.networkBack();
    const username = this.accounts.get(accountId)?.username;
    if (state?.kind === 'needs-consent' && before !== 'needs-consent' && username) void this.notifier.notify('needs-consent', username, state.error.advice);
    this.grantKinds.set(accountId, state?.kind);
    const lastRefreshAt = this.refresher.status(accountId)?.lastRefreshAt ?? null;
    if (lastRefreshAt !== null && lastRefreshAt !== this.records.get(accountId).lastRefreshAt) this.records.update(accountId, { lastRefreshAt });
    this.realtime.sync();
    this.queueStatus();
  }

  private onCount(accountId: string, count: InboxCount): void {
    this.inboxErrors.delete(accountId);
    this.emit('inbox.changed', count);
    this.queueStatus();
  }

  private noteInboxError(accountId: string, e: AppError): void {
    this.inboxErrors.set(accountId, toErrorInfo(e, this.deps.clock.now()));
    this.queueStatus();
  }

  /** Coalesces the many changes of one tick into one status.changed. */
  private queueStatus(): void {
    if (this.statusQueued || this.listeners.size === 0) return;
    this.statusQueued = true;
    queueMicrotask(() => {
      this.statusQueued = false;
      this.emit('status.changed', this.status());
    });
  }

  private emit(method: 'status.changed' | 'inbox.changed', params: unknown): void {
    for (const l of this.listeners.keys()) l(method, params);
  }
}

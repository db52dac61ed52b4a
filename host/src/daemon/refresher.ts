// Keeps a valid access token for every tracked account and resource, forever and without a
// prompt: renews ahead of expiry, retries transient failures with back-off and never gives up on
// them, stops only on Entra's verdict, and serves callers from memory or from one shared request.
// Guarantees: one source call per (account, resource) at a time; results of work that started
// before untrack/markConsented/a verdict are dropped; all time comes from the injected Clock.
import { AppError } from '../../../shared/errors';
import type { Backend, ErrorInfo, GrantState } from '../../../shared/protocol';
import type { AcquiredToken, TokenSource } from '../auth/token-source';
import type { Clock, Log } from '../deps';
import { renewalDeadline, retryDelayMs } from '../retry/backoff';
import { classifyFailure, fromErrorInfo, notTrackedError, throttledError, toAppError, toErrorInfo } from './refresh-outcome';
import { DEFAULT_REFRESHER_OPTIONS, type RefresherOptions } from './refresher-options';
import { ACTIVE, grantState, lastError, newest, newSlot, nextDue, tokenOf, dueAt, type AccountEntry, type Flight, type Slot } from './token-slot';

export { DEFAULT_REFRESHER_OPTIONS, MAX_WAIT_MS, RT_INACTIVITY_MS, type RefresherOptions } from './refresher-options';

export interface RefresherDeps {
  clock: Clock;
  log: Log;
  source: TokenSource;
  /** [0,1), for jitter; default Math.random. */
  random?: () => number;
  /** State or tokens changed: the daemon pushes status.changed. */
  onChange?: (accountId: string) => void;
}

export interface RefreshStatus {
  state: GrantState;
  accessTokens: { resource: Backend; scopes: string[]; expiresOn: number }[];
  /** The last time the refresh token was used (an acquire with fromCache false, or a consent). */
  lastRefreshAt: number | null;
  /** The earliest renewal deadline or retry; null when nothing is scheduled (needs consent). */
  nextRefreshAt: number | null;
  /** The most recent failure, kept after recovery so status can say what happened; `state` says whether it still matters. */
  lastError: ErrorInfo | null;
  /** lastRefreshAt + RT_INACTIVITY_MS: when the refresh token lapses if nothing uses it. */
  refreshTokenLapsesAt: number | null;
}

export class Refresher {
  private readonly accounts = new Map<string, AccountEntry>();
  private readonly options: RefresherOptions;
  private readonly random: () => number;
  private readonly stopping = new AbortController();
  private readonly inflight = new Set<Promise<unknown>>();
  private wake: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: RefresherDeps, options?: Partial<RefresherOptions>) {
    this.options = { ...DEFAULT_REFRESHER_OPTIONS, ...options };
    this.random = deps.random ?? Math.random;
  }

  /** Start keeping tokens for these resources fresh (adds to those already tracked). lastRefreshAt (persisted by the daemon) seeds refreshTokenLapsesAt after a restart. */
  track(accountId: string, resources: Backend[], seed?: { lastRefreshAt?: number | null }): void {
    const entry = this.accounts.get(accountId) ?? this.addEntry(accountId);
    const seeded = seed?.lastRefreshAt ?? null;
    if (seeded !== null && (entry.lastRefreshAt === null || seeded > entry.lastRefreshAt)) entry.lastRefreshAt = seeded;
    for (const r of resources) if (!entry.slots.has(r)) entry.slots.set(r, newSlot(r, this.deps.clock.now()));
    this.changed(accountId);
    this.kick();
  }

  /** Forget the account; an acquire still in flight finishes but its result is dropped. */
  untrack(accountId: string): void {
    const entry = this.accounts.get(accountId);
    if (!entry) return;
    entry.generation++;
    this.accounts.delete(accountId);
    this.changed(accountId);
  }

  /** After a new consent for this account: clear needs-consent, bump generation, acquire now. */
  markConsented(accountId: string): void {
    const entry = this.accounts.get(accountId) ?? this.addEntry(accountId);
    const now = this.deps.clock.now();
    entry.generation++;
    entry.grant = ACTIVE;
    entry.lastRefreshAt = now; // the consent just issued a new refresh token
    for (const slot of entry.slots.values()) {
      slot.state = { kind: 'empty', dueAt: now };
      slot.flight = null;
      slot.forcedFollowUp = null;
    }
    this.changed(accountId);
    this.kick();
  }

  /**
   * A valid access token now: the in-memory one while it has more than minRemainingMs left,
   * otherwise the result of the one request in flight for (account, resource), started if none is.
   */
  getToken(accountId: string, resource: Backend, opts?: { forceRefresh?: boolean }): Promise<AcquiredToken> {
    const entry = this.accounts.get(accountId);
    if (!entry) return Promise.reject(notTrackedError(accountId));
    if (entry.grant.kind === 'needs-consent') return Promise.reject(fromErrorInfo(entry.grant.error));
    let slot = entry.slots.get(resource);
    if (!slot) {
      slot = newSlot(resource, this.deps.clock.now());
      entry.slots.set(resource, slot);
    }
    return opts?.forceRefresh ? this.forced(entry, slot) : this.unforced(entry, slot);
  }

  status(accountId: string): RefreshStatus | null {
    const entry = this.accounts.get(accountId);
    if (!entry) return null;
    const accessTokens = [...entry.slots.values()].flatMap((s) => {
      const t = tokenOf(s.state);
      return t ? [{ resource: s.resource, scopes: t.scopes, expiresOn: t.expiresOn }] : [];
    });
    const { lastRefreshAt } = entry;
    return {
      state: grantState(entry),
      accessTokens,
      lastRefreshAt,
      nextRefreshAt: nextDue(entry),
      lastError: lastError(entry),
      refreshTokenLapsesAt: lastRefreshAt === null ? null : lastRefreshAt + this.options.rtInactivityMs,
    };
  }

  /** Run the loop: wakes at least every maxWaitMs and acts on every deadline the wall clock has passed. */
  start(): void {
    if (this.loop || this.stopping.signal.aborted) return;
    this.loop = this.run();
  }

  /** Ends the loop at once, aborts in-flight acquisitions through their signal, and waits for them. */
  async stop(): Promise<void> {
    this.stopping.abort(new AppError('transient', 'The daemon is stopping.', { advice: 'Start the daemon again.', retryable: true }));
    this.kick();
    await this.loop;
    await Promise.allSettled([...this.inflight]);
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      this.tick();
      const wake = new AbortController();
      this.wake = wake;
      await this.deps.clock.sleep(this.sleepMs(), wake.signal).catch(() => undefined); // woken early: look again
    }
  }

  /** Starts every acquisition whose deadline the wall clock has passed. */
  private tick(): void {
    const now = this.deps.clock.now();
    for (const entry of this.accounts.values()) {
      if (entry.grant.kind === 'needs-consent') continue;
      for (const slot of entry.slots.values()) {
        if (slot.flight || dueAt(slot.state) > now) continue;
        this.launch(entry, slot, tokenOf(slot.state) !== null).catch(() => undefined); // applied to state already
      }
    }
  }

  private sleepMs(): number {
    const dues = [...this.accounts.values()].map(nextDue).filter((d): d is number => d !== null);
    const until = Math.min(...dues) - this.deps.clock.now();
    return Math.min(this.options.maxWaitMs, Math.max(1, until));
  }

  private kick(): void {
    this.wake?.abort();
  }

  private unforced(entry: AccountEntry, slot: Slot): Promise<AcquiredToken> {
    const now = this.deps.clock.now();
    const token = tokenOf(slot.state);
    if (token && token.expiresOn - now > this.options.minRemainingMs) return Promise.resolve(token);
    if (slot.flight) return slot.flight.promise;
    return this.launchUnlessThrottled(entry, slot, token !== null);
  }

  /**
   * A forced refresh joins a forced one in flight. Behind a non-forced one it waits: if that one
   * went to the network (fromCache false) its fresh token is the answer, else one forced follow-up,
   * shared by every forced caller who arrived meanwhile, starts after it.
   */
  private forced(entry: AccountEntry, slot: Slot): Promise<AcquiredToken> {
    if (!slot.flight) return this.launchUnlessThrottled(entry, slot, true);
    if (slot.flight.forced) return slot.flight.promise;
    slot.forcedFollowUp ??= slot.flight.promise.then(
      (t) => {
        slot.forcedFollowUp = null;
        return t.fromCache ? this.getToken(entry.accountId, slot.resource, { forceRefresh: true }) : t;
      },
      (e: unknown) => {
        slot.forcedFollowUp = null;
        throw e;
      },
    );
    return slot.forcedFollowUp;
  }

  /** While Entra's Retry-After runs, callers get 'throttled' with the time left instead of a new request. */
  private launchUnlessThrottled(entry: AccountEntry, slot: Slot, forced: boolean): Promise<AcquiredToken> {
    const s = slot.state;
    const waitMs = s.kind === 'failing' && s.error.code === 'throttled' ? s.retryAt - this.deps.clock.now() : 0;
    return waitMs > 0 ? Promise.reject(throttledError(waitMs)) : this.launch(entry, slot, forced);
  }

  private launch(entry: AccountEntry, slot: Slot, forced: boolean): Promise<AcquiredToken> {
    const generation = entry.generation;
    const { accountId } = entry;
    let call: Promise<AcquiredToken>;
    try {
      call = this.deps.source.acquire(accountId, slot.resource, { forceRefresh: forced, signal: this.stopping.signal });
    } catch (e) {
      call = Promise.reject(e);
    }
    const flight: Flight = { forced, promise: call };
    flight.promise = call
      .then(
        (t) => this.succeeded(entry, slot, generation, t),
        (e: unknown) => Promise.reject(this.failed(entry, slot, generation, e)),
      )
      .finally(() => {
        if (slot.flight === flight) slot.flight = null;
        this.inflight.delete(flight.promise);
        this.kick();
      });
    slot.flight = flight;
    this.inflight.add(flight.promise);
    return flight.promise;
  }

  private isCurrent(entry: AccountEntry, slot: Slot, generation: number): boolean {
    return this.accounts.get(entry.accountId) === entry && entry.generation === generation && entry.slots.get(slot.resource) === slot;
  }

  private succeeded(entry: AccountEntry, slot: Slot, generation: number, t: AcquiredToken): AcquiredToken {
    if (!this.isCurrent(entry, slot, generation)) {
      this.deps.log.debug('dropped a token acquired before the account changed', { account: entry.accountId, resource: slot.resource });
      return t;
    }
    const now = this.deps.clock.now();
    if (slot.state.kind === 'failing' && entry.grant.kind === 'active') entry.grant = { kind: 'active', recovered: newest([entry.grant.recovered, slot.state.error]) };
    slot.state = { kind: 'valid', token: t, renewAt: renewalDeadline(t.expiresOn, now, this.random, this.options) };
    if (!t.fromCache) entry.lastRefreshAt = now;
    this.deps.log.debug('access token acquired', { account: entry.accountId, resource: slot.resource, expiresOn: t.expiresOn, fromCache: t.fromCache });
    this.changed(entry.accountId);
    return t;
  }

  /** Applies a failure to the state (unless stale or stopping) and returns the error for callers. */
  private failed(entry: AccountEntry, slot: Slot, generation: number, e: unknown): AppError {
    const err = toAppError(e);
    if (this.stopping.signal.aborted || !this.isCurrent(entry, slot, generation)) return err;
    const now = this.deps.clock.now();
    const error = toErrorInfo(err, now);
    const kind = classifyFailure(err);
    const fields = { account: entry.accountId, resource: slot.resource, code: err.code, aadsts: err.data.aadsts, message: err.message };
    if (kind === 'verdict') {
      entry.grant = { kind: 'needs-consent', error };
      entry.generation++;
      for (const s of entry.slots.values()) Object.assign(s, newSlot(s.resource, now));
      this.deps.log.warn('Entra refused the grant; waiting for a new consent', fields);
    } else {
      const attempt = slot.state.kind === 'failing' ? slot.state.attempt + 1 : 1;
      const delay = kind === 'config' ? this.options.configRetryMs : retryDelayMs(attempt, this.random, this.options, err.data.retryAfterMs);
      slot.state = { kind: 'failing', token: tokenOf(slot.state), attempt, retryAt: now + delay, error };
      this.deps.log.warn(kind === 'config' ? 'token refresh failed on the configuration' : 'token refresh failed; retrying', { ...fields, attempt, retryInMs: delay });
    }
    this.changed(entry.accountId);
    return err;
  }

  private addEntry(accountId: string): AccountEntry {
    const entry: AccountEntry = { accountId, generation: 0, grant: ACTIVE, slots: new Map(), lastRefreshAt: null };
    this.accounts.set(accountId, entry);
    return entry;
  }

  private changed(accountId: string): void {
    try {
      this.deps.onChange?.(accountId);
    } catch (e) {
      this.deps.log.error('a status listener threw', { account: accountId, error: String(e) });
    }
  }
}

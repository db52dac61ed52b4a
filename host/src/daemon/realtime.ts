// How counts reach subscribers without anyone asking, per account: EWS streaming notifications
// while EWS answers (and config `realtime` is not false), else adaptive polling: every
// WATCHING_POLL_MS while someone watches (the popup is open, `watch` runs), every
// pollIntervalSeconds while only the badge listens, never while nobody listens. A 429's
// Retry-After is honoured by the inbox service (a count during a back-off makes no request).
// An account whose stream is down (connecting, reconnecting) is polled meanwhile.
// Guarantees: one stream per mailbox (EwsStreaming's); a jump of the wall clock (resume from
// suspend) reconnects every stream and counts every inbox at once; the network coming back (a
// token renewal succeeding after failures) ends every stream's back-off; time comes from the Clock.
import type { Backend, RealtimeStatus } from '../../../shared/protocol';
import type { Clock, Log } from '../deps';
import type { EwsStreaming } from '../mailbox/ews-streaming';
import type { MailboxAccount } from '../mailbox/inbox-service';

/** While someone watches (popup open, `watch`), each inbox is counted this often: 15 s. */
export const WATCHING_POLL_MS = 15_000;
/** The wall clock is checked this often for a suspend (30 s)… */
export const WAKE_CHECK_MS = 30_000;
/** …and a check that comes this much later than planned means the machine slept (a minute). */
export const WAKE_JUMP_MS = 60_000;

/** What Realtime needs of EwsStreaming. */
export type StreamingControl = Pick<EwsStreaming, 'start' | 'stop' | 'stopAll' | 'has' | 'ids' | 'state' | 'reconnectAll' | 'retryNow'>;

export interface RealtimeDeps {
  clock: Clock;
  log: Log;
  /** config.realtime: false turns streaming off. */
  streamingEnabled: boolean;
  /** config.pollIntervalSeconds × 1000: the interval while only the badge listens. */
  listeningPollMs: number;
  streaming: StreamingControl;
  /** Signed-in accounts whose grant is usable (not needing consent). */
  live(): MailboxAccount[];
  backend(accountId: string): Backend;
  /** Counts the inbox, errors kept for status; maxAgeMs 0 always fetches. */
  count(account: MailboxAccount, maxAgeMs: number): Promise<void>;
  listeners(): { listening: number; watching: number };
}

export class Realtime {
  private readonly stopping = new AbortController();
  private wake: AbortController | null = null;
  private readonly loops: Promise<void>[] = [];
  private readonly pollingSince = new Map<string, number>();
  private lastPollAt = 0;

  constructor(private readonly deps: RealtimeDeps) {}

  start(): void {
    this.sync();
    this.loops.push(this.pollLoop(), this.wakeLoop());
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
    await this.deps.streaming.stopAll();
  }

  /** Accounts, backends, grants or listeners changed: start and stop streams, re-plan polling. */
  sync(): void {
    if (this.stopping.signal.aborted) return;
    const live = this.deps.live();
    const streamed = new Set(live.filter((a) => this.streams(a.id)).map((a) => a.id));
    for (const a of live) if (streamed.has(a.id)) this.deps.streaming.start(a);
    for (const a of live) if (!streamed.has(a.id) && !this.pollingSince.has(a.id)) this.pollingSince.set(a.id, this.deps.clock.now());
    for (const id of [...this.pollingSince.keys()]) if (streamed.has(id) || !live.some((a) => a.id === id)) this.pollingSince.delete(id);
    for (const id of this.deps.streaming.ids()) if (!streamed.has(id)) void this.deps.streaming.stop(id);
    this.wake?.abort();
  }

  /** A request got through after failures (the network is back): streams waiting out a back-off retry now. */
  networkBack(): void {
    this.deps.streaming.retryNow('the network is back');
  }

  /** How counts arrive for this account, for status. */
  status(accountId: string): RealtimeStatus {
    const s = this.deps.streaming.state(accountId);
    if (s?.kind === 'streaming') return { kind: 'streaming', since: s.since, reason: 'EWS streaming notifications: a change shows within a second.' };
    const since = s?.since ?? this.pollingSince.get(accountId) ?? this.deps.clock.now();
    const why = s ? `EWS streaming is ${s.kind === 'connecting' ? 'connecting' : `reconnecting (${s.reason})`}` : this.whyNotStreaming(accountId);
    const interval = this.intervalMs();
    if (interval === null) return { kind: 'off', since, reason: `nobody listens, so the inbox is counted only when asked (${why})` };
    return { kind: 'polling', since, reason: `polling every ${interval / 1000} s: ${why}` };
  }

  private streams(accountId: string): boolean {
    return this.deps.streamingEnabled && this.deps.backend(accountId) === 'ews';
  }

  private whyNotStreaming(accountId: string): string {
    if (!this.deps.streamingEnabled) return 'streaming is turned off in the config ("realtime": false)';
    if (this.deps.backend(accountId) === 'graph') return 'Microsoft Graph answers, and its change notifications need a public webhook';
    return 'the account needs sign-in';
  }

  /** The polling interval now, or null when nobody listens. */
  private intervalMs(): number | null {
    const { listening, watching } = this.deps.listeners();
    if (watching > 0) return Math.min(WATCHING_POLL_MS, this.deps.listeningPollMs);
    return listening > 0 ? this.deps.listeningPollMs : null;
  }

  private async pollLoop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const interval = this.intervalMs();
      const wake = new AbortController();
      this.wake = wake;
      const due = interval === null ? Infinity : this.lastPollAt + interval - this.deps.clock.now();
      if (due > 0) {
        // Nobody listening: sleep until sync() says otherwise (a day at most, then look again).
        await this.deps.clock.sleep(Math.min(due, 24 * 3600_000), AbortSignal.any([signal, wake.signal])).catch(() => undefined);
        continue;
      }
      this.lastPollAt = this.deps.clock.now();
      // Accounts without a working stream: where nothing pushes, or while a stream reconnects.
      const polled = this.deps.live().filter((a) => this.deps.streaming.state(a.id)?.kind !== 'streaming');
      await Promise.all(polled.map((a) => this.deps.count(a, interval === null ? 0 : interval / 2)));
    }
  }

  /** Notices a suspend: the wall clock moved much further than a sleep lasted. */
  private async wakeLoop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const before = this.deps.clock.now();
      const ok = await this.deps.clock.sleep(WAKE_CHECK_MS, signal).then(() => true, () => false);
      if (!ok) return;
      const late = this.deps.clock.now() - before - WAKE_CHECK_MS;
      if (late < WAKE_JUMP_MS) continue;
      this.deps.log.info('the clock jumped (resume from suspend?): reconnecting streams and counting now', { lateMs: late });
      this.deps.streaming.reconnectAll('resume from suspend');
      await Promise.all(this.deps.live().map((a) => this.deps.count(a, 0)));
    }
  }
}

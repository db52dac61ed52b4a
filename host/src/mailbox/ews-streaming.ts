// EWS streaming notifications for the inbox of each account (Microsoft Learn: "Stream
// notifications about mailbox events by using EWS in Exchange", "Maintain affinity between a
// group of subscriptions and the Mailbox server in Exchange", "EWS throttling in Exchange").
// Guarantees:
// - at most one subscription and one GetStreamingEvents connection per mailbox, ever;
// - Subscribe carries X-AnchorMailbox and X-PreferServerAffinity: true, and every
//   GetStreamingEvents the X-BackEndOverrideCookie that Subscribe returned;
// - a burst of events is one onChange, no later than DEBOUNCE_MS after its first event;
// - after any gap (first connection, a drop, a lost subscription, a failure) onChange runs once
//   the stream is back, since events may have been missed; an orderly Closed is no gap;
// - ErrorSubscriptionNotFound resubscribes, a 401 retries with a refreshed token, ErrorServerBusy
//   waits its BackOffMilliseconds, anything else backs off exponentially; never gives up;
// - a connection never outlives its access token (ConnectionTimeout is capped by it), so a token
//   refresh is picked up by the next connection; all waiting goes through the injected Clock.
import { randomUUID } from 'node:crypto';
import { AppError, isAppError } from '../../../shared/errors';
import type { Clock, Http, HttpStream, Log } from '../deps';
import { retryDelayMs, type TimingOptions } from '../retry/backoff';
import type { AcquiredToken } from '../auth/token-source';
import { EnvelopeSplitter, buildGetStreamingEventsRequest, buildSubscribeRequest, buildUnsubscribeRequest, parseStreamingEnvelope, parseSubscribeResponse } from './ews-streaming-soap';
import type { MailboxAccount } from './inbox-service';
import { messageError, responseMessage } from './ews-soap';

/** A burst of events is counted once, this long after its first event (≤ 250 ms by design). */
export const DEBOUNCE_MS = 200;
/** The longest connection EWS allows (ConnectionTimeout, minutes). */
export const MAX_CONNECTION_MINUTES = 30;
/** A stream silent this long is taken as dead (a half-open TCP connection): Exchange sends ConnectionStatus OK while idle. */
export const IDLE_LIMIT_MS = 3 * 60_000;
/** Back-off after failures: 1 s doubling to 5 min, with jitter; a server's BackOffMilliseconds up to 30 min. */
const TIMING: TimingOptions = { renewBeforeMs: 0, jitterMs: 0, minRenewIntervalMs: 0, backoffBaseMs: 1_000, backoffCapMs: 5 * 60_000, retryAfterCapMs: 30 * 60_000 };
/** A connection Closed sooner than this after it opened is a misbehaving server: back off rather than spin (1 s). */
const MIN_CONNECTION_MS = 1_000;
/** Subscribe and Unsubscribe are small requests. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface StreamingDeps {
  clock: Clock;
  log: Log;
  http: Http;
  stream: HttpStream;
  ewsUrl: string;
  tokens: { getToken(accountId: string, resource: 'ews', opts?: { forceRefresh?: boolean }): Promise<AcquiredToken> };
  /** The inbox may have changed, or events may have been missed: count it once. */
  onChange(accountId: string, why: 'notification' | 'gap'): Promise<void>;
  /** The stream's state changed (for status). */
  onState?(accountId: string): void;
  random?: () => number;
}

export type StreamState = { kind: 'connecting' | 'streaming' | 'retrying'; since: number; reason: string };

interface Session {
  account: MailboxAccount;
  stop: AbortController;
  /** Aborting it ends the current connection only (a wake-up from suspend, a restart). */
  connection: AbortController | null;
  /** Aborting it cuts the current back-off short (the network is back). */
  backoff: AbortController | null;
  subscription: { id: string; cookie: string | null } | null;
  state: StreamState;
  dirty: boolean;
  flushing: Promise<void> | null;
  done: Promise<void>;
}

type Ending = 'closed' | 'dropped';

export class EwsStreaming {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly deps: StreamingDeps) {}

  /** Starts streaming for the account unless it already streams. */
  start(account: MailboxAccount): void {
    if (this.sessions.has(account.id)) return;
    const s: Session = { account, stop: new AbortController(), connection: null, backoff: null, subscription: null, state: { kind: 'connecting', since: this.deps.clock.now(), reason: 'subscribing' }, dirty: false, flushing: null, done: Promise.resolve() };
    this.sessions.set(account.id, s);
    s.done = this.run(s);
  }

  ids(): string[] {
    return [...this.sessions.keys()];
  }

  has(accountId: string): boolean {
    return this.sessions.has(accountId);
  }

  state(accountId: string): StreamState | null {
    return this.sessions.get(accountId)?.state ?? null;
  }

  /** Ends the account's connection and forgets its subscription (sending Unsubscribe). */
  async stop(accountId: string): Promise<void> {
    const s = this.sessions.get(accountId);
    if (!s) return;
    this.sessions.delete(accountId);
    s.stop.abort();
    await s.done;
    await s.flushing;
    if (s.subscription) await this.unsubscribe(s.account, s.subscription).catch(() => undefined);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.stop(id)));
  }

  /** Reconnects every stream at once (resume from suspend, network back); the count follows. */
  reconnectAll(why: string): void {
    for (const s of this.sessions.values()) {
      this.deps.log.info('reconnecting the stream', { account: s.account.username, why });
      s.connection?.abort();
    }
  }

  /** Cuts every back-off short: the network is back (another request, or another stream, got through). */
  retryNow(why: string): void {
    for (const s of this.sessions.values()) {
      if (!s.backoff) continue;
      this.deps.log.info('retrying the stream now', { account: s.account.username, why });
      s.backoff.abort();
    }
  }

  private async run(s: Session): Promise<void> {
    let attempt = 0;
    let spins = 0;
    let gap = true;
    let forceRefresh = false;
    while (!s.stop.signal.aborted) {
      try {
        const token = await this.deps.tokens.getToken(s.account.id, 'ews', { forceRefresh });
        forceRefresh = false;
        s.subscription ??= await this.subscribe(s.account, token.accessToken);
        const startedAt = this.deps.clock.now();
        const ending = await this.connect(s, token, () => {
          attempt = 0;
          this.retryNow('another stream connected');
          if (gap) this.notify(s, 'gap');
          gap = false;
        });
        if (s.stop.signal.aborted) continue;
        if (ending === 'closed') {
          // Renew at once, unless the server keeps closing streams as soon as they open: then back off.
          spins = this.deps.clock.now() - startedAt < MIN_CONNECTION_MS ? spins + 1 : 0;
          if (spins > 0) await this.pause(s, retryDelayMs(spins, this.deps.random ?? Math.random, TIMING), 'The server closed the stream as soon as it opened.');
          continue;
        }
        throw new AppError('transient', 'The streaming connection dropped.', { advice: 'Nothing to do: the daemon reconnects.', retryable: true });
      } catch (e) {
        if (s.stop.signal.aborted) return;
        gap = true;
        const code = isAppError(e) ? e.code : 'internal';
        if (e instanceof SubscriptionLost) s.subscription = null;
        if (code === 'mailbox_unauthorized' && !forceRefresh) forceRefresh = true;
        if (code === 'ews_disabled') this.notify(s, 'gap'); // the count finds it too, and hands over to Graph
        attempt += 1;
        // A lost subscription or a refused token is mended by the next request: no wait, twice at most in a row.
        const now = attempt <= 2 && (code === 'mailbox_unauthorized' || e instanceof SubscriptionLost);
        const wait = now ? 0 : retryDelayMs(attempt, this.deps.random ?? Math.random, TIMING, isAppError(e) ? e.data.retryAfterMs : undefined);
        this.deps.log.info('EWS streaming failed; retrying', { account: s.account.username, code, waitMs: Math.round(wait) });
        await this.pause(s, wait, isAppError(e) ? e.message : String(e));
      }
    }
  }

  /** Waits out a back-off (cut short by stop or retryNow), saying why in the stream's state. */
  private async pause(s: Session, wait: number, why: string): Promise<void> {
    this.setState(s, 'retrying', `${why} Retrying in ${Math.ceil(wait / 1000)} s.`);
    s.backoff = new AbortController();
    await this.deps.clock.sleep(wait, AbortSignal.any([s.stop.signal, s.backoff.signal])).catch(() => undefined);
    s.backoff = null;
  }

  private async subscribe(account: MailboxAccount, accessToken: string): Promise<{ id: string; cookie: string | null }> {
    const res = await this.deps.http.request({
      method: 'POST',
      url: this.deps.ewsUrl,
      headers: { ...this.headers(account, accessToken), 'X-PreferServerAffinity': 'true' },
      body: buildSubscribeRequest(),
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    const id = parseSubscribeResponse(res);
    const cookie = /X-BackEndOverrideCookie=([^;,\s]+)/i.exec(res.headers['set-cookie'] ?? '')?.[1] ?? null;
    this.deps.log.info('EWS streaming subscription made', { account: account.username, affinity: cookie !== null });
    return { id, cookie };
  }

  /** One GetStreamingEvents connection, read to its end. `onOpen` runs once the server accepted it. */
  private async connect(s: Session, token: AcquiredToken, onOpen: () => void): Promise<Ending> {
    const sub = s.subscription as { id: string; cookie: string | null };
    const minutes = Math.min(MAX_CONNECTION_MINUTES, Math.floor((token.expiresOn - this.deps.clock.now()) / 60_000) - 1);
    const connection = new AbortController();
    s.connection = connection;
    const signal = AbortSignal.any([s.stop.signal, connection.signal]);
    const headers = this.headers(s.account, token.accessToken, sub.cookie);
    const res = await this.deps.stream.open({ method: 'POST', url: this.deps.ewsUrl, headers, body: buildGetStreamingEventsRequest(sub.id, Math.max(1, minutes)), signal });
    if (res.status !== 200) throw await this.refusal(res);
    const watchdog = this.watch(connection);
    try {
      return await this.read(s, res.chunks, watchdog, onOpen);
    } catch (e) {
      if (signal.aborted || (isAppError(e) && e.code === 'transient')) return 'dropped';
      throw e;
    } finally {
      watchdog.stop();
      connection.abort();
    }
  }

  private async read(s: Session, chunks: AsyncIterable<Buffer>, watchdog: { touch(): void }, onOpen: () => void): Promise<Ending> {
    const splitter = new EnvelopeSplitter();
    let opened = false;
    for await (const chunk of chunks) {
      watchdog.touch();
      for (const xml of splitter.push(chunk)) {
        const m = parseStreamingEnvelope(xml);
        if (m.error?.code === 'ErrorSubscriptionNotFound') throw subscriptionLost(m.error.error);
        if (m.error) throw m.error.error;
        if (!opened) {
          opened = true;
          this.setState(s, 'streaming', 'EWS streaming notifications');
          onOpen();
        }
        if (m.events > 0) this.notify(s, 'notification');
        if (m.status === 'Closed') return 'closed';
      }
    }
    return 'dropped';
  }

  /** Aborts the connection when nothing arrived for IDLE_LIMIT_MS. */
  private watch(connection: AbortController): { touch(): void; stop(): void } {
    let last = this.deps.clock.now();
    const stopped = new AbortController();
    const loop = async () => {
      while (!stopped.signal.aborted) {
        await this.deps.clock.sleep(last + IDLE_LIMIT_MS - this.deps.clock.now(), stopped.signal);
        if (this.deps.clock.now() - last >= IDLE_LIMIT_MS) connection.abort();
      }
    };
    loop().catch(() => undefined);
    return { touch: () => (last = this.deps.clock.now()), stop: () => stopped.abort() };
  }

  /** Counts once per burst: the first event starts a DEBOUNCE_MS wait; events during a count cause one more. */
  private notify(s: Session, why: 'notification' | 'gap'): void {
    s.dirty = true;
    if (s.flushing) return;
    s.flushing = (async () => {
      while (s.dirty && !s.stop.signal.aborted) {
        if (why === 'notification') await this.deps.clock.sleep(DEBOUNCE_MS, s.stop.signal).catch(() => undefined);
        s.dirty = false;
        await this.deps.onChange(s.account.id, why).catch(() => undefined);
        why = 'notification';
      }
      s.flushing = null;
    })();
  }

  private async refusal(res: { status: number; headers: Record<string, string>; chunks: AsyncIterable<Buffer> }): Promise<AppError> {
    let body = '';
    for await (const c of res.chunks) if ((body += c.toString('utf8')).length > 1024 * 1024) break;
    const message = responseMessage({ status: res.status, headers: res.headers, body }, 'GetStreamingEventsResponseMessage');
    if (message instanceof AppError) return message;
    const failed = messageError(message);
    if (failed?.code === 'ErrorSubscriptionNotFound') return subscriptionLost(failed.error);
    return failed?.error ?? new AppError('mailbox_error', `EWS answered GetStreamingEvents with HTTP ${res.status}.`, { advice: 'The daemon retries on its own.', retryable: true });
  }

  private async unsubscribe(account: MailboxAccount, sub: { id: string; cookie: string | null }): Promise<void> {
    const token = await this.deps.tokens.getToken(account.id, 'ews');
    const headers = this.headers(account, token.accessToken, sub.cookie);
    await this.deps.http.request({ method: 'POST', url: this.deps.ewsUrl, headers, body: buildUnsubscribeRequest(sub.id), timeoutMs: 5_000 });
  }

  /** `cookie`: the subscription's affinity cookie, which every request after Subscribe carries. */
  private headers(account: MailboxAccount, accessToken: string, cookie: string | null = null): Record<string, string> {
    return {
      Authorization: `Bearer ${accessToken}`,
      'Content-Type': 'text/xml; charset=utf-8',
      'X-AnchorMailbox': account.username,
      'client-request-id': randomUUID(),
      'return-client-request-id': 'true',
      ...(cookie ? { Cookie: `X-BackEndOverrideCookie=${cookie}` } : {}),
    };
  }

  private setState(s: Session, kind: StreamState['kind'], reason: string): void {
    if (s.state.kind === kind && s.state.reason === reason) return;
    s.state = { kind, since: s.state.kind === kind ? s.state.since : this.deps.clock.now(), reason };
    this.deps.onState?.(s.account.id);
  }
}

/** ErrorSubscriptionNotFound: the subscription expired or lives on another server; subscribe again. */
class SubscriptionLost extends AppError {}

function subscriptionLost(e: AppError): AppError {
  return new SubscriptionLost('mailbox_error', 'The EWS subscription was not found (expired, or on another server).', { advice: 'Nothing to do: the daemon subscribes again.', retryable: true }, { cause: e });
}

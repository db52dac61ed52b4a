// EWS streaming notifications as Exchange Online serves them (Microsoft Learn: "Stream
// notifications about mailbox events by using EWS in Exchange", "Subscribe operation",
// "GetStreamingEvents operation", "Unsubscribe operation", "Maintain affinity between a group of
// subscriptions and the Mailbox server in Exchange"):
// - Subscribe with a StreamingSubscriptionRequest on the inbox answers a SubscriptionId, and,
//   when the request carries X-AnchorMailbox and X-PreferServerAffinity: true, the
//   X-BackEndOverrideCookie that routes later requests to the mailbox server holding it.
// - GetStreamingEvents (ConnectionTimeout 1–30 minutes) is one chunked HTTP response carrying one
//   SOAP envelope per message: Notifications when the mailbox changes, ConnectionStatus OK while
//   idle, ConnectionStatus Closed at the timeout. Without the cookie the request lands on another
//   mailbox server, which does not know the subscription: ErrorSubscriptionNotFound, as the
//   affinity article warns. A subscription with no connection for 30 minutes expires.
// - Choices (the documentation gives no figures): keep-alive every keepAliveMs (default 30 s);
//   at most maxConnectionsPerUser (default 10) open connections per mailbox, beyond which
//   ErrorExceededConnectionCount answers (EWS throttling). `minuteMs` shortens a "minute" of
//   ConnectionTimeout for tests; subscription expiry follows the emulator's clock (advanceTime).
import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Ctx } from './context';
import { connectionStatus, notificationEnvelope, streamingError, subscribeError, subscribeResponse, unsubscribeResponse, STREAMING_TEXT, type EventType, type StreamEvent, type StreamingRequest } from './ews-streaming-soap';
import { inboxView } from './ews-soap';
import { send } from './http-util';
import type { EmulatorClock, Mailbox, User } from './state';

/** A subscription nobody has connected to for this long is gone (the streaming article: 30 minutes). */
export const SUBSCRIPTION_IDLE_MINUTES = 30;
/** Events in one Notifications envelope at most; a larger change is sent as this many. */
const MAX_EVENTS = 50;

export interface StreamingSettings {
  keepAliveMs: number;
  minuteMs: number;
  maxConnectionsPerUser: number;
}

export interface StreamingCounters {
  subscribes: number;
  connections: number;
  unsubscribes: number;
  notifications: number;
  /** Connections ended by dropStreams (the fault switch). */
  dropped: number;
  /** GetStreamingEvents answered ErrorSubscriptionNotFound. */
  notFound: number;
  /** The most connections one mailbox has had open at once, by username. */
  peakConnections: Record<string, number>;
}

export const emptyStreamingCounters = (): StreamingCounters => ({ subscribes: 0, connections: 0, unsubscribes: 0, notifications: 0, dropped: 0, notFound: 0, peakConnections: {} });

interface Subscription {
  id: string;
  username: string;
  eventTypes: Set<string>;
  cookie: string | null;
  /** Emulator-clock ms when its last connection ended (or it was made); null while one is open. */
  idleSince: number | null;
}

interface Stream {
  username: string;
  subscriptionIds: string[];
  res: ServerResponse;
  stop(): void;
}

export class StreamingHub {
  readonly settings: StreamingSettings = { keepAliveMs: 30_000, minuteMs: 60_000, maxConnectionsPerUser: 10 };
  counters = emptyStreamingCounters();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly streams = new Set<Stream>();

  constructor(private readonly clock: EmulatorClock) {}

  openConnections(username: string): number {
    return [...this.streams].filter((s) => s.username === username).length;
  }

  /** The fault switch: ends open connections (of one mailbox, or all) without ConnectionStatus Closed. */
  drop(username?: string): number {
    const victims = [...this.streams].filter((s) => username === undefined || s.username === username);
    for (const s of victims) {
      s.stop();
      s.res.destroy();
      this.counters.dropped += 1;
    }
    return victims.length;
  }

  /** Forgets subscriptions (of one mailbox, or all), as if they had expired. */
  expire(username?: string): number {
    let n = 0;
    for (const [id, sub] of this.subscriptions) {
      if (username !== undefined && sub.username !== username) continue;
      this.subscriptions.delete(id);
      n += 1;
    }
    return n;
  }

  /** A mailbox's counts changed: the events Exchange would raise go to every open connection watching them. */
  mailboxChanged(user: User, before: Mailbox): void {
    const events = eventsFor(user, before);
    if (events.length === 0) return;
    for (const stream of this.streams) {
      if (stream.username !== user.username) continue;
      for (const id of stream.subscriptionIds) {
        const sub = this.subscriptions.get(id);
        const wanted = events.filter((e) => sub?.eventTypes.has(e.type));
        if (!sub || wanted.length === 0) continue;
        stream.res.write(notificationEnvelope(id, wanted, new Date(this.clock.now())));
        this.counters.notifications += 1;
      }
    }
  }

  handle(ctx: Ctx, user: User, request: StreamingRequest, sendXml: (status: number, xml: string, headers?: Record<string, string>) => void): void {
    if (request.operation === 'Subscribe') return this.subscribe(ctx, user, request, sendXml);
    if (request.operation === 'Unsubscribe') {
      this.counters.unsubscribes += 1;
      const sub = this.live(request.subscriptionId);
      if (sub?.username !== user.username) return sendXml(200, unsubscribeResponse({ ok: false, code: 'ErrorSubscriptionNotFound', text: STREAMING_TEXT.notFound }));
      this.subscriptions.delete(sub.id);
      return sendXml(200, unsubscribeResponse({ ok: true }));
    }
    this.getStreamingEvents(ctx, user, request, sendXml);
  }

  private subscribe(ctx: Ctx, user: User, r: Extract<StreamingRequest, { operation: 'Subscribe' }>, sendXml: (status: number, xml: string, headers?: Record<string, string>) => void): void {
    if (!r.streaming) return sendXml(200, subscribeError('ErrorInvalidSubscriptionRequest', STREAMING_TEXT.streamingOnly));
    if (r.folders.length === 0 || !r.folders.every((f) => f.toLowerCase() === 'inbox') || r.eventTypes.length === 0) {
      return sendXml(200, subscribeError('ErrorInvalidSubscriptionRequest', STREAMING_TEXT.folders));
    }
    const h = ctx.req.headers;
    const affinity = String(h['x-preferserveraffinity']).toLowerCase() === 'true' && typeof h['x-anchormailbox'] === 'string';
    const cookie = affinity ? `AM0PR01MB${crypto.randomInt(1000, 9999)}.EURPRD01.PROD.EXCHANGELABS.COM~${crypto.randomInt(1e9, 2e9)}` : null;
    const id = Buffer.from(`${crypto.randomUUID()}/${user.oid}`).toString('base64');
    this.subscriptions.set(id, { id, username: user.username, eventTypes: new Set(r.eventTypes.map(eventName)), cookie, idleSince: this.clock.now() });
    sendXml(200, subscribeResponse(id), cookie ? { 'set-cookie': `X-BackEndOverrideCookie=${cookie}; path=/; secure; HttpOnly` } : {});
  }

  private getStreamingEvents(ctx: Ctx, user: User, r: Extract<StreamingRequest, { operation: 'GetStreamingEvents' }>, sendXml: (status: number, xml: string) => void): void {
    this.counters.connections += 1;
    if (!Number.isInteger(r.connectionTimeout) || r.connectionTimeout < 1 || r.connectionTimeout > 30 || r.subscriptionIds.length === 0) {
      return sendXml(200, streamingError('ErrorInvalidRequest', STREAMING_TEXT.timeout, []));
    }
    const cookie = /(?:^|;\s*)X-BackEndOverrideCookie=([^;]+)/i.exec(String(ctx.req.headers.cookie ?? ''))?.[1];
    const missing = r.subscriptionIds.filter((id) => {
      const sub = this.live(id);
      return !sub || sub.username !== user.username || sub.cookie === null || sub.cookie !== cookie;
    });
    if (missing.length > 0) {
      this.counters.notFound += 1;
      return sendXml(200, streamingError('ErrorSubscriptionNotFound', STREAMING_TEXT.notFound, missing));
    }
    if (this.openConnections(user.username) >= this.settings.maxConnectionsPerUser) return sendXml(200, streamingError('ErrorExceededConnectionCount', STREAMING_TEXT.tooMany, []));
    this.open(ctx.res, user.username, r.subscriptionIds, r.connectionTimeout);
  }

  private open(res: ServerResponse, username: string, subscriptionIds: string[], minutes: number): void {
    // No content-length: Node sends the body chunked, one chunk per envelope written.
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'private', 'x-backendhttpstatus': '200' });
    const keepAlive = setInterval(() => res.write(connectionStatus('OK')), this.settings.keepAliveMs);
    const timeout = setTimeout(() => {
      stream.stop();
      res.end(connectionStatus('Closed'));
    }, minutes * this.settings.minuteMs);
    const stream: Stream = {
      username,
      subscriptionIds,
      res,
      stop: () => {
        clearInterval(keepAlive);
        clearTimeout(timeout);
        if (!this.streams.delete(stream)) return;
        for (const id of subscriptionIds) {
          const sub = this.subscriptions.get(id);
          if (sub) sub.idleSince = this.clock.now();
        }
      },
    };
    this.streams.add(stream);
    for (const id of subscriptionIds) (this.subscriptions.get(id) as Subscription).idleSince = null;
    const open = this.openConnections(username);
    this.counters.peakConnections[username] = Math.max(this.counters.peakConnections[username] ?? 0, open);
    res.on('close', () => stream.stop());
    res.write(connectionStatus('OK'));
  }

  /** The subscription, unless unknown or expired by idleness. */
  private live(id: string): Subscription | undefined {
    const sub = this.subscriptions.get(id);
    if (!sub) return undefined;
    if (sub.idleSince !== null && this.clock.now() - sub.idleSince > SUBSCRIPTION_IDLE_MINUTES * 60_000) {
      this.subscriptions.delete(id);
      return undefined;
    }
    return sub;
  }
}

/** "NewMail" and "NewMailEvent" both name the event type; kept in the long form. */
function eventName(t: string): string {
  return t.endsWith('Event') ? t : `${t}Event`;
}

/** More items: Created + NewMail each; fewer: Deleted each; only the unread count moved: Modified. */
function eventsFor(user: User, before: Mailbox): StreamEvent[] {
  const inbox = inboxView(user.oid, user.mailbox.total, user.mailbox.unread).id;
  const delta = user.mailbox.total - before.total;
  const item = () => Buffer.from(`AAMkAD/${user.oid}/item/${crypto.randomUUID()}`).toString('base64');
  const each = (types: EventType[], n: number): StreamEvent[] =>
    Array.from({ length: Math.min(n, MAX_EVENTS) }, () => item()).flatMap((itemId) => types.map((type) => ({ type, itemId, parentFolderId: inbox })));
  if (delta > 0) return each(['CreatedEvent', 'NewMailEvent'], delta);
  if (delta < 0) return each(['DeletedEvent'], -delta);
  return user.mailbox.unread !== before.unread ? each(['ModifiedEvent'], 1) : [];
}

/** Sends XML the way ews.ts does, with extra headers. */
export function xmlSender(ctx: Ctx, headers: Record<string, string>): (status: number, xml: string, extra?: Record<string, string>) => void {
  return (status, xml, extra = {}) => send(ctx.res, status, xml, { ...headers, ...extra, 'content-type': 'text/xml; charset=utf-8' });
}

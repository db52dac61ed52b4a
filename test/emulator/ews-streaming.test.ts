// EWS streaming notifications as the emulator serves them: Subscribe with the affinity cookie,
// GetStreamingEvents as one chunked response of many envelopes (OK, Notifications, Closed),
// ErrorSubscriptionNotFound without the cookie / for unknown or expired subscriptions,
// Unsubscribe, the drop switch, ErrorServerBusy on Subscribe, and the counters tests rely on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors';
import type { HttpStreamResponse } from '../../host/src/deps';
import { EnvelopeSplitter, buildGetStreamingEventsRequest, buildSubscribeRequest, buildUnsubscribeRequest, parseStreamingEnvelope, parseSubscribeResponse, type StreamingMessage } from '../../host/src/mailbox/ews-streaming-soap';
import { startEmulator, type Emulator } from './index';
import { ALICE, httpFor, signInRaw, type TestHttp } from './test-kit';
import { waitUntil } from '../support/wait';

/** Reads envelopes off a streamed response, one at a time, in order. */
function envelopes(res: HttpStreamResponse): () => Promise<StreamingMessage | 'end'> {
  const it = res.chunks[Symbol.asyncIterator]();
  const splitter = new EnvelopeSplitter();
  const queue: string[] = [];
  return async () => {
    while (queue.length === 0) {
      const next = await it.next();
      if (next.done) return 'end';
      queue.push(...splitter.push(next.value));
    }
    return parseStreamingEnvelope(queue.shift() as string);
  };
}

describe('EWS streaming notifications', () => {
  let emulator: Emulator;
  let http: TestHttp;
  let token: string;
  const headers = () => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'text/xml; charset=utf-8', 'X-AnchorMailbox': ALICE });

  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
    token = String((await signInRaw(http, emulator)).body.access_token);
  });
  afterEach(() => {
    emulator.admin.dropStreams();
    emulator.admin.clearFaults();
    emulator.admin.setStreaming({ keepAliveMs: 30_000, minuteMs: 60_000 });
  });
  afterAll(async () => {
    await http?.close();
    await emulator?.stop();
  });

  async function subscribe(affinity = true): Promise<{ id: string; cookie: string | undefined }> {
    const res = await http.request({ method: 'POST', url: emulator.ewsUrl, headers: { ...headers(), ...(affinity ? { 'X-PreferServerAffinity': 'true' } : {}) }, body: buildSubscribeRequest() });
    return { id: parseSubscribeResponse(res), cookie: /X-BackEndOverrideCookie=([^;]+)/.exec(res.headers['set-cookie'] ?? '')?.[1] };
  }

  async function stream(id: string, cookie: string | undefined, minutes = 30, signal = new AbortController().signal) {
    const res = await http.open({ method: 'POST', url: emulator.ewsUrl, headers: { ...headers(), ...(cookie ? { Cookie: `X-BackEndOverrideCookie=${cookie}` } : {}) }, body: buildGetStreamingEventsRequest(id, minutes), signal });
    return { res, next: envelopes(res) };
  }

  it('subscribes with the affinity cookie, streams notifications for mailbox changes, and closes at the timeout', async () => {
    // A minute of ConnectionTimeout lasts a minute here: the notifications never race the close.
    emulator.admin.setStreaming({ keepAliveMs: 50, minuteMs: 60_000 });
    const { id, cookie } = await subscribe();
    expect(cookie).toMatch(/^[A-Z0-9.]+~\d+$/);
    const abort = new AbortController();
    const { res, next } = await stream(id, cookie, 1, abort.signal);
    try {
      expect(res.status).toBe(200);
      expect(res.headers['transfer-encoding']).toBe('chunked');
      expect(await next()).toMatchObject({ status: 'OK', events: 0, error: null });
      expect(emulator.admin.openStreams(ALICE)).toBe(1);
      const before = emulator.admin.stats().streaming.notifications;
      emulator.admin.setMailbox(ALICE, { total: 4819, unread: 25 });
      let m = await next();
      while (m !== 'end' && m.events === 0) m = await next(); // keep-alives before it
      expect(m).toMatchObject({ events: 4 }); // two new items: CreatedEvent + NewMailEvent each
      emulator.admin.setMailbox(ALICE, { total: 4819, unread: 24 });
      do m = await next();
      while (m !== 'end' && m.events === 0);
      expect(m).toMatchObject({ events: 1 }); // the unread count alone: ModifiedEvent
      expect(emulator.admin.stats().streaming.notifications - before).toBe(2);
    } finally {
      abort.abort();
      emulator.admin.setMailbox(ALICE, { total: 4817, unread: 23 });
    }
    await waitUntil('the first connection gone', async () => emulator.admin.openStreams(ALICE), (n) => n === 0);
    // The close at ConnectionTimeout, on a connection whose minute is short.
    emulator.admin.setStreaming({ keepAliveMs: 50, minuteMs: 300 });
    const short = await stream(id, cookie, 1);
    let m = await short.next();
    while (m !== 'end' && m.status === 'OK') m = await short.next();
    expect(m).toMatchObject({ status: 'Closed' });
    expect(await short.next()).toBe('end');
    await waitUntil('no open stream', async () => emulator.admin.openStreams(ALICE), (n) => n === 0);
    expect(emulator.admin.stats().streaming.peakConnections[ALICE]).toBe(1);
  });

  it('answers ErrorSubscriptionNotFound without the cookie, for an unknown id, and after 30 idle minutes', async () => {
    const plain = await subscribe(false);
    expect(plain.cookie).toBeUndefined();
    for (const [id, cookie] of [[plain.id, undefined], ['AAAAunknown', 'x~1']] as const) {
      const { res, next } = await stream(id, cookie);
      expect(res.status).toBe(200);
      expect(await next()).toMatchObject({ error: { code: 'ErrorSubscriptionNotFound' } });
      expect(await next()).toBe('end');
    }
    const sub = await subscribe();
    emulator.admin.advanceTime(31 * 60_000);
    const { next } = await stream(sub.id, sub.cookie);
    expect(await next()).toMatchObject({ error: { code: 'ErrorSubscriptionNotFound' } });
    emulator.admin.advanceTime(-31 * 60_000);
  });

  it('refuses a ConnectionTimeout outside 1–30 minutes', async () => {
    const { id, cookie } = await subscribe();
    const body = buildGetStreamingEventsRequest(id, 5).replace('>5<', '>31<');
    const res = await http.request({ method: 'POST', url: emulator.ewsUrl, headers: { ...headers(), Cookie: `X-BackEndOverrideCookie=${cookie}` }, body });
    expect(parseStreamingEnvelope(res.body).error?.code).toBe('ErrorInvalidRequest');
  });

  it('drops open connections on the fault switch, and forgets a subscription on Unsubscribe', async () => {
    const { id, cookie } = await subscribe();
    const { next } = await stream(id, cookie);
    expect(await next()).toMatchObject({ status: 'OK' });
    expect(emulator.admin.dropStreams(ALICE)).toBe(1);
    await expect(next()).rejects.toSatisfy((e) => isAppError(e) && e.code === 'transient');
    expect(emulator.admin.stats().streaming.dropped).toBeGreaterThanOrEqual(1);
    const un = await http.request({ method: 'POST', url: emulator.ewsUrl, headers: { ...headers(), Cookie: `X-BackEndOverrideCookie=${cookie}` }, body: buildUnsubscribeRequest(id) });
    expect(un.body).toContain('ResponseClass="Success"');
    const again = await stream(id, cookie);
    expect(await again.next()).toMatchObject({ error: { code: 'ErrorSubscriptionNotFound' } });
  });

  it('answers ErrorServerBusy with BackOffMilliseconds on Subscribe when told to', async () => {
    emulator.admin.failSubscribe({ kind: 'busy-fault', backOffMs: 1234 }, 1);
    const error = await subscribe().catch((e: unknown) => e);
    expect(isAppError(error) && error.data).toMatchObject({ code: 'throttled', retryAfterMs: 1234 });
    expect((await subscribe()).id).toBeTruthy();
  });
});

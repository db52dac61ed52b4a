// The streaming session's rules with a fake clock and scripted server: affinity headers, one
// count per burst within the debounce, one count after a gap and none after an orderly Closed,
// resubscribing on ErrorSubscriptionNotFound, ErrorServerBusy's back-off, one connection at a time.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { connectionStatus, notificationEnvelope, streamingError, subscribeResponse } from '../../../test/emulator/ews-streaming-soap';
import { FAKE_CLOCK_START as FAKE_START, FakeClock } from '../../../test/support/fake-clock';
import { FakeLog } from '../../../test/support/fakes';
import type { Http, HttpRequest, HttpResponse, HttpStream, HttpStreamResponse } from '../deps';
import { DEBOUNCE_MS, EwsStreaming } from './ews-streaming';

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/ews');

const HOUR = 3600_000;

/** A GetStreamingEvents response the test writes envelopes into. */
class ScriptedStream {
  private readonly queue: (Buffer | Error | null)[] = [];
  private waiter: (() => void) | null = null;
  constructor(readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.fail(new AppError('transient', 'aborted', { advice: '', retryable: true })));
  }
  send(xml: string): void { this.put(Buffer.from(xml)); }
  end(): void { this.put(null); }
  fail(e: Error): void { this.put(e); }
  private put(x: Buffer | Error | null): void {
    this.queue.push(x);
    this.waiter?.();
  }
  async *chunks(): AsyncIterable<Buffer> {
    for (;;) {
      while (this.queue.length === 0) await new Promise<void>((r) => (this.waiter = r));
      const next = this.queue.shift();
      if (next === null || next === undefined) return;
      if (next instanceof Error) throw next;
      yield next;
    }
  }
}

function setup(subscribeAnswers: (HttpResponse | Error)[] = []) {
  const clock = new FakeClock();
  const requests: HttpRequest[] = [];
  const streams: ScriptedStream[] = [];
  const changes: string[] = [];
  let open = 0;
  let peak = 0;
  const http: Http = {
    async request(req) {
      requests.push(req);
      const next = subscribeAnswers.shift();
      if (next instanceof Error) throw next;
      return next ?? { status: 200, headers: { 'set-cookie': 'X-BackEndOverrideCookie=BE1~42; path=/; secure; HttpOnly' }, body: subscribeResponse(`SUB-${requests.length}`) };
    },
  };
  const stream: HttpStream = {
    async open(req): Promise<HttpStreamResponse> {
      requests.push(req);
      const s = new ScriptedStream(req.signal);
      streams.push(s);
      peak = Math.max(peak, ++open);
      req.signal.addEventListener('abort', () => open--);
      return { status: 200, headers: {}, chunks: s.chunks() };
    },
  };
  const streaming = new EwsStreaming({
    clock, log: new FakeLog(), http, stream, ewsUrl: 'https://ews.example/EWS/Exchange.asmx',
    tokens: { getToken: async () => ({ accessToken: 'AT', expiresOn: clock.now() + HOUR, scopes: [], fromCache: true }) },
    onChange: async (_id, why) => void changes.push(why),
    random: () => 0,
  });
  const until = (what: () => boolean) => clock.runUntil(what, { maxMs: HOUR });
  return { clock, requests, streams, changes, streaming, until, peak: () => peak };
}

const ACCOUNT = { id: 'a1', username: 'alice@contoso.example' };

describe('EwsStreaming', () => {
  it('subscribes with affinity headers, sends the cookie, counts once after connecting and once per burst', async () => {
    const t = setup();
    t.streaming.start(ACCOUNT);
    await t.until(() => t.streams.length === 1);
    const [subscribe, get] = t.requests;
    expect(subscribe?.headers).toMatchObject({ 'X-AnchorMailbox': ACCOUNT.username, 'X-PreferServerAffinity': 'true' });
    expect(get?.headers).toMatchObject({ Cookie: 'X-BackEndOverrideCookie=BE1~42', 'X-AnchorMailbox': ACCOUNT.username });
    expect(get?.body).toContain('<m:ConnectionTimeout>30</m:ConnectionTimeout>');
    t.streams[0]!.send(connectionStatus('OK'));
    await t.until(() => t.changes.length === 1);
    expect(t.changes).toEqual(['gap']);
    const start = t.clock.now();
    for (let i = 0; i < 5; i++) {
      t.streams[0]!.send(notificationEnvelope('SUB-1', [{ type: 'NewMailEvent', parentFolderId: 'F' }], new Date()));
      await t.clock.advance(20);
    }
    await t.until(() => t.changes.length === 2);
    expect(t.clock.now() - start).toBeLessThanOrEqual(DEBOUNCE_MS);
    await t.clock.advance(5_000);
    expect(t.changes).toEqual(['gap', 'notification']);
    await t.streaming.stopAll();
  });

  it('reconnects at once after Closed without counting, and resubscribes after ErrorSubscriptionNotFound, counting once', async () => {
    const t = setup();
    t.streaming.start(ACCOUNT);
    await t.until(() => t.streams.length === 1);
    t.streams[0]!.send(connectionStatus('OK'));
    await t.until(() => t.changes.length === 1);
    await t.clock.advance(2 * 60_000); // the connection held a while
    const before = t.clock.now();
    t.streams[0]!.send(connectionStatus('Closed'));
    await t.until(() => t.streams.length === 2);
    expect(t.clock.now()).toBe(before);
    t.streams[1]!.send(connectionStatus('OK'));
    await t.clock.advance(1_000);
    expect(t.changes).toEqual(['gap']);
    t.streams[1]!.send(streamingError('ErrorSubscriptionNotFound', 'gone', ['SUB-1']));
    await t.until(() => t.streams.length === 3);
    expect(t.requests.filter((r) => r.body?.includes('<m:Subscribe>')).length).toBe(2);
    t.streams[2]!.send(connectionStatus('OK'));
    await t.until(() => t.changes.length === 2);
    expect(t.peak()).toBe(1);
    await t.streaming.stopAll();
  });

  it('backs off from a server that closes every stream as soon as it opens', async () => {
    const t = setup();
    t.streaming.start(ACCOUNT);
    for (let i = 0; i < 4; i++) {
      await t.until(() => t.streams.length === i + 1);
      t.streams[i]!.send(connectionStatus('OK') + connectionStatus('Closed'));
    }
    await t.until(() => t.streams.length === 5);
    expect(t.clock.now() - FAKE_START).toBe(500 + 1_000 + 2_000 + 4_000); // 0.5, 1, 2, 4 s (jitter at its least)
    await t.streaming.stopAll();
  });

  it('waits out ErrorServerBusy on Subscribe for its BackOffMilliseconds', async () => {
    const busy = fs.readFileSync(path.join(FIXTURES, 'fault-server-busy.xml'), 'utf8'); // a real server's: BackOffMilliseconds 297749
    const t = setup([{ status: 500, headers: {}, body: busy }]);
    const start = t.clock.now();
    t.streaming.start(ACCOUNT);
    await t.until(() => t.streams.length === 1);
    expect(t.clock.now() - start).toBe(297_749);
    expect(t.streaming.state(ACCOUNT.id)?.kind).toBe('retrying');
    t.streams[0]!.send(connectionStatus('OK'));
    await t.until(() => t.streaming.state(ACCOUNT.id)?.kind === 'streaming');
    await t.streaming.stopAll();
  });

  it('cuts a back-off short when the network is back', async () => {
    const down = () => new AppError('transient', 'Could not reach ews.example: ENETUNREACH', { advice: '', retryable: true });
    const t = setup([down(), down(), down(), down(), down()]);
    t.streaming.start(ACCOUNT);
    await t.until(() => t.requests.length === 5); // backing off 1, 2, 4, 8 s…
    expect(t.streaming.state(ACCOUNT.id)?.kind).toBe('retrying');
    const at = t.clock.now();
    t.streaming.retryNow('the network is back');
    await t.until(() => t.streams.length === 1);
    expect(t.clock.now()).toBe(at);
    await t.streaming.stopAll();
  });

  it('after a drop backs off, reconnects with the same subscription and counts once; a silent stream is dropped', async () => {
    const t = setup();
    t.streaming.start(ACCOUNT);
    await t.until(() => t.streams.length === 1);
    t.streams[0]!.send(connectionStatus('OK'));
    await t.until(() => t.changes.length === 1);
    t.streams[0]!.fail(new AppError('transient', 'ECONNRESET', { advice: '', retryable: true }));
    await t.until(() => t.streams.length === 2);
    t.streams[1]!.send(connectionStatus('OK'));
    await t.until(() => t.changes.length === 2);
    expect(t.requests.filter((r) => r.body?.includes('<m:Subscribe>')).length).toBe(1);
    await t.clock.advance(3 * 60_000 + 1);
    await t.until(() => t.streams.length === 3); // no envelope for 3 minutes: taken as dead
    expect(t.peak()).toBe(1);
    await t.streaming.stopAll();
    expect(t.requests.at(-1)?.body).toContain('<m:Unsubscribe>');
  });
});

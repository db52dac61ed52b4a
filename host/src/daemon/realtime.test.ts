// Polling rules where nothing pushes (Graph, or `realtime: false`), on a fake clock: every 15 s
// while someone watches, every pollIntervalSeconds while only the badge listens, never while
// nobody listens; EWS accounts stream instead; a suspend reconnects streams and counts at once.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../../shared/protocol';
import { FakeClock } from '../../../test/support/fake-clock';
import { FakeLog } from '../../../test/support/fakes';
import type { StreamState } from '../mailbox/ews-streaming';
import { Realtime, WATCHING_POLL_MS, type StreamingControl } from './realtime';

const MIN = 60_000;

function setup(opts: { backend?: Backend; streamingEnabled?: boolean } = {}) {
  const clock = new FakeClock();
  const counts: number[] = [];
  const listeners = { listening: 0, watching: 0 };
  const streamed = new Map<string, StreamState>();
  const reconnects: string[] = [];
  const streaming: StreamingControl = {
    start: (a) => void streamed.set(a.id, { kind: 'streaming', since: clock.now(), reason: 'ok' }),
    stop: async (id) => void streamed.delete(id),
    stopAll: async () => streamed.clear(),
    has: (id) => streamed.has(id),
    ids: () => [...streamed.keys()],
    state: (id) => streamed.get(id) ?? null,
    reconnectAll: (why) => void reconnects.push(`reconnectAll: ${why}`),
    retryNow: (why) => void reconnects.push(`retryNow: ${why}`),
  };
  const realtime = new Realtime({
    clock, log: new FakeLog(), streamingEnabled: opts.streamingEnabled ?? true, listeningPollMs: MIN, streaming,
    live: () => [{ id: 'a1', username: 'alice@contoso.example' }],
    backend: () => opts.backend ?? 'graph',
    count: async () => void counts.push(clock.now()),
    listeners: () => listeners,
  });
  realtime.start();
  return { clock, counts, listeners, realtime, streamed, reconnects, start: clock.now() };
}

describe('Realtime', () => {
  it('polls Graph every 60 s while the badge listens, every 15 s while someone watches, not at all while nobody listens', async () => {
    const t = setup();
    await t.clock.advance(10 * MIN);
    expect(t.counts).toEqual([]);
    expect(t.realtime.status('a1')).toMatchObject({ kind: 'off' });
    t.listeners.listening = 1;
    t.realtime.sync();
    await t.clock.advance(3 * MIN);
    const badge = t.counts.length;
    // The first poll as soon as the badge listens (10 min in), then one a minute.
    expect(t.counts.map((c) => (c - t.start) / 1000)).toEqual([600, 660, 720, 780]);
    expect(t.realtime.status('a1')).toMatchObject({ kind: 'polling', reason: expect.stringContaining('every 60 s') });
    t.listeners.listening = 2;
    t.listeners.watching = 1;
    t.realtime.sync();
    await t.clock.advance(MIN);
    expect(t.counts.length - badge).toBe(MIN / WATCHING_POLL_MS);
    expect(t.realtime.status('a1').reason).toContain('every 15 s');
    t.listeners.listening = 0;
    t.listeners.watching = 0;
    t.realtime.sync();
    const stopped = t.counts.length;
    await t.clock.advance(30 * MIN);
    expect(t.counts.length).toBe(stopped);
    await t.realtime.stop();
  });

  it('streams EWS accounts instead of polling them, and polls when config turns streaming off', async () => {
    const t = setup({ backend: 'ews' });
    t.listeners.listening = 1;
    t.realtime.sync();
    await t.clock.advance(5 * MIN);
    expect(t.counts).toEqual([]);
    expect(t.realtime.status('a1')).toMatchObject({ kind: 'streaming' });
    t.streamed.set('a1', { kind: 'retrying', since: t.clock.now(), reason: 'The streaming connection dropped. Retrying in 4 s.' });
    const dropped = t.clock.now();
    await t.clock.advance(2 * MIN);
    expect(t.counts.map((c) => (c - dropped) / 1000)).toEqual([60, 120]); // polled at the next beats while the stream is down
    expect(t.realtime.status('a1')).toMatchObject({ kind: 'polling', reason: expect.stringContaining('reconnecting (The streaming connection dropped.') });
    await t.realtime.stop();
    const off = setup({ backend: 'ews', streamingEnabled: false });
    off.listeners.listening = 1;
    off.realtime.sync();
    await off.clock.advance(2 * MIN);
    expect(off.counts.map((c) => (c - off.start) / 1000)).toEqual([0, 60, 120]);
    expect(off.streamed.size).toBe(0);
    expect(off.realtime.status('a1').reason).toContain('"realtime": false');
    await off.realtime.stop();
  });

  it('after a suspend, reconnects the streams and counts at once', async () => {
    const t = setup({ backend: 'ews' });
    await t.clock.advance(MIN);
    await t.clock.jump(2 * 3600_000);
    await t.clock.advance(MIN);
    expect(t.reconnects).toEqual(['reconnectAll: resume from suspend']);
    expect(t.counts.length).toBe(1);
    await t.realtime.stop();
  });
});

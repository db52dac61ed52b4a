import { describe, expect, it } from 'vitest';
import { installHint } from '../lib/install-hint';
import { FakeTimers, flush, status } from '../test-support';
import { NativeClient, type ClientEvent, type NativePort } from './native-port';

interface Sent {
  id?: number;
  method: string;
  params?: unknown;
}

/** A native port the test plays the companion on. */
class FakePort implements NativePort {
  sent: Sent[] = [];
  private onMsg: Array<(m: unknown) => void> = [];
  private onDis: Array<() => void> = [];
  error: { message: string } | null = null;
  disconnected = false;
  onMessage = { addListener: (cb: (m: unknown) => void) => void this.onMsg.push(cb) };
  onDisconnect = { addListener: (cb: () => void) => void this.onDis.push(cb) };
  postMessage(m: unknown) {
    this.sent.push(m as Sent);
  }
  disconnect() {
    this.disconnected = true;
  }
  reply(id: number | undefined, result: unknown) {
    for (const cb of this.onMsg) cb({ jsonrpc: '2.0', id, result });
  }
  fail(id: number | undefined, code: string, message: string) {
    for (const cb of this.onMsg) cb({ jsonrpc: '2.0', id: id ?? null, error: { code: -32000, message, data: { code, advice: 'do this', retryable: false } } });
  }
  notify(method: string, params: unknown) {
    for (const cb of this.onMsg) cb({ jsonrpc: '2.0', method, params });
  }
  close(message?: string) {
    this.error = message ? { message } : null;
    for (const cb of this.onDis) cb();
  }
  /** Answers the greeting: status, then events.subscribe. */
  async greet() {
    this.reply(this.sent.find((s) => s.method === 'status')!.id, status([]));
    await flush();
    this.reply(this.sent.find((s) => s.method === 'events.subscribe')!.id, { subscribed: true });
    await flush();
  }
}

function setup() {
  const timers = new FakeTimers();
  const ports: FakePort[] = [];
  const events: ClientEvent[] = [];
  const client = new NativeClient({
    connect: () => {
      const p = new FakePort();
      ports.push(p);
      return p;
    },
    disconnectReason: (p) => (p as FakePort).error?.message,
    hint: installHint(['Chromium'], 'Chrome/156'),
    log: () => undefined,
    ...timers,
  });
  client.on((e) => events.push(e));
  return { timers, ports, events, client };
}

describe('NativeClient', () => {
  it('greets a new port with status and subscribes to events', async () => {
    const { ports, events, client } = setup();
    client.ensureOpen();
    await ports[0]!.greet();
    expect(ports[0]!.sent.map((s) => s.method)).toEqual(['status', 'events.subscribe']);
    expect(events.map((e) => e.kind)).toEqual(['connecting', 'ready']);
  });

  it('tells the daemon while a popup watches, and greets a new port the same way', async () => {
    const { ports, client } = setup();
    client.ensureOpen();
    await ports[0]!.greet();
    client.setWatching(true);
    expect(ports[0]!.sent.at(-1)).toMatchObject({ method: 'events.subscribe', params: { watching: true } });
    client.setWatching(true);
    expect(ports[0]!.sent.filter((s) => s.method === 'events.subscribe')).toHaveLength(2);
    client.setWatching(false);
    expect(ports[0]!.sent.at(-1)).toMatchObject({ method: 'events.subscribe' });
    expect(ports[0]!.sent.at(-1)?.params).toBeUndefined();
    client.setWatching(true);
    ports[0]!.close('Native host has exited.');
    client.ensureOpen();
    await ports[1]!.greet();
    expect(ports[1]!.sent.find((s) => s.method === 'events.subscribe')?.params).toEqual({ watching: true });
  });

  it('matches answers to calls by id, in any order', async () => {
    const { ports, client } = setup();
    client.ensureOpen();
    await ports[0]!.greet();
    const a = client.call('inbox.count', { maxAgeMs: 0 });
    const b = client.call('tokens.view', {});
    const [sa, sb] = ports[0]!.sent.slice(-2);
    ports[0]!.reply(sb!.id, { cachePath: '/c', entries: [] });
    ports[0]!.reply(sa!.id, { account: 'a', total: 1, unread: 0, fetchedAt: 0, backend: 'ews' });
    expect((await a).total).toBe(1);
    expect((await b).cachePath).toBe('/c');
  });

  it('rejects with the daemon’s error code and advice', async () => {
    const { ports, client } = setup();
    client.ensureOpen();
    await ports[0]!.greet();
    const call = client.call('inbox.count', {});
    ports[0]!.fail(ports[0]!.sent.at(-1)!.id, 'no_account', 'Nobody is signed in.');
    await expect(call).rejects.toMatchObject({ code: 'no_account', data: { advice: 'do this' } });
  });

  it('fails a call with timeout when the companion does not answer in its limit', async () => {
    const { ports, timers, client } = setup();
    client.ensureOpen();
    await ports[0]!.greet();
    const call = client.call('account.remove', {});
    const seen = expect(call).rejects.toMatchObject({ code: 'timeout' });
    await timers.advance(10_001);
    await seen;
  });

  it('says the companion is missing when the browser cannot find the host, and retries later', async () => {
    const { ports, events, timers, client } = setup();
    const call = client.call('status');
    ports[0]!.close('Specified native messaging host not found.');
    await expect(call).rejects.toMatchObject({ code: 'companion_missing' });
    const failed = events.find((e) => e.kind === 'failed');
    expect(failed).toMatchObject({ kind: 'failed', error: { code: 'companion_missing' } });
    await timers.advance(300);
    expect(ports.length).toBe(2);
  });

  it('reopens the port after the daemon restarts and subscribes to events again', async () => {
    const { ports, events, timers, client } = setup();
    client.ensureOpen();
    await ports[0]!.greet();
    ports[0]!.close('Native host has exited.');
    expect(events.at(-1)).toMatchObject({ kind: 'failed', error: { code: 'daemon_unreachable' } });
    await timers.advance(300);
    await ports[1]!.greet();
    expect(ports[1]!.sent.map((s) => s.method)).toEqual(['status', 'events.subscribe']);
    ports[1]!.notify('inbox.changed', { account: 'a' });
    expect(events.at(-1)).toEqual({ kind: 'notification', notification: { method: 'inbox.changed', params: { account: 'a' } } });
  });

  it('backs off longer after each failure and opens at once when asked', async () => {
    const { ports, timers, client } = setup();
    client.ensureOpen();
    ports[0]!.close('Specified native messaging host not found.');
    await timers.advance(300);
    ports[1]!.close('Specified native messaging host not found.');
    await timers.advance(300);
    expect(ports.length).toBe(2);
    client.ensureOpen();
    expect(ports.length).toBe(3);
  });

  it('reports the companion’s own reason when it says why it exits', async () => {
    const { ports, events, client } = setup();
    client.ensureOpen();
    ports[0]!.fail(undefined, 'daemon_unreachable', 'The daemon did not answer within 5000 ms.');
    ports[0]!.close('Native host has exited.');
    expect(events.at(-1)).toMatchObject({ kind: 'failed', error: { code: 'daemon_unreachable', message: 'The daemon did not answer within 5000 ms.', data: { advice: 'do this' } } });
  });

  it('drops a port that never answers its greeting', async () => {
    const { ports, events, timers, client } = setup();
    client.ensureOpen();
    await timers.advance(10_001);
    expect(ports[0]!.disconnected).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'failed', error: { code: 'timeout' } });
  });
});

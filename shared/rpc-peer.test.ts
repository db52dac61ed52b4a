// The shared JSON-RPC peer over an in-memory transport and hand-driven timers: what the CLI and
// the extension both rely on (answers matched by id, timeouts, a dead link failing every call,
// errors from the wire checked against the known codes).
import { describe, expect, it } from 'vitest';
import { AppError, fromWire } from './errors';
import { RpcPeer } from './rpc-peer';

function setup() {
  const sent: { id: number; method: string }[] = [];
  const timers = new Map<number, () => void>();
  let next = 0;
  const peer = new RpcPeer(
    { send: (m) => void sent.push(m as { id: number; method: string }) },
    { setTimer: (fn) => (timers.set(++next, fn), next), clearTimer: (h) => void timers.delete(h as number) },
    { peerName: 'daemon', timeoutMs: (m) => (m === 'inbox.count' ? 60_000 : 10_000), timeoutAdvice: 'wait' },
  );
  const fire = () => [...timers.values()].forEach((f) => f());
  return { peer, sent, timers, fire };
}

describe('RpcPeer', () => {
  it('matches answers to calls by id, in any order, and clears their timers', async () => {
    const { peer, sent, timers } = setup();
    const a = peer.call('status');
    const b = peer.call('inbox.count', { maxAgeMs: 0 });
    expect(sent.map((m) => m.method)).toEqual(['status', 'inbox.count']);
    peer.receive({ jsonrpc: '2.0', id: sent[1]!.id, result: { total: 2 } });
    peer.receive({ jsonrpc: '2.0', id: sent[0]!.id, result: { accounts: [] } });
    await expect(a).resolves.toEqual({ accounts: [] });
    await expect(b).resolves.toEqual({ total: 2 });
    expect(timers.size).toBe(0);
  });

  it('fails a call with timeout after its method’s limit, naming the method', async () => {
    const { peer, fire } = setup();
    const p = peer.call('inbox.count');
    fire();
    await expect(p).rejects.toMatchObject({ code: 'timeout', message: 'The daemon did not answer inbox.count within 60 s.' });
    expect(peer.pendingCalls).toBe(0);
  });

  it('fails every pending call when the link ends, and every later call at once', async () => {
    const { peer } = setup();
    const p = peer.call('status');
    const gone = new AppError('daemon_unreachable', 'gone', { advice: '', retryable: true });
    peer.end(gone);
    await expect(p).rejects.toBe(gone);
    await expect(peer.call('status')).rejects.toBe(gone);
  });

  it('rejects a call whose message could not be sent, instead of waiting for its timeout', async () => {
    const peer = new RpcPeer({ send: () => { throw new Error('port closed'); } }, { setTimer: () => 0, clearTimer: () => undefined }, { peerName: 'companion', timeoutMs: () => 1, timeoutAdvice: '' });
    await expect(peer.call('status')).rejects.toMatchObject({ code: 'daemon_unreachable', message: 'Could not send status to the companion (port closed).' });
  });

  it('hands notifications to listeners as { method, params }, and keeps an id-null error as the last word', () => {
    const { peer } = setup();
    const heard: unknown[] = [];
    const off = peer.onNotification((n) => heard.push(n));
    peer.receive({ jsonrpc: '2.0', method: 'inbox.changed', params: { total: 1 } });
    off();
    peer.receive({ jsonrpc: '2.0', method: 'inbox.changed', params: { total: 2 } });
    expect(heard).toEqual([{ method: 'inbox.changed', params: { total: 1 } }]);
    peer.receive({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no daemon', data: { code: 'daemon_unreachable', advice: 'run it', retryable: true } } });
    expect(peer.lastWord).toMatchObject({ code: 'daemon_unreachable', message: 'no daemon' });
  });
});

describe('fromWire', () => {
  it('keeps a known code with its fields', () => {
    const e = fromWire({ code: -32000, message: 'refused', data: { code: 'needs_consent', advice: 'sign in', retryable: false, aadsts: 700082 } }, 'status');
    expect(e).toMatchObject({ code: 'needs_consent', message: 'refused', data: { advice: 'sign in', retryable: false, aadsts: 700082 } });
  });

  it.each([
    ['an unknown code', { code: -32000, message: 'odd', data: { code: 'from_the_future', advice: 'x', retryable: true } }],
    ['no data', { code: -1, message: 'odd' }],
    ['not an object', 'odd'],
    ['null', null],
  ])('turns %s into internal, saying so', (_what, wire) => {
    const e = fromWire(wire, 'inbox.count');
    expect(e.code).toBe('internal');
    expect(e.message).toMatch(/^inbox\.count failed with an error this version cannot read/);
  });
});

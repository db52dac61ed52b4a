// The daemon's socket spoken to with raw frames over a real Unix socket: dispatch, the JSON-RPC
// errors for each kind of bad input, the rights of native-messaging callers, and a fuzz run.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ID } from '../../../shared/constants';
import { encodeFrame, FrameDecoder } from '../../../shared/framing';
import { silentLog } from '../io/log';
import { helloHandler } from './handlers';
import { listen, type Handlers, type Listening } from './server';

const ALLOWED = `chrome-extension://${EXTENSION_ID}/`;

class Peer {
  private readonly decoder = new FrameDecoder();
  private readonly inbox: unknown[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      for (const f of this.decoder.push(d)) if (f.kind === 'message') this.inbox.push(f.value);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }
  static connect(p: string): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = net.connect(p, () => resolve(new Peer(s)));
      s.once('error', reject);
    });
  }
  send(msg: unknown): void {
    this.socket.write(encodeFrame(msg));
  }
  async next(): Promise<Record<string, unknown>> {
    while (this.inbox.length === 0) {
      if (this.closed) throw new Error('closed');
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.inbox.shift() as Record<string, unknown>;
  }
  private wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }
}

const errorCode = (m: Record<string, unknown>) => (m.error as { data: { code: string } }).data.code;

describe('daemon socket server', () => {
  let dir: string;
  let socketPath: string;
  let server: Listening;
  let releaseSlow: () => void = () => undefined;
  const handlers = {
    status: async () => ({ ok: true }),
    'consent.begin': () => new Promise((resolve) => (releaseSlow = () => resolve({ slow: true }))),
    'inbox.count': async (p: unknown) => ({ echo: p }),
    'token.get': async () => ({ accessToken: 'for-scripts-only' }),
    'tokens.view': async () => ({ cachePath: 'x', entries: [{ kind: 'account', key: 'k', note: 'x'.repeat(2 * 1024 * 1024) }] }),
    'relay.hello': helloHandler((o) => o === ALLOWED),
  } as unknown as Handlers;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-srv-'));
    socketPath = path.join(dir, 's.sock');
    server = await listen(socketPath, { log: silentLog, handlers, onClose: () => {} });
  });
  afterAll(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('answers a request with its id', async () => {
    const p = await Peer.connect(socketPath);
    p.send({ jsonrpc: '2.0', id: 7, method: 'status' });
    expect(await p.next()).toEqual({ jsonrpc: '2.0', id: 7, result: { ok: true } });
    p.socket.end();
  });

  it('answers each kind of bad input with the JSON-RPC error that fits, and keeps serving', async () => {
    const p = await Peer.connect(socketPath);
    const body = Buffer.from('{not json');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    p.socket.write(Buffer.concat([head, body]));
    expect(errorCode(await p.next())).toBe('parse_error');
    const bad = Buffer.from([0xff, 0xfe, 0x22]);
    head.writeUInt32LE(bad.length);
    p.socket.write(Buffer.concat([head, bad]));
    expect(errorCode(await p.next())).toBe('parse_error');
    p.send([1, 2]);
    expect(errorCode(await p.next())).toBe('invalid_request');
    p.send({ jsonrpc: '1.0', id: 1, method: 'status' });
    expect(await p.next()).toMatchObject({ id: 1, error: { code: -32600 } });
    p.send({ jsonrpc: '2.0', id: 2, method: 'nope' });
    expect(await p.next()).toMatchObject({ id: 2, error: { code: -32601, data: { code: 'method_not_found' } } });
    p.send({ jsonrpc: '2.0', id: 3, method: 'inbox.count', params: { maxAgeMs: 'soon' } });
    expect(await p.next()).toMatchObject({ id: 3, error: { code: -32602, data: { code: 'invalid_params' } } });
    p.send({ jsonrpc: '2.0', id: 4, method: 'status' });
    expect(await p.next()).toMatchObject({ id: 4, result: { ok: true } });
    p.socket.end();
  });

  it('answers a command line’s calls on one connection concurrently, a slow first one included', async () => {
    const p = await Peer.connect(socketPath);
    p.send({ jsonrpc: '2.0', id: 1, method: 'consent.begin', params: {} });
    p.send({ jsonrpc: '2.0', id: 2, method: 'status' });
    expect(await p.next()).toMatchObject({ id: 2, result: { ok: true } });
    releaseSlow();
    expect(await p.next()).toMatchObject({ id: 1, result: { slow: true } });
    p.socket.end();
  });

  it('closes a connection that announces a frame over 64 MiB, without allocating it', async () => {
    const p = await Peer.connect(socketPath);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(0xfffffff0);
    p.socket.write(head);
    expect(errorCode(await p.next())).toBe('frame_too_large');
    await expect(p.next()).rejects.toThrow('closed');
  });

  it('refuses an extension that is not allowed, and reads nothing more from it', async () => {
    const p = await Peer.connect(socketPath);
    p.socket.write(Buffer.concat([
      encodeFrame({ jsonrpc: '2.0', id: 0, method: 'relay.hello', params: { origin: 'chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/' } }),
      encodeFrame({ jsonrpc: '2.0', id: 1, method: 'token.get' }),
    ]));
    expect(errorCode(await p.next())).toBe('origin_forbidden');
    await expect(p.next()).rejects.toThrow('closed');
  });

  it('never hands a raw token to the extension, and refuses results over 1 MiB to it', async () => {
    const p = await Peer.connect(socketPath);
    p.send({ jsonrpc: '2.0', id: 0, method: 'relay.hello', params: { origin: ALLOWED } });
    expect(await p.next()).toMatchObject({ result: { accepted: true } });
    p.send({ jsonrpc: '2.0', id: 1, method: 'token.get' });
    expect(errorCode(await p.next())).toBe('method_forbidden');
    p.send({ jsonrpc: '2.0', id: 2, method: 'tokens.view' });
    expect(await p.next()).toMatchObject({ id: 2, error: { data: { code: 'response_too_large' } } });
    p.send({ jsonrpc: '2.0', id: 3, method: 'status' });
    expect(await p.next()).toMatchObject({ id: 3, result: { ok: true } });
    p.send({ jsonrpc: '2.0', id: 4, method: 'relay.hello', params: { origin: ALLOWED } });
    expect(errorCode(await p.next())).toBe('invalid_request');
    p.socket.end();
  });

  it('keeps the error that replaces a too-large answer small, whatever the request id', async () => {
    const p = await Peer.connect(socketPath);
    p.send({ jsonrpc: '2.0', id: 0, method: 'relay.hello', params: { origin: ALLOWED } });
    expect(await p.next()).toMatchObject({ result: { accepted: true } });
    p.send({ jsonrpc: '2.0', id: 'i'.repeat(1200 * 1024), method: 'status' });
    const answer = await p.next();
    expect(errorCode(answer)).toBe('response_too_large');
    expect(answer.id).toBeNull();
    expect(JSON.stringify(answer).length).toBeLessThan(1024);
    p.send({ jsonrpc: '2.0', id: 'short', method: 'tokens.view' });
    expect(await p.next()).toMatchObject({ id: 'short', error: { data: { code: 'response_too_large' } } });
    p.socket.end();
  });

  it('ends open connections when it closes, so a daemon stops promptly under a connected browser', async () => {
    const extra = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-srv-'));
    const s2 = await listen(path.join(extra, 's.sock'), { log: silentLog, handlers, onClose: () => {} });
    const p = await Peer.connect(path.join(extra, 's.sock'));
    await s2.close(); // resolves with the peer still connected: a server that waited for it would hang here
    await expect(p.next()).rejects.toThrow('closed');
    await fs.rm(extra, { recursive: true, force: true });
  });

  it('answers internal, not a malformed result, when results are checked against the protocol', async () => {
    const extra = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-srv-'));
    const s2 = await listen(path.join(extra, 's.sock'), { log: silentLog, handlers, onClose: () => {}, checkResults: true });
    const p = await Peer.connect(path.join(extra, 's.sock'));
    p.send({ jsonrpc: '2.0', id: 1, method: 'status' });
    expect(await p.next()).toMatchObject({ id: 1, error: { data: { code: 'internal' } } });
    p.socket.end();
    await s2.close();
    await fs.rm(extra, { recursive: true, force: true });
  });

  it('survives a fuzz run of random and mutated frames', async () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const valid = encodeFrame({ jsonrpc: '2.0', id: 1, method: 'inbox.count', params: { maxAgeMs: 5 } });
    for (let round = 0; round < 40; round++) {
      const p = await Peer.connect(socketPath);
      const chunks: Buffer[] = [];
      for (let i = 0; i < 100; i++) {
        const f = Buffer.from(valid);
        const flips = Math.floor(rand() * 4);
        for (let j = 0; j < flips; j++) f[4 + Math.floor(rand() * (f.length - 4))] = Math.floor(rand() * 256);
        if (rand() < 0.05) f.writeUInt32LE(Math.floor(rand() * 64), 0); // a lying length
        chunks.push(f);
      }
      p.socket.write(Buffer.concat(chunks));
      p.socket.end();
      await new Promise((r) => p.socket.once('close', r));
    }
    const p = await Peer.connect(socketPath);
    p.send({ jsonrpc: '2.0', id: 9, method: 'status' });
    expect(await p.next()).toMatchObject({ id: 9, result: { ok: true } });
    p.socket.end();
  });
});

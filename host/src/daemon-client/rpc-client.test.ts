import { EventEmitter, once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { encodeFrame, FrameDecoder } from '../../../shared/framing';
import { errorResponse } from '../../../shared/jsonrpc';
import { RpcClient } from './rpc-client';

type Json = Record<string, unknown>;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A socket server whose answer to each request is decided by the test. */
async function server(answer: (req: Json, socket: net.Socket) => void): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ews-rpc-'));
  const socketPath = path.join(dir, 'daemon.sock');
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      for (const f of decoder.push(chunk)) if (f.kind === 'message') answer(f.value as Json, socket);
    });
  });
  await new Promise<void>((resolve) => srv.listen(socketPath, resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    await fs.rm(dir, { recursive: true, force: true });
  });
  return socketPath;
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(() => null, (err: unknown) => err);
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

describe('RpcClient', () => {
  it('matches answers to calls by id, even when they come back out of order', async () => {
    const held: Json[] = [];
    const socketPath = await server((req, socket) => {
      held.push(req);
      if (held.length === 2) for (const r of held.reverse()) socket.write(encodeFrame({ jsonrpc: '2.0', id: r.id, result: { method: r.method } }));
    });
    const client = await RpcClient.connect({ socketPath, noStart: true });
    cleanups.push(() => client.close());
    const [a, b] = await Promise.all([client.call('status'), client.call('tokens.view')]);
    expect(a).toEqual({ method: 'status' });
    expect(b).toEqual({ method: 'tokens.view' });
  });

  it('rejects with the daemon’s AppError, code and advice intact', async () => {
    const socketPath = await server((req, socket) =>
      socket.write(encodeFrame(errorResponse(req.id as number, new AppError('needs_consent', 'Sign in again.', { advice: 'Run ews-daemon consent.', retryable: false, aadsts: 700082 })))),
    );
    const client = await RpcClient.connect({ socketPath, noStart: true });
    cleanups.push(() => client.close());
    const e = await rejection(client.call('inbox.count', {}));
    expect(e.data).toEqual({ code: 'needs_consent', advice: 'Run ews-daemon consent.', retryable: false, aadsts: 700082 });
    expect(e.message).toBe('Sign in again.');
  });

  it('rejects with timeout when the daemon does not answer in time', async () => {
    const socketPath = await server(() => undefined);
    const client = await RpcClient.connect({ socketPath, noStart: true, callTimeoutMs: 100 });
    cleanups.push(() => client.close());
    expect((await rejection(client.call('status'))).code).toBe('timeout');
  });

  it('rejects every pending call with daemon_unreachable when the socket closes', async () => {
    const socketPath = await server((_req, socket) => socket.destroy());
    const client = await RpcClient.connect({ socketPath, noStart: true });
    const e = await rejection(client.call('status'));
    expect(e.code).toBe('daemon_unreachable');
    expect((await rejection(client.call('status'))).code).toBe('daemon_unreachable');
  });

  it('asks an idempotent call once more on a new connection when the daemon went away mid-call', async () => {
    const seen: string[] = [];
    const sockets = new Set<net.Socket>();
    const socketPath = await server((req, socket) => {
      seen.push(req.method as string);
      sockets.add(socket);
      if (seen.length === 1) return void socket.destroy(); // the daemon dies holding the call
      socket.write(encodeFrame({ jsonrpc: '2.0', id: req.id, result: { connection: sockets.size } }));
    });
    let started = 0;
    const client = await RpcClient.connect({ socketPath, start: () => started++ });
    cleanups.push(() => client.close());
    expect(await client.call('inbox.count', { maxAgeMs: 0 })).toEqual({ connection: 2 });
    expect(seen).toEqual(['inbox.count', 'inbox.count']);
    expect(started).toBe(0); // the socket answered again at once: nothing to start
  });

  it('does not ask a call that may have taken effect again (consent.complete)', async () => {
    const seen: string[] = [];
    const socketPath = await server((req, socket) => {
      seen.push(req.method as string);
      socket.destroy();
    });
    const client = await RpcClient.connect({ socketPath, noStart: true });
    expect((await rejection(client.call('consent.complete', { redirectUrl: 'http://localhost/cb?code=x&state=y' }))).code).toBe('daemon_unreachable');
    expect(seen).toEqual(['consent.complete']);
  });

  it('hands notifications to listeners until they unsubscribe', async () => {
    const socketPath = await server((req, socket) => {
      socket.write(encodeFrame({ jsonrpc: '2.0', method: 'status.changed', params: { n: 1 } }));
      socket.write(encodeFrame({ jsonrpc: '2.0', id: req.id, result: { subscribed: true } }));
      socket.write(encodeFrame({ jsonrpc: '2.0', method: 'inbox.changed', params: { n: 2 } }));
    });
    const client = await RpcClient.connect({ socketPath, noStart: true });
    cleanups.push(() => client.close());
    const seen: unknown[] = [];
    const off = client.onNotification(({ method, params }) => void seen.push([method, params]));
    // A listener that stays: once it has heard a round's last notification, every listener has.
    const heard = new EventEmitter();
    client.onNotification(({ method }) => void (method === 'inbox.changed' && heard.emit('round')));
    const first = once(heard, 'round');
    await client.call('events.subscribe');
    await first;
    off();
    const second = once(heard, 'round');
    await client.call('events.subscribe');
    await second;
    expect(seen).toEqual([
      ['status.changed', { n: 1 }],
      ['inbox.changed', { n: 2 }],
    ]);
  });

  it('turns an error without our data into internal instead of crashing', async () => {
    const socketPath = await server((req, socket) => socket.write(encodeFrame({ jsonrpc: '2.0', id: req.id, error: { code: -1, message: 'odd' } })));
    const client = await RpcClient.connect({ socketPath, noStart: true });
    cleanups.push(() => client.close());
    const e = await rejection(client.call('status'));
    expect(e.code).toBe('internal');
    expect(e.message).toContain('odd');
  });
});

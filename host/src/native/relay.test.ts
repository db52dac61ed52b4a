// The relay in memory: streams for stdio and a scripted socket, for the paths a process test
// would wait seconds for (a daemon that never answers the hello, one that cannot be reached).
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { encodeFrame, FrameDecoder } from '../../../shared/framing';
import { runRelay, type RelayIo } from './relay';

/** A socket whose writes the test reads and whose answers the test pushes. */
class ScriptedSocket extends Duplex {
  readonly written: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(chunk);
    cb();
  }
}

function harness(connect: () => Promise<Duplex>, over: Partial<RelayIo> = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const frames: unknown[] = [];
  const decoder = new FrameDecoder();
  output.on('data', (c: Buffer) => frames.push(...decoder.push(c).map((f) => (f.kind === 'message' ? f.value : f))));
  const exit = runRelay({ input, output, origin: 'chrome-extension://x/', connect, log: () => undefined, ...over });
  return { input, output, frames, exit };
}

/**
 * Lets the relay's stream callbacks run (setImmediate turns, no timers) until `ok` holds. Everything
 * here is in memory, so a condition that has not come true after many turns never will.
 */
async function until(what: string, ok: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000; turn++) {
    if (ok()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`${what}: not after 1000 event-loop turns`);
}

describe('runRelay', () => {
  it('gives up with daemon_unreachable when the daemon never answers the hello', async () => {
    const socket = new ScriptedSocket();
    const h = harness(async () => socket, { helloTimeoutMs: 50 });
    expect(await h.exit).toBe(1);
    expect(h.frames).toEqual([expect.objectContaining({ id: null, error: expect.objectContaining({ data: expect.objectContaining({ code: 'daemon_unreachable' }) }) })]);
    expect(socket.destroyed).toBe(true);
  });

  it('passes on the AppError that connecting failed with, advice and all', async () => {
    const e = new AppError('daemon_unreachable', 'no daemon', { advice: 'start it', retryable: true });
    const h = harness(async () => Promise.reject(e));
    expect(await h.exit).toBe(1);
    expect(h.frames).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no daemon', data: { code: 'daemon_unreachable', advice: 'start it', retryable: true } } }]);
  });

  it('sends the hello first, then what the browser sent, without waiting for the answer (the daemon reads on only after it)', async () => {
    let connect!: (s: Duplex) => void;
    const socket = new ScriptedSocket();
    const h = harness(() => new Promise((r) => (connect = r)));
    h.input.write(encodeFrame({ jsonrpc: '2.0', id: 1, method: 'status' }));
    await until('the browser frame read before the socket is there', () => h.input.readableLength === 0 && connect !== undefined);
    connect(socket);
    await until('the hello and the browser frame sent', () => socket.written.length >= 2);
    const sent = new FrameDecoder().push(Buffer.concat(socket.written)).map((f) => (f.kind === 'message' ? f.value : f));
    expect(sent).toEqual([
      { jsonrpc: '2.0', id: 0, method: 'relay.hello', params: { origin: 'chrome-extension://x/' } },
      { jsonrpc: '2.0', id: 1, method: 'status' },
    ]);
    h.input.end();
    expect(await h.exit).toBe(0);
  });

  it('passes frames the daemon sent right behind its hello answer', async () => {
    const socket = new ScriptedSocket();
    const h = harness(async () => socket);
    await until('the hello sent', () => socket.written.length >= 1);
    socket.push(Buffer.concat([encodeFrame({ jsonrpc: '2.0', id: 0, result: { accepted: true } }), encodeFrame({ jsonrpc: '2.0', method: 'status.changed', params: {} })]));
    await until('a frame to the browser', () => h.frames.length >= 1);
    expect(h.frames).toEqual([{ jsonrpc: '2.0', method: 'status.changed', params: {} }]);
    h.input.end();
    await h.exit;
  });
});

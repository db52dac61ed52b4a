// Test helpers for the native host: the relay built into a temp folder and run as a browser
// would run it (a child process on real pipes), and a small fake daemon on a real Unix socket.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { encodeFrame, FrameDecoder, MAX_TO_BROWSER } from '../../shared/framing';
import { errorResponse, type RpcResponse } from '../../shared/jsonrpc';
import { AppError } from '../../shared/errors';

export const REPO = path.resolve(import.meta.dirname, '../..');

/** Bundles host/src/native/main.ts as the real build does, into a fresh temp folder. */
export async function buildRelay(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ews-relay-build-'));
  const outfile = path.join(dir, 'native-host.mjs');
  await build({ entryPoints: [path.join(REPO, 'host/src/native/main.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', minify: true, logLevel: 'silent' });
  return outfile;
}

export async function tempHome(prefix = 'ews-native-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

type Json = Record<string, unknown>;

/** How long a test waits for a relay's frames or exit before calling it hung: generous, for a loaded machine. */
const WAIT_TIMEOUT_MS = 20_000;

/**
 * A daemon stand-in: answers the hello, echoes requests and can misbehave on request. Like the
 * real daemon (server.ts) it reads nothing after the hello until it has answered it, and nothing
 * at all after refusing it.
 */
export class FakeDaemon {
  readonly hellos: string[] = [];
  readonly received: unknown[] = [];
  refuse = new Set<string>();
  /** While true, hellos are kept unanswered until releaseHellos(). */
  holdHellos = false;
  private heldHellos: (() => void)[] = [];
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly socketPath: string) {}

  async start(): Promise<void> {
    this.server = net.createServer((s) => this.serve(s));
    await new Promise<void>((resolve) => this.server!.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder();
    let first = true;
    /** Frames read after the hello while it waits for its answer. */
    let waiting: Json[] | null = null;
    const onFrame = (value: Json) => {
      if (waiting) return void waiting.push(value);
      this.received.push(value);
      this.answer(socket, value);
    };
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind === 'too-large') return void socket.destroy();
        if (frame.kind === 'bad-json') {
          socket.write(encodeFrame(errorResponse(null, new AppError('parse_error', 'bad json', { advice: 'x', retryable: false }))));
          continue;
        }
        if (first) {
          first = false;
          waiting = [];
          this.hello(socket, frame.value as Json, (accepted) => {
            const read = waiting ?? [];
            waiting = null;
            if (accepted) read.forEach(onFrame);
          });
          continue;
        }
        onFrame(frame.value as Json);
      }
    });
  }

  private hello(socket: net.Socket, msg: Json, answered: (accepted: boolean) => void): void {
    const origin = String((msg.params as Json | undefined)?.origin);
    this.hellos.push(origin);
    const send = () => {
      if (this.refuse.has(origin)) {
        socket.write(encodeFrame(errorResponse(msg.id as number, new AppError('origin_forbidden', `${origin} not allowed`, { advice: 'add it', retryable: false }))));
        socket.end();
        answered(false);
      } else {
        socket.write(encodeFrame({ jsonrpc: '2.0', id: msg.id, result: { accepted: true } }));
        answered(true);
      }
    };
    if (this.holdHellos) this.heldHellos.push(send);
    else send();
  }

  /** Answers the hellos held so far, and every later one at once. */
  releaseHellos(): void {
    this.holdHellos = false;
    for (const send of this.heldHellos.splice(0)) send();
  }

  private answer(socket: net.Socket, msg: Json): void {
    if (typeof msg !== 'object' || msg === null || typeof msg.method !== 'string') {
      socket.write(encodeFrame(errorResponse(null, new AppError('invalid_request', 'not a request', { advice: 'x', retryable: false }))));
      return;
    }
    const params = (msg.params ?? {}) as Json;
    if (msg.method === 'close') return void socket.destroy();
    if (msg.method === 'half-then-close') {
      const frame = encodeFrame({ jsonrpc: '2.0', id: msg.id, result: { cut: 'short'.repeat(100) } });
      socket.write(frame.subarray(0, 200), () => setTimeout(() => socket.destroy(), 50));
      return;
    }
    if (msg.method === 'big') {
      socket.write(encodeFrame({ jsonrpc: '2.0', id: msg.id, result: { blob: 'x'.repeat(Number(params.bytes)) } }));
      return;
    }
    if (msg.method === 'notify-big') {
      socket.write(encodeFrame({ jsonrpc: '2.0', method: 'status.changed', params: { blob: 'y'.repeat(Number(params.bytes)) } }));
      return;
    }
    socket.write(encodeFrame({ jsonrpc: '2.0', id: msg.id ?? null, result: { echo: params } }));
  }
}

/** The relay as a browser runs it: a child process spoken to through its stdio pipes. */
export class RelayProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly frames: RpcResponse[] = [];
  /** Every problem with what came out on stdout: anything that is not a well-formed frame. */
  readonly stdoutProblems: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The process ended and its stdout is drained: no more frames will come. */
  private closed = false;
  private readonly decoder = new FrameDecoder(MAX_TO_BROWSER);
  private waiters: (() => void)[] = [];

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => undefined); // EPIPE once the relay has gone
    this.child.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.child.on('close', () => {
      this.closed = true;
      this.wakeWaiters();
    });
  }

  static start(bundle: string, args: string[], env: NodeJS.ProcessEnv): RelayProcess {
    return new RelayProcess(process.execPath, [bundle, ...args], env);
  }

  send(message: unknown): void {
    this.child.stdin.write(encodeFrame(message));
  }

  write(bytes: Uint8Array): void {
    this.child.stdin.write(bytes);
  }

  /**
   * Waits until `count` frames have arrived in all; fails at once when the relay has closed its
   * output with fewer, or after timeoutMs (sized for a loaded machine: a hang, not a slow start).
   */
  async waitFrames(count: number, timeoutMs = WAIT_TIMEOUT_MS): Promise<RpcResponse[]> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const onTimeout = () => this.wakeWaiters();
    timeout.addEventListener('abort', onTimeout, { once: true });
    try {
      while (this.frames.length < count) {
        const why = this.closed ? 'the relay closed its output' : timeout.aborted ? `${timeoutMs} ms passed` : null;
        if (why) throw new Error(`expected ${count} frames, got ${this.frames.length} when ${why}; stderr: ${this.stderr}`);
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
      return this.frames;
    } finally {
      timeout.removeEventListener('abort', onTimeout);
    }
  }

  /** The exit, or null if the relay is still running after timeoutMs (it hangs). */
  exitWithin(timeoutMs = WAIT_TIMEOUT_MS): Promise<Awaited<RelayProcess['exited']> | null> {
    const timeout = AbortSignal.timeout(timeoutMs);
    return Promise.race([this.exited, new Promise<null>((resolve) => timeout.addEventListener('abort', () => resolve(null), { once: true }))]);
  }

  /** Bytes left on stdout that do not make a whole frame. */
  get trailingBytes(): number {
    return this.decoder.pending;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private onStdout(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (frame.kind === 'too-large') this.stdoutProblems.push(`a frame of ${frame.length} bytes (over 1 MiB)`);
      else if (frame.kind === 'bad-json') this.stdoutProblems.push(`not JSON: ${frame.reason}`);
      else if ((frame.value as Json).jsonrpc !== '2.0') this.stdoutProblems.push(`not JSON-RPC: ${JSON.stringify(frame.value).slice(0, 100)}`);
      else this.frames.push(frame.value as RpcResponse);
    }
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function errorCode(frame: RpcResponse | undefined): string | undefined {
  return frame && 'error' in frame ? frame.error.data.code : undefined;
}

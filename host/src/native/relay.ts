// The native host's logic: a thin relay between the browser's stdio and the daemon's socket,
// like keepassxc-proxy. It says who the caller is (relay.hello), then copies bytes both ways,
// reading only frame headers: toward the browser no frame over 1 MiB passes (one would kill the
// port), toward the daemon a header over 64 MiB ends the relay. It never writes anything but
// whole frames to the browser, and it ends when stdin ends or the socket closes.
import type { Duplex, Readable, Writable } from 'node:stream';
import { AppError } from '../../../shared/errors';
import { encodeFrame, HEADER_BYTES, MAX_FRAME, MAX_TO_BROWSER } from '../../../shared/framing';
import { errorResponse, request } from '../../../shared/jsonrpc';
import { FrameGate, peekId } from './frame-gate';

export interface RelayIo {
  /** Bytes from the browser (stdin). */
  input: Readable;
  /** Frames to the browser (stdout): nothing else is ever written there. */
  output: Writable;
  /** The caller's origin from argv, or null when the browser gave none. */
  origin: string | null;
  /** The daemon's socket (connectOrStart); rejects with an AppError. */
  connect(): Promise<Duplex>;
  /** Diagnostics: never to stdout. */
  log(level: 'debug' | 'warn' | 'error', msg: string): void;
  /** Where the daemon logs, for advice in errors. */
  logFile?: string;
  helloTimeoutMs?: number;
  /** After stdin ends, how long answers still in flight may reach the browser before we stop. */
  eofGraceMs?: number;
}

/** A daemon that accepted the connection answers the hello at once; 10 s allows for a busy start. */
const HELLO_TIMEOUT_MS = 10_000;
/** Chrome SIGKILLs the host 2 s after closing stdin; finish well before that. */
const EOF_GRACE_MS = 200;
/** How long the last frames may take to reach the browser before the relay exits anyway. */
const FLUSH_LIMIT_MS = 1000;
/** The hello's answer is tiny; a first frame larger than this is not a daemon speaking. */
const MAX_HELLO_ANSWER = 64 * 1024;
/** The id of the relay's own hello; its answer is consumed here, never forwarded as such. */
const HELLO_ID = 0;

/** Runs the relay until either side ends; resolves with the process's exit code. */
export function runRelay(io: RelayIo): Promise<number> {
  return new Relay(io).run();
}

class Relay {
  private state: 'connecting' | 'hello' | 'open' | 'closing' | 'done' = 'connecting';
  private socket: Duplex | null = null;
  private queued: Uint8Array[] = [];
  private helloBytes: Buffer = Buffer.alloc(0);
  private readonly toDaemon = new FrameGate({ limit: MAX_FRAME, onOversize: 'stop', holdPartial: false });
  private readonly toBrowser = new FrameGate({ limit: MAX_TO_BROWSER, onOversize: 'skip', holdPartial: true });
  private timers: ReturnType<typeof setTimeout>[] = [];
  private resolveExit: (code: number) => void = () => undefined;

  constructor(private readonly io: RelayIo) {}

  run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.resolveExit = resolve));
    if (this.io.origin === null) {
      this.finish(1, errorResponse(null, noOrigin()));
      return done;
    }
    this.io.input.on('data', (chunk: Buffer) => this.fromBrowser(chunk));
    this.io.input.on('end', () => this.browserEnded());
    this.io.input.on('error', (e) => this.fail('warn', `stdin failed: ${e.message}`, 1));
    this.io.output.on('error', (e) => this.fail('debug', `stdout failed: ${e.message}`, 0));
    this.io.connect().then(
      (socket) => this.connected(socket),
      (e: unknown) => this.finish(1, errorResponse(null, asUnreachable(e, this.io.logFile))),
    );
    return done;
  }

  private connected(socket: Duplex): void {
    if (this.state !== 'connecting') {
      socket.destroy();
      return;
    }
    this.socket = socket;
    this.state = 'hello';
    socket.on('data', (chunk: Buffer) => (this.state === 'hello' ? this.helloAnswer(chunk) : this.fromDaemon(chunk)));
    socket.on('error', (e) => this.io.log('debug', `socket error: ${e.message}`));
    socket.on('close', () => this.daemonClosed());
    socket.write(encodeFrame(request(HELLO_ID, 'relay.hello', { origin: this.io.origin })));
    this.after(this.io.helloTimeoutMs ?? HELLO_TIMEOUT_MS, () => {
      if (this.state === 'hello') this.finish(1, errorResponse(null, unreachable('it did not answer the native host’s hello', this.io.logFile)));
    });
  }

  private fromBrowser(chunk: Buffer): void {
    for (const item of this.toDaemon.push(chunk)) {
      if (item.kind === 'bytes') this.toSocket(item.data);
      else if (item.kind === 'too-large') this.finish(1, errorResponse(null, frameTooLarge(item.length)));
    }
  }

  private toSocket(data: Uint8Array): void {
    if (this.state !== 'open' || !this.socket) {
      if (this.state === 'connecting' || this.state === 'hello') this.queued.push(data);
      return;
    }
    if (!this.socket.write(data)) {
      this.io.input.pause();
      this.socket.once('drain', () => this.io.input.resume());
    }
  }

  private helloAnswer(chunk: Buffer): void {
    this.helloBytes = Buffer.concat([this.helloBytes, chunk]);
    if (this.helloBytes.length < HEADER_BYTES) return;
    const length = this.helloBytes.readUInt32LE(0);
    if (length > MAX_HELLO_ANSWER) return this.finish(1, errorResponse(null, unreachable('its socket does not speak the protocol', this.io.logFile)));
    if (this.helloBytes.length < HEADER_BYTES + length) return;
    const body = this.helloBytes.subarray(HEADER_BYTES, HEADER_BYTES + length);
    const rest = this.helloBytes.subarray(HEADER_BYTES + length);
    this.helloBytes = Buffer.alloc(0);
    this.onHelloAnswer(parseOrNull(body.toString('utf8')), rest);
  }

  private onHelloAnswer(answer: unknown, rest: Buffer): void {
    const reply = (answer ?? {}) as { result?: { accepted?: unknown }; error?: unknown };
    if (reply.result?.accepted === true) {
      this.state = 'open';
      const queued = this.queued;
      this.queued = [];
      for (const data of queued) this.toSocket(data);
      if (rest.length > 0) this.fromDaemon(rest);
      return;
    }
    if (reply.error && typeof reply.error === 'object') {
      this.io.log('warn', `the daemon refused the caller ${this.io.origin}`);
      return this.finish(1, { jsonrpc: '2.0', id: null, error: reply.error });
    }
    this.finish(1, errorResponse(null, unreachable('it gave an unexpected answer to the hello', this.io.logFile)));
  }

  private fromDaemon(chunk: Buffer): void {
    for (const item of this.toBrowser.push(chunk)) {
      if (item.kind === 'bytes') this.toOutput(item.data);
      else if (item.kind === 'oversize') {
        this.io.log('warn', `dropped a ${item.length}-byte frame from the daemon: over the browser's 1 MiB limit`);
        this.toOutput(encodeFrame(errorResponse(peekId(item.prefix), responseTooLarge(item.length))));
      }
    }
  }

  private toOutput(data: Uint8Array): void {
    if (this.state === 'done') return;
    if (!this.io.output.write(data) && this.socket) {
      const socket = this.socket;
      socket.pause();
      this.io.output.once('drain', () => socket.resume());
    }
  }

  private browserEnded(): void {
    this.io.log('debug', 'stdin ended: the browser closed the port');
    if (this.state !== 'open' || !this.socket) return this.finish(0);
    this.state = 'closing';
    this.socket.end();
    this.after(this.io.eofGraceMs ?? EOF_GRACE_MS, () => this.finish(0));
  }

  private daemonClosed(): void {
    if (this.state === 'closing') return this.finish(0);
    if (this.state === 'done') return;
    this.io.log('warn', 'the daemon closed the connection');
    this.finish(1, errorResponse(null, unreachable('it closed the connection', this.io.logFile)));
  }

  private fail(level: 'debug' | 'warn', msg: string, code: number): void {
    this.io.log(level, msg);
    this.finish(code);
  }

  private after(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  /** Ends the relay once: a last frame for the browser (when one is due), then every resource let go. */
  private finish(code: number, lastFrame?: unknown): void {
    if (this.state === 'done') return;
    this.state = 'done';
    for (const t of this.timers) clearTimeout(t);
    this.socket?.destroy();
    this.io.input.pause();
    if (lastFrame !== undefined) this.io.output.write(encodeFrame(lastFrame));
    const limit = setTimeout(() => this.resolveExit(code), FLUSH_LIMIT_MS);
    // Write callbacks run in order: when this empty write's runs, every frame before it is out.
    this.io.output.write(new Uint8Array(0), () => {
      clearTimeout(limit);
      this.resolveExit(code);
    });
  }
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function asUnreachable(e: unknown, logFile?: string): AppError {
  if (e instanceof AppError) return e;
  return unreachable(e instanceof Error ? e.message : String(e), logFile);
}

function unreachable(why: string, logFile?: string): AppError {
  return new AppError('daemon_unreachable', `The ews-daemon daemon is unreachable: ${why}.`, {
    advice: `Reconnect (the daemon is started on demand); if this keeps happening, run \`ews-daemon doctor\`${logFile ? ` and read ${logFile}` : ''}.`,
    retryable: true,
  });
}

function noOrigin(): AppError {
  return new AppError('origin_forbidden', 'The native host was started without the caller’s origin.', {
    advice: 'It is meant to be started by the browser, which passes chrome-extension://<id>/ (or a Firefox add-on id); use `ews-daemon status` from a shell instead.',
    retryable: false,
  });
}

function frameTooLarge(length: number): AppError {
  return new AppError('frame_too_large', `A message of ${length} bytes is over the 64 MiB limit; the native host stops.`, {
    advice: 'Send smaller messages, then reconnect the port.',
    retryable: false,
  });
}

function responseTooLarge(length: number): AppError {
  return new AppError('response_too_large', `The daemon's answer (${length} bytes) is over the 1 MiB a browser accepts; it was dropped.`, {
    advice: 'Ask for less at a time, e.g. one account.',
    retryable: false,
  });
}

// The native host's logic: a relay between the browser's stdio and the daemon's socket, as thin
// as correctness allows. Like keepassxc-proxy it copies frames and stops hostile lengths; all
// logic stays in the daemon. What it does beyond copying bytes, and why each part must stay:
// - It says who the caller is. The browser names the caller's origin only in argv, so only the
//   relay knows it: its first frame on the socket is relay.hello with that origin, and the
//   daemon decides by it what the caller may do (a raw token never goes to an extension). The
//   daemon answers the hello before it reads anything after it (server.ts), so the browser's
//   frames follow the hello at once; the relay consumes the answer (the extension never asked
//   for it), and a refusal becomes the browser's last frame.
// - It reads frame headers, never bodies (frame-bounds.ts). Toward the daemon a header over
//   64 MiB ends the relay with frame_too_large. Toward the browser, bytes go out whole frames
//   at a time, so that when the daemon goes away mid-frame the relay's own last frame
//   (daemon_unreachable, with advice) is still readable. The browser's 1 MiB limit on a frame
//   is kept by the daemon for relayed connections (server.ts): a larger frame here means the
//   socket is not the daemon's, and ends the relay.
// - It ends when stdin ends (the browser closed the port; Chrome kills the host 2 s later) or
//   the socket closes, once the frames in flight have reached the browser.
import type { Duplex, Readable, Writable } from 'node:stream';
import { AppError } from '../../../shared/errors';
import { encodeFrame, HEADER_BYTES, MAX_FRAME, MAX_TO_BROWSER } from '../../../shared/framing';
import { errorResponse, request } from '../../../shared/jsonrpc';
import { FrameBounds } from './frame-bounds';

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
/** The id of the relay's own hello; its answer is consumed here, never forwarded. */
const HELLO_ID = 0;

/** Runs the relay until either side ends; resolves with the process's exit code. */
export function runRelay(io: RelayIo): Promise<number> {
  return new Relay(io).run();
}

class Relay {
  private socket: Duplex | null = null;
  /** What the browser sent before the socket was there. */
  private queued: Uint8Array[] = [];
  /** Bytes of a frame from the daemon not yet whole. */
  private held: Buffer[] = [];
  private helloAnswered = false;
  private closing = false;
  private done = false;
  private readonly toDaemon = new FrameBounds(MAX_FRAME);
  private readonly toBrowser = new FrameBounds(MAX_TO_BROWSER);
  private timers: ReturnType<typeof setTimeout>[] = [];
  private resolveExit: (code: number) => void = () => undefined;

  constructor(private readonly io: RelayIo) {}

  run(): Promise<number> {
    const exited = new Promise<number>((resolve) => (this.resolveExit = resolve));
    if (this.io.origin === null) {
      this.finish(1, errorResponse(null, noOrigin()));
      return exited;
    }
    this.io.input.on('data', (chunk: Buffer) => this.fromBrowser(chunk));
    this.io.input.on('end', () => this.browserEnded());
    this.io.input.on('error', (e) => this.end('warn', `stdin failed: ${e.message}`, 1));
    this.io.output.on('error', (e) => this.end('debug', `stdout failed: ${e.message}`, 0));
    this.io.connect().then(
      (socket) => this.connected(socket),
      (e: unknown) => this.finish(1, errorResponse(null, e instanceof AppError ? e : unreachable(e instanceof Error ? e.message : String(e), this.io.logFile))),
    );
    return exited;
  }

  private connected(socket: Duplex): void {
    if (this.done) return void socket.destroy();
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.fromDaemon(chunk));
    socket.on('error', (e) => this.io.log('debug', `socket error: ${e.message}`));
    socket.on('close', () => (this.closing ? this.finish(0) : this.end('warn', 'the daemon closed the connection', 1, errorResponse(null, unreachable('it closed the connection', this.io.logFile)))));
    socket.write(encodeFrame(request(HELLO_ID, 'relay.hello', { origin: this.io.origin })));
    for (const data of this.queued.splice(0)) this.toSocket(data);
    this.after(this.io.helloTimeoutMs ?? HELLO_TIMEOUT_MS, () => {
      if (!this.helloAnswered) this.finish(1, errorResponse(null, unreachable('it did not answer the native host’s hello', this.io.logFile)));
    });
  }

  private fromBrowser(chunk: Buffer): void {
    const scan = this.toDaemon.scan(chunk);
    if (scan.tooLarge === undefined) return this.toSocket(chunk);
    this.toSocket(chunk.subarray(0, scan.ends.at(-1) ?? 0));
    this.finish(1, errorResponse(null, frameTooLarge(scan.tooLarge)));
  }

  private toSocket(data: Uint8Array): void {
    if (!this.socket) return void this.queued.push(data);
    if (data.length > 0 && !this.socket.write(data)) {
      this.io.input.pause();
      this.socket.once('drain', () => this.io.input.resume());
    }
  }

  private fromDaemon(chunk: Buffer): void {
    const scan = this.toBrowser.scan(chunk);
    if (scan.tooLarge !== undefined) {
      const why = this.helloAnswered ? `it sent a ${scan.tooLarge}-byte frame, over the browser's 1 MiB` : 'its socket does not speak the protocol';
      return this.end('warn', `the daemon's socket misbehaved: ${why}`, 1, errorResponse(null, unreachable(why, this.io.logFile)));
    }
    const last = scan.ends.at(-1);
    if (last === undefined) return void this.held.push(chunk);
    const heldBytes = this.held.reduce((n, b) => n + b.length, 0);
    const whole = this.held.length === 0 ? chunk.subarray(0, last) : Buffer.concat([...this.held, chunk.subarray(0, last)]);
    this.held = last < chunk.length ? [chunk.subarray(last)] : [];
    if (this.helloAnswered) return this.toOutput(whole);
    const helloEnd = heldBytes + scan.ends[0]!;
    this.onHelloAnswer(parseOrNull(whole.subarray(HEADER_BYTES, helloEnd).toString('utf8')), whole.subarray(helloEnd));
  }

  private onHelloAnswer(answer: unknown, rest: Buffer): void {
    this.helloAnswered = true;
    const reply = (answer ?? {}) as { result?: { accepted?: unknown }; error?: unknown };
    if (reply.result?.accepted === true) return rest.length > 0 ? this.toOutput(rest) : undefined;
    if (reply.error && typeof reply.error === 'object') return this.end('warn', `the daemon refused the caller ${this.io.origin}`, 1, { jsonrpc: '2.0', id: null, error: reply.error });
    this.finish(1, errorResponse(null, unreachable('it gave an unexpected answer to the hello', this.io.logFile)));
  }

  private toOutput(data: Uint8Array): void {
    if (this.done) return;
    const socket = this.socket;
    if (!this.io.output.write(data) && socket) {
      socket.pause();
      this.io.output.once('drain', () => socket.resume());
    }
  }

  private browserEnded(): void {
    this.io.log('debug', 'stdin ended: the browser closed the port');
    this.closing = true;
    if (!this.socket) return this.finish(0);
    this.socket.end();
    this.after(this.io.eofGraceMs ?? EOF_GRACE_MS, () => this.finish(0));
  }

  private end(level: 'debug' | 'warn', msg: string, code: number, lastFrame?: unknown): void {
    if (this.done) return;
    this.io.log(level, msg);
    this.finish(code, lastFrame);
  }

  private after(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  /** Ends the relay once: a last frame for the browser (when one is due), then every resource let go. */
  private finish(code: number, lastFrame?: unknown): void {
    if (this.done) return;
    this.done = true;
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

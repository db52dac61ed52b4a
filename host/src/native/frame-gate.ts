// Frame boundaries without reparsing: the relay copies bytes, but it must know where frames
// start so that no frame over a limit gets through. The gate reads only the 4-byte headers,
// passes the bytes of frames within the limit (as views of the input, merged when adjacent),
// and never allocates what a length header asks for. Pure: bytes in, bytes and events out.
import { HEADER_BYTES } from '../../../shared/framing';
import type { RpcId } from '../../../shared/jsonrpc';

export type GateOutput =
  /** Bytes to forward as they are. With holdPartial they always end on a frame boundary. */
  | { kind: 'bytes'; data: Uint8Array }
  /** skip mode: a frame over the limit was consumed and dropped; `prefix` holds its first bytes. */
  | { kind: 'oversize'; length: number; prefix: Uint8Array }
  /** stop mode: a header over the limit; the stream cannot be trusted and the gate passes nothing more. */
  | { kind: 'too-large'; length: number };

export interface GateOptions {
  /** The largest body, in bytes, let through. */
  limit: number;
  /** 'skip' drops an oversized frame and carries on; 'stop' ends the stream at its header. */
  onOversize: 'skip' | 'stop';
  /** Hold a frame's bytes until it is whole, so the output never ends mid-frame. */
  holdPartial: boolean;
}

/** Enough of an oversized frame to read the id that JSON-RPC responses put near the start. */
const PREFIX_BYTES = 512;

export class FrameGate {
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  private mode: 'header' | 'pass' | 'skip' | 'stopped' = 'header';
  private remaining = 0;
  private skipLength = 0;
  private prefix = new Uint8Array(0);
  private held: Uint8Array[] = [];
  private ready: Uint8Array[] = [];
  private out: GateOutput[] = [];

  constructor(private readonly opts: GateOptions) {}

  /** True while a frame (or its header) has begun but not ended. */
  get midFrame(): boolean {
    return this.mode === 'pass' || this.mode === 'skip' || this.headerFill > 0;
  }

  push(chunk: Uint8Array): GateOutput[] {
    this.out = [];
    let i = 0;
    while (i < chunk.length && this.mode !== 'stopped') {
      if (this.mode === 'header') i = this.readHeader(chunk, i);
      else if (this.mode === 'pass') i = this.pass(chunk, i);
      else i = this.skip(chunk, i);
    }
    this.flushBytes();
    return this.out;
  }

  private readHeader(chunk: Uint8Array, i: number): number {
    let headerView: Uint8Array;
    if (this.headerFill === 0 && chunk.length - i >= HEADER_BYTES) {
      headerView = chunk.subarray(i, i + HEADER_BYTES);
      i += HEADER_BYTES;
    } else {
      const n = Math.min(HEADER_BYTES - this.headerFill, chunk.length - i);
      this.header.set(chunk.subarray(i, i + n), this.headerFill);
      this.headerFill += n;
      i += n;
      if (this.headerFill < HEADER_BYTES) return i;
      headerView = this.header.slice();
      this.headerFill = 0;
    }
    this.startFrame(headerView);
    return i;
  }

  private startFrame(headerView: Uint8Array): void {
    const length = new DataView(headerView.buffer, headerView.byteOffset, HEADER_BYTES).getUint32(0, true);
    if (length <= this.opts.limit) {
      this.mode = 'pass';
      this.remaining = length;
      this.emit(headerView);
      if (length === 0) this.endFrame();
    } else if (this.opts.onOversize === 'stop') {
      this.mode = 'stopped';
      this.flushBytes();
      this.out.push({ kind: 'too-large', length });
    } else {
      this.mode = 'skip';
      this.remaining = this.skipLength = length;
      this.prefix = new Uint8Array(0);
    }
  }

  private pass(chunk: Uint8Array, i: number): number {
    const n = Math.min(this.remaining, chunk.length - i);
    this.emit(chunk.subarray(i, i + n));
    this.remaining -= n;
    if (this.remaining === 0) this.endFrame();
    return i + n;
  }

  private skip(chunk: Uint8Array, i: number): number {
    const n = Math.min(this.remaining, chunk.length - i);
    if (this.prefix.length < PREFIX_BYTES) {
      const take = chunk.subarray(i, i + Math.min(n, PREFIX_BYTES - this.prefix.length));
      const grown = new Uint8Array(this.prefix.length + take.length);
      grown.set(this.prefix);
      grown.set(take, this.prefix.length);
      this.prefix = grown;
    }
    this.remaining -= n;
    if (this.remaining === 0) {
      this.mode = 'header';
      this.flushBytes();
      this.out.push({ kind: 'oversize', length: this.skipLength, prefix: this.prefix });
    }
    return i + n;
  }

  private emit(piece: Uint8Array): void {
    if (piece.length === 0) return;
    appendPiece(this.opts.holdPartial ? this.held : this.ready, piece);
  }

  private endFrame(): void {
    this.mode = 'header';
    for (const piece of this.held) appendPiece(this.ready, piece);
    this.held = [];
  }

  private flushBytes(): void {
    if (this.ready.length === 0) return;
    const data = this.ready.length === 1 ? this.ready[0]! : Buffer.concat(this.ready);
    this.ready = [];
    this.out.push({ kind: 'bytes', data });
  }
}

/** Adds piece to list, extending the last view instead when piece continues it in memory. */
function appendPiece(list: Uint8Array[], piece: Uint8Array): void {
  const last = list[list.length - 1];
  if (last && last.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
    list[list.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + piece.length);
  } else {
    list.push(piece);
  }
}

const STRING = /"(?:[^"\\]|\\.)*"/y;
const SCALAR = /(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/y;
const SPACE = /[ \t\r\n]*/y;

/**
 * The `id` of a JSON-RPC message from the first bytes of its frame, when it comes before any
 * nested value (the daemon writes {jsonrpc, id, result}); null when it cannot be read cheaply.
 */
export function peekId(prefix: Uint8Array): RpcId | null {
  const text = new TextDecoder().decode(prefix);
  let at = skipSpace(text, 0);
  if (text[at] !== '{') return null;
  at = skipSpace(text, at + 1);
  for (let member = 0; member < 8; member++) {
    const key = matchAt(STRING, text, at);
    if (key === null) return null;
    at = skipSpace(text, at + key.length);
    if (text[at] !== ':') return null;
    at = skipSpace(text, at + 1);
    const value = matchAt(STRING, text, at) ?? matchAt(SCALAR, text, at);
    // A value running to the end of the prefix may be cut short: not to be trusted.
    if (value === null || at + value.length >= text.length) return null;
    if (parseOr(key) === 'id') return asId(parseOr(value));
    at = skipSpace(text, at + value.length);
    if (text[at] !== ',') return null;
    at = skipSpace(text, at + 1);
  }
  return null;
}

function parseOr(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

function asId(v: unknown): RpcId | null {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
}

function matchAt(re: RegExp, text: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(text);
  return m && m[0].length > 0 ? m[0] : null;
}

function skipSpace(text: string, at: number): number {
  SPACE.lastIndex = at;
  SPACE.exec(text);
  return SPACE.lastIndex;
}

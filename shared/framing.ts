// Native-messaging frames: a uint32 little-endian byte length, then that many bytes of UTF-8 JSON.
// The same frames travel on the native host's stdio and on the daemon's socket, so the relay
// copies bytes without reparsing. The decoder is incremental: it buffers partial frames and
// yields whole ones only, and never allocates what a hostile length asks for before the bytes
// have arrived.

/**
 * Host → browser: "The maximum size of a single message from the native messaging host is 1 MB";
 * Chromium kills the port on a larger frame, and Firefox reads no more either
 * (https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging).
 */
export const MAX_TO_BROWSER = 1024 * 1024;
/** Browser → host and socket frames: Chromium's practical ceiling is 64 MiB. */
export const MAX_FRAME = 64 * 1024 * 1024;
export const HEADER_BYTES = 4;

const encoder = new TextEncoder();

export function encodeFrame(message: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/** A whole frame's body, or why it could not be read. */
export type DecodedFrame =
  | { kind: 'message'; value: unknown; bytes: number }
  | { kind: 'bad-json'; reason: string; bytes: number }
  /** The length header exceeds the limit: the stream cannot be trusted any more. */
  | { kind: 'too-large'; length: number };

export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private broken = false;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly maxFrame: number = MAX_FRAME) {}

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns the frames they complete, in order. After 'too-large' it yields nothing more. */
  push(chunk: Uint8Array): DecodedFrame[] {
    if (this.broken) return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: DecodedFrame[] = [];
    while (this.buffered >= HEADER_BYTES) {
      const length = this.peekLength();
      if (length > this.maxFrame) {
        this.broken = true;
        this.chunks = [];
        this.buffered = 0;
        out.push({ kind: 'too-large', length });
        break;
      }
      if (this.buffered < HEADER_BYTES + length) break;
      const body = this.take(HEADER_BYTES + length).subarray(HEADER_BYTES);
      out.push(this.parse(body));
    }
    return out;
  }

  private parse(body: Uint8Array): DecodedFrame {
    let text: string;
    try {
      text = this.utf8.decode(body);
    } catch {
      return { kind: 'bad-json', reason: 'the frame is not valid UTF-8', bytes: body.length };
    }
    try {
      return { kind: 'message', value: JSON.parse(text), bytes: body.length };
    } catch (e) {
      return { kind: 'bad-json', reason: `the frame is not valid JSON (${(e as Error).message})`, bytes: body.length };
    }
  }

  private peekLength(): number {
    const head = this.chunks[0]!;
    if (head.length >= HEADER_BYTES) return new DataView(head.buffer, head.byteOffset, HEADER_BYTES).getUint32(0, true);
    const four = this.take(HEADER_BYTES);
    this.chunks.unshift(four);
    this.buffered += HEADER_BYTES;
    return new DataView(four.buffer, four.byteOffset, HEADER_BYTES).getUint32(0, true);
  }

  /** Removes and returns exactly n buffered bytes (n ≤ buffered). */
  private take(n: number): Uint8Array {
    const head = this.chunks[0]!;
    if (head.length >= n) {
      const out = head.subarray(0, n);
      if (head.length === n) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const need = n - filled;
      if (c.length <= need) {
        out.set(c, filled);
        filled += c.length;
        this.chunks.shift();
      } else {
        out.set(c.subarray(0, need), filled);
        this.chunks[0] = c.subarray(need);
        filled += need;
      }
    }
    this.buffered -= n;
    return out;
  }
}

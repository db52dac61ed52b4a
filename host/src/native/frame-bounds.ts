// Where native-messaging frames end in a byte stream, read from their 4-byte little-endian
// length headers alone: what the relay needs to copy frames without parsing them. It never
// allocates what a header asks for, and holds nothing but the header bytes read so far.
import { HEADER_BYTES } from '../../../shared/framing';

export interface Scan {
  /** Offsets in the chunk just past each frame that ends in it, in order. */
  ends: number[];
  /** A header over the limit was read (ends holds the frames before it): the stream cannot be trusted. */
  tooLarge?: number;
}

export class FrameBounds {
  private headerFill = 0;
  private length = 0;
  /** Body bytes left in the current frame; -1 while a header is being read. */
  private remaining = -1;
  private broken = false;

  constructor(private readonly limit: number) {}

  /** True between frames: no header or body begun and not ended. */
  get atBoundary(): boolean {
    return this.remaining < 0 && this.headerFill === 0;
  }

  scan(chunk: Uint8Array): Scan {
    const ends: number[] = [];
    if (this.broken) return { ends };
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining < 0) {
        this.length += chunk[i]! * 2 ** (8 * this.headerFill);
        i++;
        if (++this.headerFill < HEADER_BYTES) continue;
        if (this.length > this.limit) {
          this.broken = true;
          return { ends, tooLarge: this.length };
        }
        this.remaining = this.length;
        this.headerFill = 0;
        this.length = 0;
      } else {
        const n = Math.min(this.remaining, chunk.length - i);
        i += n;
        this.remaining -= n;
      }
      if (this.remaining === 0) {
        this.remaining = -1;
        ends.push(i);
      }
    }
    return { ends };
  }
}

// Frame boundaries from headers alone, for every way a stream can be cut, and the stop at a
// hostile length: what the relay relies on to pass whole frames and to refuse huge ones.
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../shared/framing';
import { FrameBounds } from './frame-bounds';

const frames = [encodeFrame({ a: 1 }), encodeFrame({ b: 'two' }), encodeFrame({})];
const stream = Buffer.concat(frames);
const boundaries = [frames[0]!.length, frames[0]!.length + frames[1]!.length, stream.length];

function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(length);
  return h;
}

describe('FrameBounds', () => {
  it('finds the end of every frame in one chunk', () => {
    const bounds = new FrameBounds(100);
    expect(bounds.scan(stream)).toEqual({ ends: boundaries });
    expect(bounds.atBoundary).toBe(true);
  });

  it('finds the same ends however the stream is cut in two, headers included', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const bounds = new FrameBounds(100);
      const first = bounds.scan(stream.subarray(0, cut)).ends;
      const second = bounds.scan(stream.subarray(cut)).ends.map((e) => e + cut);
      expect([...first, ...second]).toEqual(boundaries);
      expect(bounds.atBoundary).toBe(true);
    }
  });

  it('finds the ends when the stream comes a byte at a time', () => {
    const bounds = new FrameBounds(100);
    const ends: number[] = [];
    for (let i = 0; i < stream.length; i++) ends.push(...bounds.scan(stream.subarray(i, i + 1)).ends.map((e) => e + i));
    expect(ends).toEqual(boundaries);
  });

  it('reads a length up to 4 GiB − 1 without overflowing into a negative number', () => {
    const bounds = new FrameBounds(0xffffffff);
    expect(bounds.scan(header(0xffffffff))).toEqual({ ends: [] });
    expect(bounds.atBoundary).toBe(false);
  });

  it('stops at a header over the limit, after the frames before it, and reads nothing after', () => {
    const bounds = new FrameBounds(100);
    expect(bounds.scan(Buffer.concat([frames[0]!, header(101), frames[1]!]))).toEqual({ ends: [frames[0]!.length], tooLarge: 101 });
    expect(bounds.scan(frames[2]!)).toEqual({ ends: [] });
  });

  it('takes an empty frame as its header alone', () => {
    expect(new FrameBounds(100).scan(header(0))).toEqual({ ends: [4] });
  });
});

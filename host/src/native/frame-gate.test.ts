import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../shared/framing';
import { FrameGate, peekId, type GateOutput } from './frame-gate';

const frames = [encodeFrame({ a: 1 }), encodeFrame({ b: 'two' }), encodeFrame({})];
const stream = Buffer.concat(frames);

function bytesOf(out: GateOutput[]): Buffer {
  return Buffer.concat(out.flatMap((o) => (o.kind === 'bytes' ? [o.data] : [])));
}

function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(length);
  return h;
}

describe('FrameGate', () => {
  it('passes a chunk of whole frames through as the very same bytes, without copying', () => {
    const gate = new FrameGate({ limit: 100, onOversize: 'skip', holdPartial: true });
    const out = gate.push(stream);
    expect(out).toHaveLength(1);
    expect(out[0]!.kind === 'bytes' && out[0]!.data.buffer).toBe(stream.buffer);
    expect(bytesOf(out)).toEqual(stream);
  });

  it('outputs only whole frames for every way of splitting the stream in two, when holding partials', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const gate = new FrameGate({ limit: 100, onOversize: 'skip', holdPartial: true });
      const first = bytesOf(gate.push(stream.subarray(0, cut)));
      const second = bytesOf(gate.push(stream.subarray(cut)));
      const boundaries = [0, frames[0]!.length, frames[0]!.length + frames[1]!.length, stream.length];
      expect(boundaries).toContain(first.length);
      expect(Buffer.concat([first, second])).toEqual(stream);
      expect(gate.midFrame).toBe(false);
    }
  });

  it('forwards bytes at once, but never a partial header, when not holding partials', () => {
    const gate = new FrameGate({ limit: 100, onOversize: 'stop', holdPartial: false });
    expect(gate.push(stream.subarray(0, 3))).toEqual([]);
    expect(bytesOf(gate.push(stream.subarray(3, 6)))).toEqual(stream.subarray(0, 6));
    expect(gate.midFrame).toBe(true);
  });

  it('skips an oversized frame, however it is split, and reports it once with its first bytes', () => {
    const big = encodeFrame({ jsonrpc: '2.0', id: 42, result: 'x'.repeat(300) });
    const all = Buffer.concat([frames[0]!, big, frames[1]!]);
    const gate = new FrameGate({ limit: 100, onOversize: 'skip', holdPartial: true });
    const out: GateOutput[] = [];
    for (let i = 0; i < all.length; i += 7) out.push(...gate.push(all.subarray(i, i + 7)));
    const oversize = out.filter((o) => o.kind === 'oversize');
    expect(oversize).toHaveLength(1);
    expect(oversize[0]).toMatchObject({ length: big.length - 4 });
    expect(oversize[0]!.kind === 'oversize' && peekId(oversize[0]!.prefix)).toBe(42);
    expect(bytesOf(out)).toEqual(Buffer.concat([frames[0]!, frames[1]!]));
  });

  it('stops at a header over the limit, after passing what came before, and passes nothing after', () => {
    const gate = new FrameGate({ limit: 100, onOversize: 'stop', holdPartial: false });
    const out = gate.push(Buffer.concat([frames[0]!, header(101), frames[1]!]));
    expect(out).toEqual([{ kind: 'bytes', data: frames[0] }, { kind: 'too-large', length: 101 }]);
    expect(gate.push(frames[2]!)).toEqual([]);
  });

  it('does not allocate what a 4 GiB header asks for while skipping it', () => {
    const gate = new FrameGate({ limit: 100, onOversize: 'skip', holdPartial: true });
    const before = process.memoryUsage().arrayBuffers;
    gate.push(header(0xffffffff));
    for (let i = 0; i < 16; i++) gate.push(Buffer.alloc(1024 * 1024));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(gate.midFrame).toBe(true);
  });

  it('passes an empty frame as its header alone', () => {
    const gate = new FrameGate({ limit: 100, onOversize: 'skip', holdPartial: true });
    expect(bytesOf(gate.push(header(0)))).toEqual(header(0));
  });
});

describe('peekId', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it.each([
    ['{"jsonrpc":"2.0","id":7,"result":{"a"', 7],
    ['{ "jsonrpc" : "2.0" , "id" : "abc" , "error":', 'abc'],
    ['{"id":-3.5,"x":1}', -3.5],
    ['{"jsonrpc":"2.0","method":"status.changed","params":{"id":5}}', null],
    ['{"jsonrpc":"2.0","id":null,"error":{}}', null],
    ['{"jsonrpc":"2.0","id":12', null],
    ['[1,2,3]', null],
    ['{"bad\\x":1,"id":2}', 2],
    ['not json', null],
  ])('reads %j as %j', (text, id) => {
    expect(peekId(enc(text))).toBe(id);
  });
});

// The frame codec alone: whole frames only, however the bytes are cut, and no allocation of a
// hostile length before its bytes arrive.
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME } from './framing';

const msgs = [{ jsonrpc: '2.0', id: 1, method: 'status' }, { a: 'é'.repeat(300) }, { b: [1, 2, 3] }];
const bytes = Buffer.concat(msgs.map((m) => Buffer.from(encodeFrame(m))));

describe('FrameDecoder', () => {
  it('yields the same messages when the stream is cut byte by byte', () => {
    const d = new FrameDecoder();
    const out = [];
    for (const b of bytes) out.push(...d.push(Uint8Array.of(b)));
    expect(out.map((f) => (f.kind === 'message' ? f.value : f))).toEqual(msgs);
    expect(d.pending).toBe(0);
  });

  it('yields every message when several frames arrive in one read', () => {
    expect(new FrameDecoder().push(bytes).map((f) => (f.kind === 'message' ? f.value : f))).toEqual(msgs);
  });

  it('waits for a frame whose bytes have not all arrived', () => {
    const d = new FrameDecoder();
    expect(d.push(bytes.subarray(0, 10))).toEqual([]);
    expect(d.pending).toBe(10);
  });

  it('reports a frame over the limit once and then reads nothing more', () => {
    const d = new FrameDecoder();
    const head = Buffer.alloc(4);
    head.writeUInt32LE(MAX_FRAME + 1);
    expect(d.push(head)).toEqual([{ kind: 'too-large', length: MAX_FRAME + 1 }]);
    expect(d.push(bytes)).toEqual([]);
  });

  it('reports invalid UTF-8 and invalid JSON as bad frames and goes on', () => {
    const bad = (body: Buffer) => {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(body.length);
      return Buffer.concat([h, body]);
    };
    const out = new FrameDecoder().push(Buffer.concat([bad(Buffer.from([0xc3, 0x28])), bad(Buffer.from('{"a":')), Buffer.from(encodeFrame({ ok: 1 }))]));
    expect(out.map((f) => f.kind)).toEqual(['bad-json', 'bad-json', 'message']);
    expect(out[0]).toMatchObject({ reason: expect.stringMatching(/UTF-8/) });
  });

  it('writes the length little-endian before the UTF-8 body', () => {
    const f = encodeFrame({ x: 'é' });
    expect(Buffer.from(f).readUInt32LE(0)).toBe(Buffer.byteLength('{"x":"é"}'));
  });
});

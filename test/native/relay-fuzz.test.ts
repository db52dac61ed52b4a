// Fuzzing the native host process with thousands of random and mutated frames from a seeded
// PRNG (a failure names its seed): it must never crash or hang, must put nothing but whole,
// well-formed frames of at most 1 MiB on stdout, and must lose or duplicate no answer.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ID } from '../../shared/constants';
import { encodeFrame, MAX_TO_BROWSER } from '../../shared/framing';
import { buildRelay, errorCode, FakeDaemon, RelayProcess, tempHome } from './helpers';

const ORIGIN = `chrome-extension://${EXTENSION_ID}/`;
let bundle: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  bundle = await buildRelay();
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** mulberry32: a tiny seeded PRNG, so every run of a seed sends the same bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const bytes = (r: Rand, n: number) => Uint8Array.from({ length: n }, () => int(r, 0, 255));
const text = (r: Rand) => String.fromCodePoint(...Array.from({ length: int(r, 0, 20) }, () => (r() < 0.8 ? int(r, 32, 126) : int(r, 0xa0, 0x2fff))));

function withBody(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, 4);
  return frame;
}

const MUTANT_IDS = 1_000_000;
/** The bytes of a 'big' answer around its blob: {"jsonrpc":"2.0","id":NNNNNNN,"result":{"blob":""}} with room for the id. */
const BIG_OVERHEAD = 64;

/** One fuzzed frame (header always true to the body) and, for a valid request, its id. */
function fuzzFrame(r: Rand, id: number): { frame: Uint8Array; id: number | null } {
  const pick = r();
  const valid = { jsonrpc: '2.0', id, method: 'echo', params: { s: text(r), n: int(r, -1e6, 1e6) } };
  if (pick < 0.4) return { frame: encodeFrame(valid), id };
  if (pick < 0.55) return { frame: withBody(bytes(r, int(r, 0, 200))), id: null };
  if (pick < 0.7) {
    // Mutated copies carry ids from another range, so an answer to one is not taken for a valid request's.
    const body = encodeFrame({ ...valid, id: MUTANT_IDS + id }).slice(4);
    for (let k = int(r, 1, 4); k > 0; k--) body[int(r, 0, body.length - 1)] = int(r, 0, 255);
    return { frame: withBody(body), id: null };
  }
  if (pick < 0.8) return { frame: withBody(encodeFrame(valid).slice(4, int(r, 4, 30))), id: null };
  if (pick < 0.9) return { frame: encodeFrame([1, 'two', null]), id: null };
  if (pick < 0.99) return { frame: encodeFrame({ jsonrpc: '2.0', method: 'note', params: { s: text(r) } }), id: null };
  // Answers up to the browser's 1 MiB limit, which the daemon never exceeds toward a relay (server.ts).
  return { frame: encodeFrame({ jsonrpc: '2.0', id, method: 'big', params: { bytes: MAX_TO_BROWSER - BIG_OVERHEAD - int(r, 0, 200) } }), id };
}

async function relayFor(): Promise<RelayProcess> {
  const home = await tempHome();
  const daemon = new FakeDaemon(path.join(home, 'daemon.sock'));
  await daemon.start();
  const relay = RelayProcess.start(bundle, [ORIGIN], { ...process.env, EWS_DAEMON_HOME: home, EWS_DAEMON_LAUNCHER: path.join(home, 'none') });
  cleanups.push(async () => {
    relay.kill();
    await daemon.stop();
    await fs.rm(home, { recursive: true, force: true });
  });
  return relay;
}

/** Writes the bytes in random slices (1 byte to 4 KiB), yielding now and then so reads split. */
async function writeSliced(relay: RelayProcess, r: Rand, all: Uint8Array): Promise<void> {
  for (let at = 0; at < all.length; ) {
    const n = int(r, 1, r() < 0.3 ? 8 : 4096);
    relay.write(all.subarray(at, at + n));
    at += n;
    if (r() < 0.05) await new Promise((res) => setImmediate(res));
  }
}

describe('the native host under fuzzing', () => {
  it.each([1, 2, 3])('answers every one of 1500 random frames exactly once, in whole frames (seed %i)', async (seed) => {
    const r = prng(seed);
    const relay = await relayFor();
    const sent = Array.from({ length: 1500 }, (_, i) => fuzzFrame(r, i + 1));
    await writeSliced(relay, r, Buffer.concat(sent.map((s) => s.frame)));
    const frames = await relay.waitFrames(sent.length);
    relay.child.stdin.end();
    const exit = await relay.exitWithin();

    expect(relay.stdoutProblems).toEqual([]);
    expect(relay.trailingBytes).toBe(0);
    expect(frames).toHaveLength(sent.length);
    const expectedIds = sent.flatMap((s) => (s.id === null ? [] : [s.id]));
    expect(frames.map((f) => f.id).filter((id) => typeof id === 'number' && id < MUTANT_IDS)).toEqual(expectedIds);
    expect(exit).toEqual({ code: 0, signal: null }); // it exits once stdin closes (how fast: relay.bench.ts)
  });

  it.each([11, 12, 13, 14, 15, 16])('neither crashes nor hangs on raw random bytes (seed %i)', async (seed) => {
    const r = prng(seed);
    const relay = await relayFor();
    relay.send({ jsonrpc: '2.0', id: 1, method: 'echo' });
    await relay.waitFrames(1);
    await writeSliced(relay, r, bytes(r, int(r, 1, 20_000)));
    relay.child.stdin.end();
    const exit = await relay.exitWithin(); // null: still running long after stdin closed, a hang

    expect(exit).not.toBeNull();
    expect(exit?.signal).toBeNull();
    expect([0, 1]).toContain(exit?.code);
    expect(relay.stdoutProblems).toEqual([]);
    expect(relay.trailingBytes).toBe(0);
    if (exit?.code === 1) expect(errorCode(relay.frames.at(-1))).toBe('frame_too_large');
  });
});

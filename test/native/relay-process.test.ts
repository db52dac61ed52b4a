// The native host run as the browser runs it: a separate process on real pipes, against a fake
// daemon on a real Unix socket. What the browser would notice: frames in, frames out, nothing else
// on stdout, the right errors, and an exit when either side goes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ID, FIREFOX_ADDON_ID } from '../../shared/constants';
import { encodeFrame } from '../../shared/framing';
import { waitUntil } from '../support/wait';
import { buildRelay, errorCode, FakeDaemon, RelayProcess, tempHome } from './helpers';

const ORIGIN = `chrome-extension://${EXTENSION_ID}/`;
let bundle: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  bundle = await buildRelay();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(args: string[] = [ORIGIN], tweak?: (d: FakeDaemon) => void): Promise<{ relay: RelayProcess; daemon: FakeDaemon; home: string }> {
  const home = await tempHome();
  const daemon = new FakeDaemon(path.join(home, 'daemon.sock'));
  tweak?.(daemon);
  await daemon.start();
  // A launcher that fails: these tests must talk to the fake daemon, never start a real one.
  const relay = RelayProcess.start(bundle, args, { ...process.env, EWS_DAEMON_HOME: home, EWS_DAEMON_LAUNCHER: path.join(home, 'missing-launcher') });
  cleanups.push(async () => {
    relay.kill();
    await daemon.stop();
    await fs.rm(home, { recursive: true, force: true });
  });
  return { relay, daemon, home };
}

const req = (id: number, method: string, params?: unknown) => ({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

describe('the native host process', () => {
  it('does the hello with the Chrome origin, then relays a request and its answer', async () => {
    const { relay, daemon } = await setup([ORIGIN]);
    relay.send(req(1, 'echo', { n: 1 }));
    const [answer] = await relay.waitFrames(1);
    expect(answer).toEqual({ jsonrpc: '2.0', id: 1, result: { echo: { n: 1 } } });
    expect(daemon.hellos).toEqual([ORIGIN]);
  });

  it.each([
    ['Chrome on Windows', [ORIGIN, '--parent-window=0'], ORIGIN],
    ['the launcher', ['native-host', ORIGIN], ORIGIN],
    ['Firefox', ['/home/u/.mozilla/native-messaging-hosts/com.ews_daemon.companion.json', FIREFOX_ADDON_ID], FIREFOX_ADDON_ID],
  ])('says who the caller is when started by %s', async (_name, args, expected) => {
    const { relay, daemon } = await setup(args);
    relay.send(req(1, 'echo'));
    await relay.waitFrames(1);
    expect(daemon.hellos).toEqual([expected]);
  });

  it('reassembles a frame written one byte at a time and splits frames written at once', async () => {
    const { relay } = await setup();
    const bytes = encodeFrame(req(1, 'echo', { text: 'byte by byte' }));
    for (const b of bytes) {
      relay.write(Uint8Array.of(b));
      await new Promise((r) => setTimeout(r, 1));
    }
    relay.write(Buffer.concat([encodeFrame(req(2, 'echo')), encodeFrame(req(3, 'echo')), encodeFrame(req(4, 'echo'))]));
    const frames = await relay.waitFrames(4);
    expect(frames.map((f) => f.id)).toEqual([1, 2, 3, 4]);
    expect(frames[0]).toMatchObject({ result: { echo: { text: 'byte by byte' } } });
  });

  it('sends what the browser sends right behind the hello, and it is answered once the daemon accepts the hello', async () => {
    const { relay, daemon } = await setup([ORIGIN], (d) => (d.holdHellos = true));
    relay.send(req(1, 'echo'));
    relay.send(req(2, 'echo'));
    await waitUntil('the hello at the daemon', async () => daemon.hellos.length, (n) => n === 1);
    expect(daemon.received).toEqual([]); // the daemon reads nothing after the hello before answering it
    daemon.releaseHellos();
    const frames = await relay.waitFrames(2);
    expect(frames.map((f) => f.id)).toEqual([1, 2]);
  });

  // How fast it exits is measured by `npm run bench` (relay.bench.ts), not here.
  it('exits when the browser closes stdin', async () => {
    const { relay } = await setup();
    relay.send(req(1, 'echo'));
    await relay.waitFrames(1);
    relay.child.stdin.end();
    expect(await relay.exitWithin()).toEqual({ code: 0, signal: null });
  });

  it('sends daemon_unreachable and exits 1 when the daemon closes the socket', async () => {
    const { relay } = await setup();
    relay.send(req(1, 'close'));
    const [frame] = await relay.waitFrames(1);
    expect(frame).toMatchObject({ jsonrpc: '2.0', id: null });
    expect(errorCode(frame)).toBe('daemon_unreachable');
    expect((await relay.exited).code).toBe(1);
  });

  it('drops a half-sent answer and still ends stdout on a frame boundary when the daemon dies mid-frame', async () => {
    const { relay } = await setup();
    relay.send(req(1, 'half-then-close'));
    const [frame] = await relay.waitFrames(1);
    expect(errorCode(frame)).toBe('daemon_unreachable');
    await relay.exited;
    expect(relay.stdoutProblems).toEqual([]);
    expect(relay.trailingBytes).toBe(0);
  });

  it('forwards the refusal and exits when the daemon does not allow the origin', async () => {
    const { relay } = await setup([ORIGIN], (d) => d.refuse.add(ORIGIN));
    relay.send(req(1, 'echo'));
    const [frame] = await relay.waitFrames(1);
    expect(errorCode(frame)).toBe('origin_forbidden');
    expect((await relay.exited).code).toBe(1);
    expect(relay.frames).toHaveLength(1);
  });

  it('ends with daemon_unreachable rather than pass on a frame over 1 MiB, which would kill the port', async () => {
    // The daemon itself replaces such an answer for a relayed caller (server.ts, tested there):
    // a larger frame means the socket is not speaking for the daemon.
    const { relay } = await setup();
    relay.send(req(7, 'big', { bytes: 2 * 1024 * 1024 }));
    const [frame] = await relay.waitFrames(1);
    expect(frame).toMatchObject({ id: null });
    expect(errorCode(frame)).toBe('daemon_unreachable');
    expect((await relay.exited).code).toBe(1);
    expect(relay.stdoutProblems).toEqual([]);
    expect(relay.trailingBytes).toBe(0);
  });

  it('lets an answer of exactly 1 MiB through', async () => {
    const { relay } = await setup();
    const overhead = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { blob: '' } }).length;
    relay.send(req(1, 'big', { bytes: 1024 * 1024 - overhead }));
    const [frame] = await relay.waitFrames(1);
    expect(frame).toMatchObject({ id: 1, result: {} });
  });

  it('answers frame_too_large and exits cleanly, without allocating, when a header announces over 64 MiB', async () => {
    const home = await tempHome();
    const daemon = new FakeDaemon(path.join(home, 'daemon.sock'));
    await daemon.start();
    // GNU time reports the child's peak RSS: the relay must not reserve what the header asks for.
    const relay = new RelayProcess('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, bundle, ORIGIN], { ...process.env, EWS_DAEMON_HOME: home });
    cleanups.push(async () => {
      relay.kill();
      await daemon.stop();
      await fs.rm(home, { recursive: true, force: true });
    });
    relay.send(req(1, 'echo'));
    await relay.waitFrames(1);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(0xfffffff0);
    relay.write(Buffer.concat([header, Buffer.alloc(1024 * 1024, 0x41)]));
    const frames = await relay.waitFrames(2);
    expect(errorCode(frames[1])).toBe('frame_too_large');
    const exit = await relay.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(1);
    expect(relay.stderr).not.toMatch(/Error|at /);
    const rss = Number(/maxrss_kb=(\d+)/.exec(relay.stderr)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(120 * 1024);
  });

  it('stops with frame_too_large when the browser sends text that is not frames', async () => {
    const { relay } = await setup();
    relay.write(Buffer.from('hello, this is not a frame\n'));
    const [frame] = await relay.waitFrames(1);
    expect(errorCode(frame)).toBe('frame_too_large');
    expect((await relay.exited).code).toBe(1);
  });

  it('writes nothing but frames on stdout, even with debugging on', async () => {
    const home = await tempHome();
    const daemon = new FakeDaemon(path.join(home, 'daemon.sock'));
    await daemon.start();
    const relay = RelayProcess.start(bundle, [ORIGIN], { ...process.env, EWS_DAEMON_HOME: home, EWS_DAEMON_DEBUG: '1' });
    cleanups.push(async () => {
      relay.kill();
      await daemon.stop();
      await fs.rm(home, { recursive: true, force: true });
    });
    relay.send(req(1, 'echo'));
    relay.send(req(2, 'close'));
    await relay.waitFrames(2);
    await relay.exited;
    expect(relay.stdoutProblems).toEqual([]);
    expect(relay.trailingBytes).toBe(0);
    expect(relay.stderr).toContain('native-host');
  });

  it('is built from node builtins alone, with no console call that could write to stdout', async () => {
    const code = await fs.readFile(bundle, 'utf8');
    const imports = [...code.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !i!.startsWith('node:'))).toEqual([]);
    expect(code).not.toMatch(/console\./);
  });

  it('answers origin_forbidden without touching the daemon when started with no origin', async () => {
    const { relay, daemon } = await setup([]);
    const [frame] = await relay.waitFrames(1);
    expect(errorCode(frame)).toBe('origin_forbidden');
    expect((await relay.exited).code).toBe(1);
    expect(daemon.hellos).toEqual([]);
  });
});

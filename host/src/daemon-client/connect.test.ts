import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import type { Clock } from '../deps';
import { connectOrStart, launcherPath } from './connect';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ews-connect-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function listen(socketPath: string): Promise<net.Server> {
  const server = net.createServer((s) => s.end());
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

/**
 * A clock whose time moves only by the sleeps it is asked for, each of which resolves at once
 * (after `onSleep`, when given): the test sees every wait connectOrStart makes, with no real time.
 */
function steppingClock(onSleep?: () => Promise<unknown>): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    async sleep(ms: number) {
      slept.push(ms);
      t += ms;
      await onSleep?.();
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(() => null, (err: unknown) => err);
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

describe('connectOrStart', () => {
  it('connects without starting anything when the daemon already listens', async () => {
    const sock = path.join(await tempDir(), 'daemon.sock');
    await listen(sock);
    let starts = 0;
    const socket = await connectOrStart({ socketPath: sock, start: () => starts++ });
    socket.destroy();
    expect(starts).toBe(0);
  });

  it('starts the daemon once and waits for its socket when none answers', async () => {
    const sock = path.join(await tempDir(), 'daemon.sock');
    let starts = 0;
    let listening: Promise<unknown> | null = null;
    // The daemon comes up only after the first try failed: connectOrStart must wait and try again.
    const clock = steppingClock(() => (listening ??= listen(sock)));
    const socket = await connectOrStart({ socketPath: sock, start: () => void starts++, clock });
    socket.destroy();
    expect(starts).toBe(1);
    expect(clock.slept.length).toBeGreaterThan(0);
  });

  it('fails at once with daemon_unreachable and never starts one when told not to', async () => {
    const sock = path.join(await tempDir(), 'daemon.sock');
    let starts = 0;
    const clock = steppingClock();
    const e = await rejection(connectOrStart({ socketPath: sock, noStart: true, start: () => starts++, clock }));
    expect(e.code).toBe('daemon_unreachable');
    expect(starts).toBe(0);
    expect(clock.slept).toEqual([]); // at once: no waiting
  });

  it('gives up after the timeout, naming the log in its advice, when a started daemon never answers', async () => {
    const sock = path.join(await tempDir(), 'daemon.sock');
    const clock = steppingClock();
    const e = await rejection(connectOrStart({ socketPath: sock, start: () => undefined, timeoutMs: 300, logFile: '/var/x/daemon.log', clock }));
    expect(e.code).toBe('daemon_unreachable');
    expect(e.data.advice).toContain('/var/x/daemon.log');
    // Between tries it waited no longer than the timeout, and gave up only within one longest
    // back-off (250 ms) of it.
    const waited = clock.slept.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(300);
    expect(waited).toBeGreaterThan(300 - 250);
  });

  it('retries after ECONNREFUSED on a stale socket file left by a dead daemon', async () => {
    const sock = path.join(await tempDir(), 'daemon.sock');
    const stale = await listen(sock);
    await new Promise<void>((resolve) => {
      // Closing a Unix server removes its file; recreate one nobody listens on.
      stale.close(() => resolve());
    });
    await fs.writeFile(sock, '');
    let restarted: Promise<unknown> | null = null;
    const socket = await connectOrStart({
      socketPath: sock,
      start: () => void (restarted = fs.rm(sock).then(() => listen(sock))),
      clock: steppingClock(() => restarted ?? Promise.resolve()),
    });
    socket.destroy();
  });
});

describe('launcherPath', () => {
  it('prefers EWS_DAEMON_LAUNCHER', () => {
    expect(launcherPath({ EWS_DAEMON_LAUNCHER: '/opt/x/ews' })).toBe('/opt/x/ews');
  });

  it('finds host/bin/ews-daemon from a bundle in host/dist and from the sources', () => {
    const repo = path.resolve(import.meta.dirname, '../../..');
    const expected = path.join(repo, 'host', 'bin', 'ews-daemon');
    expect(launcherPath({}, pathToFileURL(path.join(repo, 'host', 'dist', 'native-host.mjs')).href)).toBe(expected);
    expect(launcherPath({}, import.meta.url)).toBe(expected);
  });
});

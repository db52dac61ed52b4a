import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors';
import { waitUntil } from '../../../test/support/wait';
import type { Clock } from '../deps';
import { acquireLock, breakStale, removeOrphanBreakMarkers, tryAcquireLock, withLock } from './file-lock';

let dir: string;
let lockPath: string;
const children: { kill(): void }[] = [];
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'file-lock-'));
  lockPath = path.join(dir, 'x.lock');
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await fs.rm(dir, { recursive: true, force: true });
});

const linuxOnly = process.platform === 'linux' ? it : it.skip;
const readOwner = async () => JSON.parse(await fs.readFile(lockPath, 'utf8')) as { pid: number; token: string; startTime?: string; bootId?: string };
const lockRecord = (pid: number, extra: object = {}) =>
  JSON.stringify({ pid, hostname: os.hostname(), acquiredAt: Date.now(), token: 'ab'.repeat(16), ...extra });

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** A process that runs until the test ends. */
async function livePid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((r) => child.once('spawn', r));
  return child.pid!;
}

describe('acquireLock', () => {
  it('writes our pid to a 0600 lock file and removes it on release', async () => {
    const lock = await acquireLock(lockPath);
    expect((await readOwner()).pid).toBe(process.pid);
    if (process.platform !== 'win32') expect((await fs.stat(lockPath)).mode & 0o777).toBe(0o600);
    await lock.release();
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('never lets two holders in at once when many contenders in one process race', async () => {
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        withLock(
          lockPath,
          async () => {
            inside++;
            most = Math.max(most, inside);
            await new Promise((r) => setTimeout(r, 2));
            inside--;
            done++;
          },
          { retryMs: 2 },
        ),
      ),
    );
    expect(most).toBe(1);
    expect(done).toBe(12);
  });

  it('breaks a lock left by a process that has exited', async () => {
    await fs.writeFile(lockPath, lockRecord(deadPid()));
    const slept: number[] = [];
    const clock: Clock = { now: () => slept.reduce((a, b) => a + b, 0), sleep: async (ms) => void slept.push(ms) };
    const lock = await acquireLock(lockPath, { timeoutMs: 1000, clock });
    expect(slept).toEqual([]); // broken at the first look, without waiting for the holder
    expect((await readOwner()).pid).toBe(process.pid);
    await lock.release();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('breaks a garbled lock once it is a few seconds old', async () => {
    await fs.writeFile(lockPath, '{"pid": 12');
    const old = new Date(Date.now() - 10_000);
    await fs.utimes(lockPath, old, old);
    const lock = await acquireLock(lockPath, { timeoutMs: 1000 });
    expect((await readOwner()).pid).toBe(process.pid);
    await lock.release();
  });

  it('waits instead of breaking a garbled lock that was just created', async () => {
    await fs.writeFile(lockPath, '');
    const err = await acquireLock(lockPath, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('timeout');
    expect(await fs.readFile(lockPath, 'utf8')).toBe('');
  });

  linuxOnly('breaks a lock whose pid now belongs to another process (start time differs)', async () => {
    await fs.writeFile(lockPath, lockRecord(process.pid, { startTime: '1', bootId: (await readOwnerOfFreshLock()).bootId }));
    const lock = await acquireLock(lockPath, { timeoutMs: 1000 });
    expect((await readOwner()).token).not.toBe('ab'.repeat(16));
    await lock.release();
  });

  linuxOnly('breaks a lock taken before the machine restarted (boot id differs)', async () => {
    const pid = await livePid();
    await fs.writeFile(lockPath, lockRecord(pid, { bootId: 'another-boot' }));
    const lock = await acquireLock(lockPath, { timeoutMs: 1000 });
    expect((await readOwner()).pid).toBe(process.pid);
    await lock.release();
  });

  it('times out naming the lock file and the pid that holds it when the holder runs', async () => {
    const pid = await livePid();
    await fs.writeFile(lockPath, lockRecord(pid));
    const err = await acquireLock(lockPath, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('timeout');
    if (!isAppError(err)) return;
    expect(err.message).toContain(lockPath);
    expect(err.data.advice).toContain(`Process ${pid} holds it`);
    expect(err.data.advice).toContain(lockPath);
    expect(err.data.retryable).toBe(true);
    expect((await readOwner()).pid).toBe(pid);
  });

  it('never judges a holder on another machine stale (it cannot see that pid)', async () => {
    await fs.writeFile(lockPath, lockRecord(deadPid(), { hostname: 'some-other-host' }));
    const err = await acquireLock(lockPath, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(isAppError(err) && err.data.advice).toContain('on some-other-host');
  });

  it('rejects with the signal’s reason when aborted while waiting', async () => {
    await fs.writeFile(lockPath, lockRecord(await livePid()));
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stop waiting')), 50);
    await expect(acquireLock(lockPath, { signal: abort.signal })).rejects.toThrow('stop waiting');
  });
});

describe('release', () => {
  it('leaves the lock alone when another process has taken it since', async () => {
    const lock = await acquireLock(lockPath);
    const theirs = lockRecord(await livePid());
    await fs.writeFile(lockPath, theirs);
    await lock.release();
    expect(await fs.readFile(lockPath, 'utf8')).toBe(theirs);
  });
});

describe('tryAcquireLock', () => {
  it('reports the pid that holds the lock when it runs', async () => {
    const pid = await livePid();
    await fs.writeFile(lockPath, lockRecord(pid));
    expect(await tryAcquireLock(lockPath)).toEqual({ heldBy: pid });
  });

  it('takes a lock whose holder has exited', async () => {
    await fs.writeFile(lockPath, lockRecord(deadPid()));
    const got = await tryAcquireLock(lockPath);
    expect('release' in got).toBe(true);
    expect((await readOwner()).pid).toBe(process.pid);
  });
});

/** A zombie: `sh` starts a short `sleep` in the background and becomes a long one, which never reaps it (the short one ends after the exec). */
async function zombiePid(): Promise<number> {
  const child = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  const pid = Number(await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString().trim()))));
  await waitUntil(`process ${pid} to be a zombie`, () => fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''), (stat) => stat.includes(') Z '));
  return pid;
}

describe('a zombie holder', () => {
  linuxOnly('is not a live holder: its lock is taken over', async () => {
    const pid = await zombiePid();
    process.kill(pid, 0); // exists, as far as kill(2) can tell
    await fs.writeFile(lockPath, lockRecord(pid));
    const got = await tryAcquireLock(lockPath);
    expect('release' in got).toBe(true);
    expect((await readOwner()).pid).toBe(process.pid);
  });
});

describe('breaking a stale lock', () => {
  it('does not remove a live lock taken after another contender broke the stale one', async () => {
    await fs.writeFile(lockPath, lockRecord(deadPid()));
    const staleId = (await readOwner()).token;
    const mine = await acquireLock(lockPath); // breaks it and takes the lock
    await breakStale(lockPath, staleId); // a slow contender that judged the old lock stale
    expect((await readOwner()).pid).toBe(process.pid);
    await mine.release();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('takes over from a breaker that died holding its marker', async () => {
    const dead = deadPid();
    await fs.writeFile(lockPath, lockRecord(dead));
    await fs.writeFile(path.join(dir, `.x.lock.break-${'ab'.repeat(16)}.0.tmp`), lockRecord(dead, { token: 'cd'.repeat(16) }));
    const lock = await acquireLock(lockPath, { timeoutMs: 1000 });
    expect((await readOwner()).pid).toBe(process.pid);
    await lock.release();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('lets exactly one of many contenders in when they all find the same stale lock', async () => {
    await fs.writeFile(lockPath, lockRecord(deadPid()));
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(
          lockPath,
          async () => {
            most = Math.max(most, ++inside);
            await new Promise((r) => setTimeout(r, 3));
            inside--;
          },
          { retryMs: 2 },
        ),
      ),
    );
    expect(most).toBe(1);
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

describe('removeOrphanBreakMarkers', () => {
  it('removes markers for locks that are gone and keeps those guarding a lock still there', async () => {
    const staleToken = 'ab'.repeat(16);
    await fs.writeFile(lockPath, lockRecord(deadPid()));
    const guarding = `.x.lock.break-${staleToken}.0.tmp`;
    const orphan = `.x.lock.break-${'ef'.repeat(16)}.1.tmp`;
    const unrelated = '.y.lock.break-abc.0.tmp';
    for (const n of [guarding, orphan, unrelated]) await fs.writeFile(path.join(dir, n), lockRecord(deadPid()));
    expect(await removeOrphanBreakMarkers(lockPath)).toEqual([orphan]);
    expect((await fs.readdir(dir)).sort()).toEqual([guarding, unrelated, 'x.lock'].sort());
    await fs.rm(lockPath);
    expect(await removeOrphanBreakMarkers(lockPath)).toEqual([guarding]);
  });
});

/** The record a lock of ours holds (to learn this machine's boot id). */
async function readOwnerOfFreshLock() {
  const probe = path.join(dir, 'probe.lock');
  const lock = await acquireLock(probe);
  const owner = JSON.parse(await fs.readFile(probe, 'utf8')) as { bootId?: string };
  await lock.release();
  return owner;
}

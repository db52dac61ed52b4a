// Crash test of the cache file's write path: writer processes (writeFileAtomic under acquireLock,
// bundled by esbuild) write large cache versions in a tight loop and are killed with SIGKILL at
// random moments. After every kill the file is one whole version, a new writer gets the lock
// (it is never left stuck), and the journal shows no two holders at once; at the end no litter is left.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleTempFiles } from '../../host/src/io/atomic-file';
import { acquireLock, removeOrphanBreakMarkers } from '../../host/src/io/file-lock';
import { cacheVersion, versionOf } from './crash-version';

const KILLS = 30;
const WRITERS = 3;
/** Stale-lock race: rounds of contenders that all start at the same instant. */
const ROUNDS = 6;
const CONTENDERS = 5;
/** How long the test waits for the lock after a kill before calling it stuck. */
const LOCK_WAIT_MS = 20_000;
/** Dozens of processes started and killed: seconds on an idle machine, several times that under load. */
const SLOW_TEST_MS = 120_000;
const here = path.dirname(fileURLToPath(import.meta.url));

let dir: string;
let writerScript: string;
let contenderScript: string;
/** Running writers, and whether each has written once (killing one still starting tests little). */
const writers = new Map<ChildProcess, boolean>();
const unexpectedExits: string[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'token-store-crash-'));
  writerScript = path.join(dir, 'bin', 'crash-writer.mjs');
  contenderScript = path.join(dir, 'bin', 'stale-contender.mjs');
  await build({
    entryPoints: [path.join(here, 'crash-writer.ts'), path.join(here, 'stale-contender.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: path.join(dir, 'bin'),
    outExtension: { '.js': '.mjs' },
    logLevel: 'error',
  });
});
afterAll(async () => {
  for (const w of writers.keys()) w.kill('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Journal rules: `exit P` only by the holder; `enter P` only when nobody holds, or the holder was
 * killed first (a takeover: the dead holder's lock was broken).
 */
function readJournal(lines: string[]): { violations: string[]; takeovers: number } {
  const violations: string[] = [];
  const killed = new Set<string>();
  let holder: string | null = null;
  let takeovers = 0;
  lines.forEach((line, i) => {
    const [what, pid] = line.split(' ') as [string, string];
    if (what === 'kill') killed.add(pid);
    if (what === 'enter') {
      if (holder !== null && !killed.has(holder)) violations.push(`line ${i + 1}: ${pid} entered while ${holder} held the lock`);
      if (holder !== null && killed.has(holder)) takeovers++;
      holder = pid;
    }
    if (what === 'exit') {
      if (holder !== pid) violations.push(`line ${i + 1}: ${pid} left a lock held by ${holder}`);
      holder = null;
    }
  });
  return { violations, takeovers };
}

describe('the cache file under kill -9', () => {
  it('is always one whole version, never stuck locked, never entered twice, and leaves no litter', async () => {
    const file = path.join(dir, 'state', 'token-cache.json');
    const journal = path.join(dir, 'journal');
    await fs.mkdir(path.dirname(file), { mode: 0o700 });
    let nextId = 0;
    const startWriter = () => {
      const id = `w${nextId++}`;
      const child = spawn(process.execPath, [writerScript, file, journal, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.once('data', () => writers.has(child) && writers.set(child, true));
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (code, signal) => {
        writers.delete(child);
        if (signal !== 'SIGKILL') unexpectedExits.push(`${id} exited ${code ?? signal}: ${stderr}`);
      });
      writers.set(child, false);
    };
    const kill = async (child: ChildProcess) => {
      appendFileSync(journal, `kill ${child.pid}\n`); // before the signal: its holder may be replaced only after this line
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    };
    const expectWholeVersion = async () => {
      const text = await fs.readFile(file, 'utf8');
      const version = versionOf(text);
      expect(version, `not a cache version: ${text.length} bytes`).not.toBeNull();
      expect(text === cacheVersion(version!.writer, version!.seq), `${version!.writer}#${version!.seq} is not whole`).toBe(true);
      return version!;
    };

    for (let i = 0; i < WRITERS; i++) startWriter();
    const ready = () => [...writers].filter(([, isReady]) => isReady).map(([w]) => w);
    /** Mostly kill whoever holds the lock: the crash that must not leave it stuck. */
    const lockHolder = async (lockPath: string) => {
      const pid = Number(/"pid":(\d+)/.exec(await fs.readFile(lockPath, 'utf8').catch(() => ''))?.[1]);
      return ready().find((w) => w.pid === pid);
    };

    const versionsSeen = new Set<string>();
    for (let k = 0; k < KILLS; k++) {
      while (ready().length < WRITERS - 1) await sleep(5);
      await sleep(Math.random() * 30);
      const victim = (Math.random() < 0.7 && (await lockHolder(`${file}.lock`))) || ready()[Math.floor(Math.random() * ready().length)]!;
      await kill(victim);
      const seen = await expectWholeVersion();
      versionsSeen.add(`${seen.writer}#${seen.seq}`);

      // Never stuck: a dead holder's lock is broken, so a new process gets it (how fast is not
      // asserted here: the 20 s is only how long a loaded machine may take to let us in).
      const lock = await acquireLock(`${file}.lock`, { timeoutMs: LOCK_WAIT_MS, retryMs: 2 });
      appendFileSync(journal, `enter ${process.pid}\n`);
      await expectWholeVersion();
      appendFileSync(journal, `exit ${process.pid}\n`);
      await lock.release();
      startWriter();
    }
    for (const w of [...writers.keys()]) await kill(w);

    expect(unexpectedExits).toEqual([]);
    const lines = (await fs.readFile(journal, 'utf8')).trim().split('\n');
    const { violations, takeovers } = readJournal(lines);
    expect(violations).toEqual([]);
    expect(lines.filter((l) => l.startsWith('enter')).length).toBeGreaterThan(KILLS * 2);
    expect(versionsSeen.size).toBeGreaterThan(KILLS / 2);
    // Most kills hit the holder inside the lock: breaking a dead holder's lock was exercised.
    expect(takeovers).toBeGreaterThanOrEqual(KILLS / 5);

    await expectWholeVersion();
    await (await acquireLock(`${file}.lock`, { timeoutMs: LOCK_WAIT_MS })).release(); // breaks the last stale lock
    await removeStaleTempFiles(path.dirname(file));
    await removeOrphanBreakMarkers(`${file}.lock`);
    expect(await fs.readdir(path.dirname(file))).toEqual(['token-cache.json']);
  }, SLOW_TEST_MS);

  it('lets one contender at a time in when several processes find the same stale lock at once', async () => {
    const lockPath = path.join(dir, 'race.lock');
    const journal = path.join(dir, 'race-journal');
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.once('exit', () => resolve(child.pid!));
    });
    for (let round = 0; round < ROUNDS; round++) {
      await fs.writeFile(lockPath, JSON.stringify({ pid: dead, hostname: os.hostname(), acquiredAt: 0, token: round.toString(16).padStart(32, '0') }));
      const children = Array.from({ length: CONTENDERS }, () => spawn(process.execPath, [contenderScript, lockPath, journal], { stdio: ['pipe', 'pipe', 'ignore'] }));
      const exits = children.map((child) => new Promise<number | null>((r) => child.once('exit', r)));
      await Promise.all(children.map((child) => once(child.stdout!, 'data'))); // every contender started: none is still loading
      const startAt = Date.now() + 20; // then all take the lock at one instant
      for (const child of children) child.stdin!.end(`${startAt}\n`);
      expect(await Promise.all(exits)).toEqual(Array(CONTENDERS).fill(0));
    }
    const lines = (await fs.readFile(journal, 'utf8')).trim().split('\n');
    expect(readJournal(lines).violations).toEqual([]);
    expect(lines).toHaveLength(ROUNDS * CONTENDERS * 2);
    await removeOrphanBreakMarkers(lockPath);
    expect((await fs.readdir(dir)).filter((n) => n.includes('race.lock'))).toEqual([]);
  }, SLOW_TEST_MS);

  it('flags a journal where a live holder was joined by a second one', () => {
    expect(readJournal(['enter 1', 'enter 2', 'exit 2']).violations).toEqual(['line 2: 2 entered while 1 held the lock']);
    expect(readJournal(['enter 1', 'kill 1', 'enter 2', 'exit 2'])).toEqual({ violations: [], takeovers: 1 });
    expect(readJournal(['enter 1', 'exit 2']).violations).toEqual(['line 2: 2 left a lock held by 1']);
  });
});

// A cross-process lock over one file that a crashed holder cannot leave stuck: a lock whose
// holder no longer runs on this machine (or whose file is garbled and old) is broken, and two
// contenders breaking the same stale lock never remove a live one.
//
// Taking: the record `{ pid, hostname, acquiredAt, token, startTime?, bootId? }` is written to a
// temp file and hard-linked to `X.lock` (link fails if it exists), so the lock file never exists
// half written; where links are unsupported, O_CREAT|O_EXCL then write.
// Breaking: a contender that judged `X.lock` stale (its identity `id`: the token, or inode+mtime
// when garbled) must first create the marker `.X.lock.break-<id>.<gen>.tmp` exclusively, then
// re-read `X.lock` and remove it only if it still has that id. Only a marker holder removes a
// lock with that id and its holder is gone, so the lock cannot change under the check. A marker
// whose creator died is skipped by taking the next generation; removeOrphanBreakMarkers cleans
// markers once their lock is gone.
// A zombie (exited, not reaped: kill(pid, 0) still succeeds) is a gone holder, read from
// /proc/PID/stat on Linux.
// Limits: a holder on another host (shared home over NFS) is never judged stale. Pid reuse is
// caught on Linux by the process start time and the boot id; elsewhere a reused pid keeps a
// stale lock until that process exits.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { Clock } from '../deps';
import { errCode, isPidRunning, openIfExists, tempPathFor } from './atomic-file';
import { systemClock } from './clock';

/** A garbled lock this old was left by a holder that died between create and write. */
const GARBLED_STALE_MS = 5_000;
/** Waiting between attempts: short, since holders keep the lock for milliseconds. */
const DEFAULT_RETRY_MS = 20;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Each extra marker generation needs a breaker to die mid-break: 8 is plenty. */
const MAX_MARKER_GENERATIONS = 8;
/** Rounds of create → inspect → break in one attempt before waiting. */
const ROUNDS_PER_ATTEMPT = 3;
const TOKEN = /^[0-9a-f]{16,64}$/;
/** link(2) refused by the file system (FAT, some FUSE and SMB mounts). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

export interface Lock {
  /** Removes the lock file if it still holds our token. Idempotent. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  timeoutMs?: number;
  retryMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

interface Owner {
  pid: number;
  hostname: string;
  acquiredAt: number;
  token: string;
  /** Linux: the process start time in clock ticks since boot (/proc/PID/stat field 22). */
  startTime?: string;
  /** Linux: /proc/sys/kernel/random/boot_id. */
  bootId?: string;
}

type Verdict =
  | { kind: 'gone' }
  | { kind: 'live'; pid: number; hostname: string }
  | { kind: 'young-garbled' }
  | { kind: 'stale'; id: string; pid?: number };

/** Waits (polling) until the lock is ours; AppError 'timeout' naming the file and its holder. */
export async function acquireLock(lockPath: string, opts: AcquireOptions = {}): Promise<Lock> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const got = await attempt(lockPath);
    if ('release' in got) return got;
    if (clock.now() >= deadline) throw timeoutError(lockPath, got, timeoutMs);
    await clock.sleep(Math.min(retryMs * (0.5 + Math.random()), Math.max(0, deadline - clock.now())), opts.signal);
  }
}

/** One attempt, no waiting (a lock being broken by another contender is retried briefly). */
export async function tryAcquireLock(lockPath: string): Promise<Lock | { heldBy: number /* pid; 0 when unknown */ }> {
  let got = await attempt(lockPath);
  for (let i = 0; i < 10 && !('release' in got) && got.kind !== 'live'; i++) {
    await systemClock.sleep(DEFAULT_RETRY_MS);
    got = await attempt(lockPath);
  }
  if ('release' in got) return got;
  return { heldBy: got.kind === 'live' ? got.pid : 0 };
}

/** Runs `fn` holding the lock; releases it however `fn` ends. */
export async function withLock<T>(lockPath: string, fn: () => Promise<T> | T, opts?: AcquireOptions): Promise<T> {
  const lock = await acquireLock(lockPath, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

async function attempt(lockPath: string): Promise<Lock | Exclude<Verdict, { kind: 'gone' }>> {
  let last: Exclude<Verdict, { kind: 'gone' }> = { kind: 'young-garbled' };
  for (let round = 0; round < ROUNDS_PER_ATTEMPT; round++) {
    const token = randomBytes(16).toString('hex');
    if (await createExclusive(lockPath, JSON.stringify(await ownerRecord(token)))) return heldLock(lockPath, token);
    const verdict = await inspect(lockPath);
    if (verdict.kind === 'gone') continue;
    last = verdict;
    if (verdict.kind !== 'stale') return verdict;
    await breakStale(lockPath, verdict.id);
  }
  return last;
}

function heldLock(lockPath: string, token: string): Lock {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const view = await readLockFile(lockPath);
      // Someone broke our lock (we looked dead) and took it: theirs now, leave it.
      if (view?.owner?.token === token) await fs.rm(lockPath, { force: true });
    },
  };
}

/** Creates `file` holding `content` only if it does not exist; never visible half written. */
export async function createExclusive(file: string, content: string): Promise<boolean> {
  const temp = tempPathFor(file);
  try {
    await fs.writeFile(temp, content, { flag: 'wx', mode: 0o600 });
    await fs.link(temp, file);
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    if (!NO_LINKS.has(errCode(err))) throw err;
    return createExclusiveWithoutLinks(file, content);
  } finally {
    await fs.rm(temp, { force: true });
  }
}

async function createExclusiveWithoutLinks(file: string, content: string): Promise<boolean> {
  try {
    await fs.writeFile(file, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    throw err;
  }
}

interface LockFileView {
  owner: Owner | null;
  /** The token, or `g<inode>-<mtime ns>` for a garbled file. */
  id: string;
  ageMs: number;
}

async function readLockFile(file: string): Promise<LockFileView | null> {
  const fh = await openIfExists(file);
  if (!fh) return null;
  try {
    const st = await fh.stat({ bigint: true });
    const owner = parseOwner(await fh.readFile('utf8'));
    // File times are wall-clock times, so the age is measured against the wall clock.
    return { owner, id: owner?.token ?? `g${st.ino}-${st.mtimeNs}`, ageMs: Date.now() - Number(st.mtimeMs) };
  } finally {
    await fh.close();
  }
}

function parseOwner(text: string): Owner | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!Number.isInteger(o.pid) || (o.pid as number) <= 0 || typeof o.token !== 'string' || !TOKEN.test(o.token)) return null;
  if (typeof o.hostname !== 'string') return null;
  return {
    pid: o.pid as number,
    hostname: o.hostname,
    acquiredAt: typeof o.acquiredAt === 'number' ? o.acquiredAt : 0,
    token: o.token,
    startTime: typeof o.startTime === 'string' ? o.startTime : undefined,
    bootId: typeof o.bootId === 'string' ? o.bootId : undefined,
  };
}

async function inspect(file: string): Promise<Verdict> {
  const view = await readLockFile(file);
  if (!view) return { kind: 'gone' };
  if (!view.owner) return view.ageMs > GARBLED_STALE_MS ? { kind: 'stale', id: view.id } : { kind: 'young-garbled' };
  const { pid, hostname } = view.owner;
  return (await holderGone(view.owner)) ? { kind: 'stale', id: view.id, pid } : { kind: 'live', pid, hostname };
}

/** True only when we can tell the holder no longer runs: same host, and its pid is dead or reused. */
async function holderGone(owner: Owner): Promise<boolean> {
  const self = await selfIdentity();
  if (owner.hostname !== self.hostname) return false;
  if (owner.bootId && self.bootId && owner.bootId !== self.bootId) return true;
  if (!isPidRunning(owner.pid)) return true;
  // kill(pid, 0) succeeds on a zombie (exited, not yet reaped by its parent): it holds nothing.
  if ((await procStat(owner.pid))?.state === 'Z') return true;
  if (!owner.startTime || !self.startTime) return false;
  const now = await procStartTime(owner.pid);
  return now !== owner.startTime;
}

/** Removes `lockPath` if it still has identity `id`, holding a break marker for `id` meanwhile. */
export async function breakStale(lockPath: string, id: string): Promise<void> {
  const markers: string[] = [];
  for (let gen = 0; gen < MAX_MARKER_GENERATIONS; gen++) {
    const marker = path.join(path.dirname(lockPath), `.${path.basename(lockPath)}.break-${id}.${gen}.tmp`);
    markers.push(marker);
    if (await createExclusive(marker, JSON.stringify(await ownerRecord(randomBytes(16).toString('hex'))))) {
      try {
        if ((await readLockFile(lockPath))?.id === id) await fs.rm(lockPath, { force: true });
      } finally {
        await Promise.all(markers.map((m) => fs.rm(m, { force: true })));
      }
      return;
    }
    const verdict = await inspect(marker);
    if (verdict.kind === 'live' || verdict.kind === 'young-garbled') return; // another breaker is at it
  }
}

/**
 * Removes break markers of `lockPath` left by breakers that died mid-break. Only markers for an
 * identity the lock file no longer has: identities never recur, so those can guard nothing,
 * whereas removing a marker whose stale lock still exists could let two breakers in at once.
 */
export async function removeOrphanBreakMarkers(lockPath: string): Promise<string[]> {
  const dir = path.dirname(lockPath);
  const prefix = `.${path.basename(lockPath)}.break-`;
  const names = await fs.readdir(dir).catch((err: unknown) => {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  });
  const markers = names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
  if (markers.length === 0) return [];
  const current = (await readLockFile(lockPath))?.id;
  const orphans = markers.filter((n) => n.slice(prefix.length).replace(/\.\d+\.tmp$/, '') !== current);
  await Promise.all(orphans.map((n) => fs.rm(path.join(dir, n), { force: true })));
  return orphans;
}

function timeoutError(lockPath: string, holder: Exclude<Verdict, { kind: 'gone' }>, timeoutMs: number): AppError {
  const who =
    holder.kind === 'live'
      ? `Process ${holder.pid}${holder.hostname === os.hostname() ? '' : ` on ${holder.hostname}`} holds it`
      : holder.kind === 'stale'
        ? `It was left by ${holder.pid ? `process ${holder.pid}, which no longer runs` : 'a process that died'}, and could not be removed`
        : 'Its holder is unknown (the file is being written or is garbled)';
  return new AppError('timeout', `Timed out after ${timeoutMs / 1000} s waiting for the lock ${lockPath}.`, {
    advice: `${who}. If that process is stuck, stop it; if no such process runs, delete ${lockPath}.`,
    retryable: true,
  });
}

interface SelfIdentity {
  hostname: string;
  startTime?: string;
  bootId?: string;
}
let self: Promise<SelfIdentity> | undefined;

function selfIdentity(): Promise<SelfIdentity> {
  self ??= (async () => ({
    hostname: os.hostname(),
    startTime: await procStartTime(process.pid),
    bootId: (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim() || undefined,
  }))();
  return self;
}

async function ownerRecord(token: string): Promise<Owner> {
  const { hostname, startTime, bootId } = await selfIdentity();
  return { pid: process.pid, hostname, acquiredAt: Date.now(), token, startTime, bootId };
}

/**
 * Linux only (proc(5)): a process's state (field 3: R, S, D, Z for a zombie, …) and start time
 * since boot (field 22). Field 2, the command name in parentheses, may hold spaces and ')'.
 */
async function procStat(pid: number): Promise<{ state: string; startTime: string | undefined } | undefined> {
  if (process.platform !== 'linux') return undefined;
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] || undefined }; // fields[0] is field 3
}

async function procStartTime(pid: number): Promise<string | undefined> {
  return (await procStat(pid))?.startTime;
}

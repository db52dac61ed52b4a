// Files written whole or not at all, and private folders. A reader (or a crash at any moment)
// sees the old content or the new, never a mix: temp file in the same folder, fsync, rename.
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../shared/errors';

/** A temp file older than this cannot belong to a live write (writes take milliseconds). */
const STALE_TEMP_MS = 60_000;
/** `.${base}.${pid}.${random}.tmp`: the pid tells whether its writer still runs. */
const TEMP_WITH_PID = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;
/** Folder fsync is refused on some platforms and file systems; the rename still happened. */
const DIR_FSYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP', 'EACCES']);
const IS_WINDOWS = process.platform === 'win32';

export interface WriteOptions {
  /** Permission bits of the new file (default 0o600: only the user may read it). */
  mode?: number;
}

/** The name of a fresh temp file beside `target`. Change TEMP_WITH_PID, change this. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Replaces `target` with `data` atomically and durably. On failure the temp file is gone and `target` untouched. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const temp = tempPathFor(target);
  let fh: FileHandle | undefined;
  try {
    fh = await fs.open(temp, 'wx', mode);
    if (!IS_WINDOWS) await fh.chmod(mode); // the umask may have taken bits we asked for
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fs.rename(temp, target);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/** Makes the rename itself durable. Best effort: some platforms cannot fsync a folder. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (!DIR_FSYNC_UNSUPPORTED.has(errCode(err))) throw err;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * mkdir -p with 0700; an existing folder of ours with group/other bits is tightened to 0700.
 * Refuses a folder owned by someone else or a shared sticky folder like /tmp: not ours to change.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (IS_WINDOWS) return; // ACLs, not mode bits: the user's profile folders are private already
  const st = await fs.stat(dir);
  if ((st.mode & 0o077) === 0) return;
  const uid = process.getuid?.();
  // chmod(2) follows a symbolic link: a linked folder (EWS_DAEMON_HOME=~ via a link, say) would
  // change its target's mode. A link is left as it is unless others could write through it.
  const linked = (await fs.lstat(dir)).isSymbolicLink();
  if ((uid !== undefined && st.uid !== uid) || (st.mode & 0o1000) !== 0 || (linked && (st.mode & 0o022) !== 0)) {
    throw new AppError('config_invalid', `The folder ${dir} is shared with other users.`, {
      advice: `Keep the daemon's files in a folder only you can read: set EWS_DAEMON_HOME to one you own, or make ${dir} yours with mode 0700.`,
      retryable: false,
    });
  }
  if (!linked) await fs.chmod(dir, 0o700);
}

/** The file opened for reading, or null when it does not exist (the caller closes it). */
export async function openIfExists(file: string): Promise<fs.FileHandle | null> {
  try {
    return await fs.open(file, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
}

export interface CleanupOptions {
  /** Remove temps older than this (default 60 s). */
  maxAgeMs?: number;
  /** Time now in ms since the epoch (default: the system clock). */
  now?: number;
}

/**
 * Removes temp files `.${base}.${pid}.${random}.tmp` left in `dir` by crashed writers: those
 * older than a minute, and those whose pid no longer runs here. Returns the names removed.
 * (Lock-break markers are file-lock's to clean: removeOrphanBreakMarkers.)
 * (On a folder shared between machines the pid rule could remove a live writer's temp: its
 * write then fails cleanly. Our folders are per user and local.)
 */
export async function removeStaleTempFiles(dir: string, opts: CleanupOptions = {}): Promise<string[]> {
  const maxAgeMs = opts.maxAgeMs ?? STALE_TEMP_MS;
  const now = opts.now ?? Date.now();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(TEMP_WITH_PID.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid)) continue;
    const st = await fs.stat(path.join(dir, name)).catch(() => null);
    if (!st?.isFile()) continue;
    const writerGone = pid !== process.pid && !isPidRunning(pid);
    if (now - st.mtimeMs <= maxAgeMs && !writerGone) continue;
    await fs.rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** True when a process with this pid exists on this machine (it may belong to another user). */
export function isPidRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
}

/** The `code` of a Node system error ('ENOENT', …), or '' for anything else. */
export function errCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

// The daemon's own folders (state: token cache, log, accounts; runtime: socket, pid, lock) are
// made 0700 when missing and, when they exist, checked, never repaired: a folder someone else
// could write (or one above it, see trust.ts) is refused, as is any entry in it that is a
// symbolic link or belongs to another user (a planted `daemon.log` link would have the daemon
// append to its target). Nothing here calls chmod, so nothing follows a link to change modes.
// Guarantee: when ensureOwnFolder returns, only this user (or root) can add, replace or remove
// what is in the folder.
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { FileSystem } from '../deps';
import { othersCanChange, shellQuote } from './trust';

export type OwnFolderFs = Pick<FileSystem, 'mkdir' | 'stat' | 'lstat' | 'realpath' | 'readdir'>;

export interface OwnFolderOptions {
  /** Entries that may be symbolic links (the config file, when it lives here: trust.ts checks its target). */
  allowLinks?: string[];
  platform?: NodeJS.Platform;
  uid?: number;
}

/** mkdir -p (0700) when missing; otherwise refuses a folder, or an entry in it, others control. */
export async function ensureOwnFolder(fs: OwnFolderFs, dir: string, opts: OwnFolderOptions = {}): Promise<void> {
  await fs.mkdir(dir, 0o700);
  if ((opts.platform ?? process.platform) === 'win32') return; // ACLs, not modes: the profile folders are private
  const uid = opts.uid ?? process.getuid?.();
  const problems = await othersCanChange(dir, 'the folder', fs, uid);
  const st = await fs.stat(dir);
  if (!st) throw new AppError('config_invalid', `The daemon's folder ${dir} was removed as it was made.`, { advice: 'Find what removes it, then start again.', retryable: false });
  if (!st.isDirectory) problems.push({ text: `${dir} is not a folder`, fix: `rm ${shellQuote(dir)}` });
  else if (uid !== undefined && st.uid !== uid && problems.length === 0) {
    problems.push({ text: `the folder ${dir} belongs to another user (uid ${st.uid})`, fix: `chown ${uid} ${shellQuote(dir)}` });
  }
  if (problems.length === 0) problems.push(...(await plantedEntries(fs, dir, new Set((opts.allowLinks ?? []).map((p) => path.resolve(p))), uid)));
  if (problems.length === 0) return;
  throw new AppError('config_invalid', `The daemon's folder ${dir} is not safe to use:\n${problems.map((p) => p.text).join('\n')}`, {
    advice: `Someone else could plant or change files there. Check, then run ${problems.map((p) => p.fix).join(' and ')}, or set EWS_DAEMON_HOME to a folder only you can write; then start again.`,
    retryable: false,
  });
}

async function plantedEntries(fs: OwnFolderFs, dir: string, allowLinks: Set<string>, uid: number | undefined): Promise<{ text: string; fix: string }[]> {
  const found: { text: string; fix: string }[] = [];
  for (const name of await fs.readdir(dir)) {
    const entry = path.join(dir, name);
    const st = await fs.lstat(entry).catch(() => null);
    if (!st) continue; // removed meanwhile
    if (st.isSymbolicLink && !allowLinks.has(entry)) found.push({ text: `${entry} is a symbolic link`, fix: `rm ${shellQuote(entry)}` });
    else if (uid !== undefined && st.uid !== uid) found.push({ text: `${entry} belongs to another user (uid ${st.uid})`, fix: `rm ${shellQuote(entry)}` });
  }
  return found;
}

// Whether a file, or a folder above it, can be changed by someone other than this user (POSIX).
// Whoever can write the config can send the client secret and the refresh token anywhere, so
// the config, the files it names and the state folder are trusted only when neither they nor
// any folder above them can be written by another user. The rule, folder by folder up to `/`:
// - owned by this user or by root (root can change anything anyway);
// - no write bit for group or others, except on a sticky folder (like /tmp, mode 1777): there
//   others may add entries but not rename or remove ours (chmod(2), "S_ISVTX"), and the entry
//   below it is itself checked to be ours or root's.
// Each problem names the path and the command that fixes it. Windows has ACLs, not modes: the
// caller skips this there.
import os from 'node:os';
import path from 'node:path';
import type { FileSystem } from '../deps';

export type TrustFs = Pick<FileSystem, 'stat' | 'realpath'>;

export interface TrustProblem {
  text: string;
  /** A shell command that fixes it. */
  fix: string;
}

const STICKY = 0o1000;
const GROUP_OTHER_WRITE = 0o022;

/**
 * Problems with `file` (labelled `label` in the text) and the folders above it; [] when none.
 * Paths in `seen` are skipped and added to it, so a folder shared by several files is named once.
 */
export async function othersCanChange(file: string, label: string, fs: TrustFs, uid: number | undefined, seen = new Set<string>()): Promise<TrustProblem[]> {
  const given = path.resolve(file);
  const real = await fs.realpath(given).catch(() => given);
  const problems: TrustProblem[] = [];
  for (const start of new Set([given, real])) {
    for (let p = start, leaf = true; !seen.has(p); leaf = false) {
      seen.add(p);
      const problem = await checkOne(p, leaf ? label : `the folder ${p} (holding ${label})`, leaf, fs, uid);
      if (problem) problems.push(problem);
      const up = path.dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  return problems;
}

async function checkOne(p: string, subject: string, leaf: boolean, fs: TrustFs, uid: number | undefined): Promise<TrustProblem | null> {
  const st = await fs.stat(p).catch(() => null);
  if (!st) return null; // a missing file is reported by whoever reads it
  const mode = st.mode & 0o7777;
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    const fix = `chown ${userName()} ${shellQuote(p)}`;
    return { text: `${leaf ? `${subject} ${p}` : subject} belongs to another user (uid ${st.uid}); fix (as root): ${fix}`, fix };
  }
  if ((mode & GROUP_OTHER_WRITE) !== 0 && (leaf || (mode & STICKY) === 0)) {
    const fix = `chmod go-w ${shellQuote(p)}`;
    return { text: `${leaf ? `${subject} ${p}` : subject} can be changed by other users (mode ${mode.toString(8).padStart(4, '0')}); fix: ${fix}`, fix };
  }
  return null;
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'you');
  }
}

export function shellQuote(file: string): string {
  return `'${file.replaceAll("'", "'\\''")}'`;
}

// The real FileSystem (deps.ts) over node:fs: modules outside io/ reach files only through it
// (scripts/check-imports.mjs). Each op keeps the contract written on the interface: missing
// (ENOENT, ENOTDIR) gives null or false where the interface says so; every other error is
// thrown as Node's own.
import type { Stats } from 'node:fs';
import { constants, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileStat, FileSystem } from '../deps';
import { errCode, writeFileAtomic } from './atomic-file';
import { pathExists } from './path-exists';

/** The codes that mean "nothing there": the path, or a folder on the way to it, does not exist. */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
/** rmdir(2) of a folder that still holds entries: ENOTEMPTY on Linux and macOS, EEXIST on some Unixes. */
const NOT_EMPTY = new Set(['ENOTEMPTY', 'EEXIST']);

function toFileStat(st: Stats): FileStat {
  return {
    mode: st.mode & 0o7777,
    uid: st.uid,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    isFile: st.isFile(),
    isDirectory: st.isDirectory(),
    isSymbolicLink: st.isSymbolicLink(),
  };
}

/** The value, or `missing` when the error says nothing is there; any other error is rethrown. */
async function orMissing<T, M>(op: Promise<T>, missing: M): Promise<T | M> {
  try {
    return await op;
  } catch (err) {
    if (MISSING.has(errCode(err))) return missing;
    throw err;
  }
}

export const nodeFileSystem: FileSystem = {
  readText: (file) => fs.readFile(file, 'utf8'),
  readTextIfExists: (file) => orMissing(fs.readFile(file, 'utf8'), null),
  readBytes: (file) => fs.readFile(file),
  stat: async (p) => orMissing(fs.stat(p).then(toFileStat), null),
  lstat: async (p) => orMissing(fs.lstat(p).then(toFileStat), null),
  statSync(p) {
    try {
      // throwIfNoEntry: false answers undefined for ENOENT (the common case) without building an Error.
      const st = statSync(p, { throwIfNoEntry: false });
      return st ? toFileStat(st) : null;
    } catch (err) {
      if (MISSING.has(errCode(err))) return null;
      throw err;
    }
  },
  exists: pathExists,
  isExecutable: (p) =>
    fs.access(p, constants.X_OK).then(
      () => true,
      () => false,
    ),
  realpath: (p) => fs.realpath(p),
  readdir: (dir) => fs.readdir(dir),
  mkdir: async (dir, mode = 0o700) => {
    await fs.mkdir(dir, { recursive: true, mode });
  },
  writeFileAtomic: (file, data, mode = 0o600) => writeFileAtomic(file, data, { mode }),
  chmod: (p, mode) => fs.chmod(p, mode),
  rename: (from, to) => fs.rename(from, to),
  rm: (p) => fs.rm(p, { force: true }),
  async rmdirIfEmpty(dir) {
    try {
      await fs.rmdir(dir);
      return true;
    } catch (err) {
      if (NOT_EMPTY.has(errCode(err)) || MISSING.has(errCode(err))) return false;
      throw err;
    }
  },
};

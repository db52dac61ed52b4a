import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFileSystem as nfs } from './node-fs';

const POSIX = process.platform !== 'win32';
let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-node-fs-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('nodeFileSystem', () => {
  it('answers null for a missing file, and for a path through a file (ENOTDIR)', async () => {
    const gone = path.join(dir, 'gone');
    await fs.writeFile(path.join(dir, 'file'), 'x');
    const through = path.join(dir, 'file', 'below');
    for (const p of [gone, through]) {
      expect(await nfs.readTextIfExists(p)).toBeNull();
      expect(await nfs.stat(p)).toBeNull();
      expect(await nfs.lstat(p)).toBeNull();
      expect(nfs.statSync(p)).toBeNull();
      expect(nfs.exists(p)).toBe(false);
    }
    await expect(nfs.readText(gone)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(nfs.readBytes(gone)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(nfs.readdir(gone)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads back what writeFileAtomic wrote, with exactly the mode asked whatever the umask', async () => {
    const file = path.join(dir, 'a.json');
    await nfs.writeFileAtomic(file, '{"a":1}', 0o640);
    expect(await nfs.readText(file)).toBe('{"a":1}');
    expect(await nfs.readTextIfExists(file)).toBe('{"a":1}');
    expect((await nfs.readBytes(file)).toString('utf8')).toBe('{"a":1}');
    const st = await nfs.stat(file);
    expect(st).toMatchObject({ isFile: true, isDirectory: false, isSymbolicLink: false, size: 7 });
    if (POSIX) expect(st?.mode).toBe(0o640);
    await nfs.writeFileAtomic(file, 'again');
    if (POSIX) expect((await nfs.stat(file))?.mode).toBe(0o600);
    expect(await nfs.readdir(dir)).toEqual(['a.json']); // no temp file left
  });

  it.skipIf(!POSIX)('keeps the special bits in mode and leaves the file type out', async () => {
    const sticky = path.join(dir, 'shared');
    await nfs.mkdir(sticky);
    await nfs.chmod(sticky, 0o1777);
    expect((await nfs.stat(sticky))?.mode).toBe(0o1777);
    expect(nfs.statSync(sticky)).toMatchObject({ mode: 0o1777, isDirectory: true, uid: process.getuid?.() });
  });

  it.skipIf(!POSIX)('tells a link from its target with lstat, and follows it with stat and realpath', async () => {
    const target = path.join(dir, 'target');
    const link = path.join(dir, 'link');
    await fs.writeFile(target, 'x');
    await fs.symlink(target, link);
    expect((await nfs.lstat(link))?.isSymbolicLink).toBe(true);
    expect((await nfs.stat(link))?.isFile).toBe(true);
    expect(await nfs.realpath(link)).toBe(await fs.realpath(target));
    await fs.rm(target);
    expect(await nfs.stat(link)).toBeNull(); // a link to nothing
    expect((await nfs.lstat(link))?.isSymbolicLink).toBe(true);
  });

  it('says whether a file may be executed', async () => {
    const script = path.join(dir, 'run.sh');
    await fs.writeFile(script, '#!/bin/sh\n', { mode: 0o644 });
    await fs.chmod(script, 0o644);
    if (POSIX) expect(await nfs.isExecutable(script)).toBe(false);
    await nfs.chmod(script, 0o755);
    expect(await nfs.isExecutable(script)).toBe(true);
    expect(await nfs.isExecutable(path.join(dir, 'missing'))).toBe(false);
  });

  it('removes a folder only when it is empty, and says so', async () => {
    const full = path.join(dir, 'full');
    await nfs.mkdir(path.join(full, 'inner'));
    expect(await nfs.rmdirIfEmpty(full)).toBe(false);
    expect(nfs.exists(full)).toBe(true);
    expect(await nfs.rmdirIfEmpty(path.join(full, 'inner'))).toBe(true);
    expect(await nfs.rmdirIfEmpty(full)).toBe(true);
    expect(await nfs.rmdirIfEmpty(full)).toBe(false); // gone already
  });

  it('makes folders with the mode asked, renames, and removes a file quietly when it is already gone', async () => {
    const deep = path.join(dir, 'a', 'b');
    await nfs.mkdir(deep);
    if (POSIX) expect((await nfs.stat(deep))?.mode).toBe(0o700 & ~process.umask());
    await nfs.writeFileAtomic(path.join(deep, 'one'), '1');
    await nfs.rename(path.join(deep, 'one'), path.join(deep, 'two'));
    expect(await nfs.readdir(deep)).toEqual(['two']);
    await nfs.rm(path.join(deep, 'two'));
    await nfs.rm(path.join(deep, 'two'));
    expect(await nfs.readdir(deep)).toEqual([]);
    await expect(nfs.rm(deep)).rejects.toBeTruthy(); // a folder is refused
    await expect(nfs.rename(path.join(deep, 'nothing'), path.join(deep, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('throws errors other than "missing" (a folder read as a file, EISDIR) rather than calling the file missing', async () => {
    // EISDIR, not EACCES: root reads a 000 file, and the suite runs as root in CI.
    await expect(nfs.readTextIfExists(dir)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(nfs.readText(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it.skipIf(!POSIX)('throws a link loop (ELOOP) rather than calling the file missing', async () => {
    const loop = path.join(dir, 'loop');
    await fs.symlink(loop, loop);
    await expect(nfs.stat(loop)).rejects.toMatchObject({ code: 'ELOOP' });
    expect(() => nfs.statSync(loop)).toThrow(/ELOOP/);
    await expect(nfs.readTextIfExists(loop)).rejects.toMatchObject({ code: 'ELOOP' });
    expect(nfs.exists(loop)).toBe(false);
  });
});

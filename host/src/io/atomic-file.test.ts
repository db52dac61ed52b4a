import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors';
import { ensurePrivateDir, removeStaleTempFiles, writeFileAtomic } from './atomic-file';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atomic-file-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const posixOnly = process.platform === 'win32' ? it.skip : it;
const temps = async (d = dir) => (await fs.readdir(d)).filter((n) => n.endsWith('.tmp'));

/** A pid that surely does not run: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('writeFileAtomic', () => {
  posixOnly('creates the file 0600 and leaves no temp file when it writes a new file', async () => {
    const file = path.join(dir, 'cache.json');
    await writeFileAtomic(file, '{"a":1}');
    expect(await fs.readFile(file, 'utf8')).toBe('{"a":1}');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await temps()).toEqual([]);
  });

  posixOnly('gives the file the mode asked for even when the umask would take bits', async () => {
    const file = path.join(dir, 'shared.txt');
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(file, 'x', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    expect((await fs.stat(file)).mode & 0o777).toBe(0o644);
  });

  it('replaces longer old content entirely when it writes shorter new content', async () => {
    const file = path.join(dir, 'cache.json');
    await fs.writeFile(file, 'x'.repeat(10_000));
    await writeFileAtomic(file, new TextEncoder().encode('short'));
    expect(await fs.readFile(file, 'utf8')).toBe('short');
  });

  it('leaves the old content and removes its temp file when the rename fails', async () => {
    const target = path.join(dir, 'busy');
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, 'inside'), 'old');
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect(await fs.readFile(path.join(target, 'inside'), 'utf8')).toBe('old');
    expect(await temps()).toEqual([]);
  });

  it('rejects and leaves nothing behind when the folder does not exist', async () => {
    await expect(writeFileAtomic(path.join(dir, 'missing', 'cache.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('lets readers see only the old or the new content while it rewrites a large file', async () => {
    const file = path.join(dir, 'big.json');
    const versions = ['a', 'b', 'c'].map((ch) => JSON.stringify({ v: ch.repeat(512 * 1024) }));
    await writeFileAtomic(file, versions[0]!);
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 40; i++) await writeFileAtomic(file, versions[i % 3]!);
      writing = false;
    })();
    const seen = new Set<string>();
    let reads = 0;
    while (writing) {
      const text = await fs.readFile(file, 'utf8');
      reads++;
      expect(versions.includes(text), `read ${reads} was ${text.length} bytes of a mix`).toBe(true);
      seen.add(text.slice(6, 7));
    }
    await writer;
    expect(reads).toBeGreaterThan(5);
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe('ensurePrivateDir', () => {
  posixOnly('creates missing folders 0700 when it makes a nested path', async () => {
    const nested = path.join(dir, 'a', 'b');
    await ensurePrivateDir(nested);
    expect((await fs.stat(nested)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, 'a'))).mode & 0o777).toBe(0o700);
  });

  posixOnly('tightens an existing folder of ours to 0700 when others could read it', async () => {
    const loose = path.join(dir, 'state');
    await fs.mkdir(loose);
    await fs.chmod(loose, 0o755);
    await ensurePrivateDir(loose);
    expect((await fs.stat(loose)).mode & 0o777).toBe(0o700);
  });

  posixOnly('refuses a shared sticky folder like /tmp instead of changing it', async () => {
    const shared = path.join(dir, 'shared');
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o1777);
    const err = await ensurePrivateDir(shared).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('config_invalid');
    expect((await fs.stat(shared)).mode & 0o7777).toBe(0o1777);
  });
});

describe('removeStaleTempFiles', () => {
  it('removes temps of dead writers and old temps, and keeps live writers’ temps and other files', async () => {
    const dead = deadPid();
    const names = {
      deadWriter: `.cache.json.${dead}.aabbcc.tmp`,
      liveYoung: `.cache.json.${process.pid}.ddeeff.tmp`,
      liveOld: `.cache.json.${process.pid}.001122.tmp`,
      oldMarker: '.cache.json.lock.break-abc.0.tmp',
      other: 'cache.json',
    };
    for (const n of Object.values(names)) await fs.writeFile(path.join(dir, n), 'x');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await fs.utimes(path.join(dir, names.liveOld), twoMinutesAgo, twoMinutesAgo);
    await fs.utimes(path.join(dir, names.oldMarker), twoMinutesAgo, twoMinutesAgo);
    const removed = await removeStaleTempFiles(dir);
    expect(removed.sort()).toEqual([names.deadWriter, names.liveOld].sort());
    expect((await fs.readdir(dir)).sort()).toEqual([names.liveYoung, names.oldMarker, names.other].sort());
  });

  it('returns nothing when the folder does not exist', async () => {
    expect(await removeStaleTempFiles(path.join(dir, 'none'))).toEqual([]);
  });
});

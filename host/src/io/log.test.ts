// The daemon's log on real files: open before anything logs, never through a planted link,
// capped and rotated, and paused (not stalled) by a full disk: injected, and on a real tmpfs
// where one can be mounted.
import fsCb from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canMountTmpfs, mountTmpfs, unmount } from '../../../test/support/tmpfs';
import { waitUntil } from '../../../test/support/wait';
import { createLog } from './log';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-log-'));
  file = path.join(dir, 'daemon.log');
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const lines = async (f = file) => (await fs.readFile(f, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('createLog', () => {
  it('has its file open when it returns: a line logged at once and closed at once is there (0600)', async () => {
    const log = createLog({ destination: file });
    log.error('cannot start', { error: 'a config mistake' });
    await log.close();
    expect(await lines()).toMatchObject([{ msg: 'cannot start', error: 'a config mistake', level: 50 }]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('censors secrets', async () => {
    const log = createLog({ destination: file });
    log.info('x', { refreshToken: 'rt-secret', nested: { accessToken: 'at-secret' } });
    await log.close();
    expect(await fs.readFile(file, 'utf8')).not.toMatch(/secret"/);
    expect(await lines()).toMatchObject([{ msg: 'x', refreshToken: '[redacted]', nested: { accessToken: '[redacted]' } }]);
  });

  it('refuses a daemon.log planted as a symbolic link, and leaves the target alone', async () => {
    const target = path.join(dir, 'victim');
    await fs.writeFile(target, 'untouched\n');
    await fs.symlink(target, file);
    expect(() => createLog({ destination: file })).toThrow(/daemon's log .* is a symbolic link; it is not written to/);
    expect(await fs.readFile(target, 'utf8')).toBe('untouched\n');
  });

  it('rotates to daemon.log.1 past its cap, keeping one old file', async () => {
    // Each line is written before the next is logged, so each write is one line: past the cap,
    // the file may hold at most one line more than the cap before it rotates.
    let written = 0;
    let wrote: () => void = () => undefined;
    const write: NonNullable<Parameters<typeof createLog>[0]['write']> = (fd, buf, off, len, pos, cb) =>
      fsCb.write(fd, buf, off, len, pos, (err, n) => {
        written += n;
        cb(err, n);
        wrote();
      });
    const log = createLog({ destination: file, maxBytes: 4096, write });
    for (let i = 0; i < 200; i++) {
      const before = written;
      const done = new Promise<void>((r) => (wrote = r));
      log.info('line', { i, pad: 'x'.repeat(40) });
      await done;
      expect(written).toBeGreaterThan(before);
    }
    await log.close();
    const size = (await fs.stat(file)).size;
    const longest = Math.max(...(await fs.readFile(file, 'utf8')).split('\n').map((l) => l.length + 1));
    expect(size).toBeLessThanOrEqual(4096 + longest);
    expect(written).toBeGreaterThan(4 * 4096); // the cap was passed many times over
    const all = [...(await lines(`${file}.1`)), ...(await lines())].map((l) => l.i);
    expect(all.at(-1)).toBe(199);
    expect(await fs.readdir(dir)).toEqual(['daemon.log', 'daemon.log.1']);
  });
});

describe('createLog on a disk that refuses writes (ENOSPC injected)', () => {
  it('pauses at the first failed write, drops and counts lines, and resumes once a write succeeds', async () => {
    let full = true;
    const write: NonNullable<Parameters<typeof createLog>[0]['write']> = (fd, buf, off, len, pos, cb) =>
      full ? setImmediate(() => cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), 0)) : fsCb.write(fd, buf, off, len, pos, cb);
    const log = createLog({ destination: file, write });
    log.info('lost');
    const paused = await waitUntil('logging to pause', async () => log.health(), (h) => h !== null);
    expect(paused).toMatchObject({ reason: 'ENOSPC', dropped: 1 });
    for (let i = 0; i < 10; i++) log.info('dropped', { i });
    expect(log.health()?.dropped).toBe(11);
    full = false;
    await waitUntil('logging to resume', async () => log.health(), (h) => h === null, 20_000);
    log.info('after');
    await log.close();
    const all = await lines();
    expect(all.map((l) => l.msg)).toEqual(['logging resumed', 'after']);
    expect(all[0]).toMatchObject({ reason: 'ENOSPC', droppedLines: 11 });
  });
});

// A real full disk needs a mount: root with CAP_SYS_ADMIN (as in CI).
describe.runIf(canMountTmpfs)(`createLog on a full disk${canMountTmpfs ? '' : ' (skipped: mounting a tmpfs needs root; the injected ENOSPC tests above cover the mechanism)'}`, () => {
  it('pauses without throwing or blocking, says so in health(), and resumes once space returns', async () => {
    mountTmpfs(dir, '64k');
    try {
      const log = createLog({ destination: file });
      await fs.writeFile(path.join(dir, 'filler'), Buffer.alloc(1024 * 1024)).catch(() => undefined);
      const started = Date.now();
      for (let i = 0; i < 2000; i++) log.info('filling', { i, pad: 'y'.repeat(100) }); // never throws
      expect(Date.now() - started).toBeLessThan(5_000);
      const paused = await waitUntil('logging to pause', async () => log.health(), (h) => h !== null);
      expect(paused).toMatchObject({ reason: 'ENOSPC' });
      await fs.rm(path.join(dir, 'filler'));
      await waitUntil('logging to resume', async () => log.health(), (h) => h === null, 20_000);
      log.info('after');
      await log.close();
      const text = await fs.readFile(file, 'utf8');
      expect(text).toMatch(/"msg":"logging resumed".*"reason":"ENOSPC"/);
      expect(text).toMatch(/"msg":"after"/);
    } finally {
      unmount(dir);
    }
  });
});

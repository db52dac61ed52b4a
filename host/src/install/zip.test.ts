import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../../../test/release/read-zip';
import { dosDateTime, zip, type ZipEntry } from './zip';

const WHEN = new Date(2026, 0, 5, 9, 30, 14);
const ENTRIES: ZipEntry[] = [
  { name: 'manifest.json', data: Buffer.from(JSON.stringify({ manifest_version: 3, name: 'x', version: '1.0' }, null, 2)), modified: WHEN },
  { name: 'assets/main.js', data: Buffer.from('console.log("hello");\n'.repeat(200)), modified: WHEN },
  { name: 'icons/noise.bin', data: randomBytes(4096), modified: WHEN },
  { name: 'empty.txt', data: Buffer.alloc(0), modified: WHEN },
  { name: 'src/é/ü.html', data: Buffer.from('<p>ü</p>'), modified: WHEN },
];

const has = (cmd: string) => spawnSync(cmd, ['--help'], { stdio: 'ignore' }).error === undefined;
const UNZIP = has('unzip');
const PYTHON = has('python3');

describe('zip', () => {
  let dir: string;
  let file: string;
  const archive = zip(ENTRIES);
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-zip-'));
    file = path.join(dir, 'out.zip');
    await fs.writeFile(file, archive);
  });
  afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

  it('holds every entry at its path with its bytes and CRC, deflating only what shrinks', () => {
    const back = readZip(archive);
    expect(back.map((e) => e.name)).toEqual(ENTRIES.map((e) => e.name));
    for (const [i, e] of back.entries()) expect(e.data.equals(Buffer.from(ENTRIES[i]!.data))).toBe(true);
    expect(back.find((e) => e.name === 'assets/main.js')!.method).toBe(8);
    expect(back.find((e) => e.name === 'icons/noise.bin')!.method).toBe(0);
    expect(archive.length).toBeLessThan(ENTRIES.reduce((n, e) => n + e.data.length, 0));
  });

  it.skipIf(!UNZIP)('passes `unzip -t`, and `unzip` extracts the same files (skipped without unzip)', async () => {
    const t = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
    expect(t.stdout).toMatch(/No errors detected/);
    expect(t.status).toBe(0);
    const listing = spawnSync('unzip', ['-Z1', file], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(listing).toEqual(ENTRIES.map((e) => e.name));
    const into = path.join(dir, 'x');
    expect(spawnSync('unzip', ['-q', file, '-d', into]).status).toBe(0);
    for (const e of ENTRIES) expect((await fs.readFile(path.join(into, e.name))).equals(Buffer.from(e.data))).toBe(true);
    expect(JSON.parse(await fs.readFile(path.join(into, 'manifest.json'), 'utf8')).manifest_version).toBe(3);
  });

  it.skipIf(!PYTHON)("passes Python's zipfile test, with each entry's date (skipped without python3)", () => {
    const script = 'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist(): print(i.filename, i.date_time)';
    const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(ENTRIES.map((e) => `${e.name} (2026, 1, 5, 9, 30, 14)`));
  });

  it('refuses names that would land outside the folder it is extracted into, or twice', () => {
    for (const name of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', 'a\\b', './a']) {
      expect(() => zip([{ name, data: Buffer.from('x'), modified: WHEN }]), name).toThrow(/cannot be named/);
    }
    expect(() => zip([ENTRIES[0]!, ENTRIES[0]!])).toThrow(/given twice/);
  });

  it('writes MS-DOS dates in 2-second steps and clamps those it cannot hold', () => {
    expect(dosDateTime(new Date(1980, 0, 1, 0, 0, 0))).toEqual({ date: 0x21, time: 0 });
    expect(dosDateTime(new Date(2026, 0, 5, 9, 30, 15))).toEqual({ date: (46 << 9) | (1 << 5) | 5, time: (9 << 11) | (30 << 5) | 7 });
    expect(dosDateTime(new Date(1970, 0, 1))).toEqual({ date: 0x21, time: 0 });
  });
});

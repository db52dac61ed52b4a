// The browser finder that the demo, `npm test` and the browser tests share: which executable it
// picks, and what it says when there is none, over real files in a temporary folder.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBrowsers, installHint, locate } from '../../scripts/browsers.mjs';

let dir: string;
const exe = async (name: string) => {
  const file = path.join(dir, name);
  await fs.writeFile(file, '#!/bin/sh\n', { mode: 0o755 });
  return file;
};

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-browsers-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('locate', () => {
  it('takes the browser that CHROMIUM or FIREFOX names', async () => {
    const chrome = await exe('my-chrome');
    const fox = await exe('my-firefox');
    expect(locate('chromium', { CHROMIUM: chrome, PATH: '' })).toEqual({ path: chrome, problem: null });
    expect(locate('firefox', { FIREFOX: fox, PATH: '' })).toEqual({ path: fox, problem: null });
  });

  it('says so when the variable names something that cannot run, rather than picking another browser', async () => {
    const notExecutable = path.join(dir, 'chrome.txt');
    await fs.writeFile(notExecutable, '', { mode: 0o644 });
    for (const named of [notExecutable, path.join(dir, 'missing'), dir]) {
      expect(locate('chromium', { CHROMIUM: named, PATH: '' })).toEqual({ path: null, problem: `CHROMIUM=${named} is not an executable file` });
    }
  });

  it('finds the usual names on the PATH, Chromium before branded Chrome', async () => {
    const bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    await fs.writeFile(path.join(bin, 'google-chrome'), '', { mode: 0o755 });
    await fs.writeFile(path.join(bin, 'chromium'), '', { mode: 0o755 });
    await fs.writeFile(path.join(bin, 'firefox'), '', { mode: 0o755 });
    // The PATH comes before the system folders, and each name is looked for in order.
    expect(locate('chromium', { PATH: bin }).path).toBe(path.join(bin, 'chromium'));
    await fs.rm(path.join(bin, 'chromium'));
    const chrome = locate('chromium', { PATH: bin }).path;
    // A system chromium (Debian's /usr/bin/chromium) still comes before branded Chrome.
    expect([path.join(bin, 'google-chrome'), '/usr/bin/chromium', '/bin/chromium', '/usr/local/bin/chromium', '/snap/bin/chromium']).toContain(chrome);
  });
});

describe('ensureBrowsers', () => {
  it('installs nothing when a variable names the browser, and reports why it is unusable', () => {
    const lines: string[] = [];
    const r = ensureBrowsers(['chromium'], (l) => lines.push(l), { CHROMIUM: path.join(dir, 'missing'), PATH: '' });
    expect(lines).toEqual([]);
    expect(r.found).toEqual({});
    expect(r.missing.chromium).toContain('is not an executable file');
  });

  it('names the Debian packages in the command it suggests', () => {
    expect(installHint(['chromium', 'firefox'])).toBe('sudo apt-get install -y chromium firefox-esr');
  });
});

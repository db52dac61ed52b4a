// `ews-daemon extension` on a temp copy holding two small builds: the loading instructions name
// the real folders, --zip writes one archive per store with manifest.json at its root (the
// Chromium one without `key`), and a missing build is named with the command that makes it.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readZip } from '../../../test/release/read-zip';
import { nodeFileSystem } from '../io/node-fs';
import { runExtension } from './extension-builds';

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await fs.rm(r, { recursive: true, force: true });
});

async function copyWithBuilds(which: ('dist' | 'dist-firefox')[]): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-ext-'));
  roots.push(root);
  for (const d of which) {
    await fs.mkdir(path.join(root, 'extension', d, 'src', 'popup'), { recursive: true });
    const manifest = { manifest_version: 3, name: 'ews-daemon', version: '1.2.3', ...(d === 'dist' ? { key: 'MIIB…' } : {}) };
    await fs.writeFile(path.join(root, 'extension', d, 'manifest.json'), JSON.stringify(manifest));
    await fs.writeFile(path.join(root, 'extension', d, 'src', 'popup', 'index.html'), '<!doctype html><title>popup</title>');
  }
  return root;
}

describe('ews-daemon extension', () => {
  it('says where each build is and how to load it', async () => {
    const root = await copyWithBuilds(['dist', 'dist-firefox']);
    const r = await runExtension({}, root, nodeFileSystem);
    expect(r.exitCode).toBe(0);
    const text = r.lines.join('\n');
    expect(text).toContain(`chrome://extensions`);
    expect(text).toContain(`\n    ${path.join(root, 'extension', 'dist')}\n`);
    expect(text).toContain(`about:debugging#/runtime/this-firefox`);
    expect(text).toContain(`\n    ${path.join(root, 'extension', 'dist-firefox', 'manifest.json')}\n`);
    expect(text).not.toContain('not built');
  });

  it('--zip writes the Chrome/Edge archive without the key and the Firefox one as built', async () => {
    const root = await copyWithBuilds(['dist', 'dist-firefox']);
    const out = path.join(root, 'out');
    const r = await runExtension({ zip: out }, root, nodeFileSystem);
    expect(r.exitCode).toBe(0);
    expect((await fs.readdir(out)).sort()).toEqual(['ews-daemon-1.2.3-chromium.zip', 'ews-daemon-1.2.3-firefox.zip']);
    expect(r.lines[0]).toMatch(/^wrote .*ews-daemon-1\.2\.3-chromium\.zip \(2 files, [\d.]+ KiB\) for Chrome Web Store, Microsoft Edge Add-ons$/);
    for (const target of ['chromium', 'firefox']) {
      const entries = readZip(await fs.readFile(path.join(out, `ews-daemon-1.2.3-${target}.zip`)));
      expect(entries.map((e) => e.name)).toEqual(['manifest.json', 'src/popup/index.html']);
      const manifest = JSON.parse(entries[0]!.data.toString('utf8'));
      expect(manifest).toMatchObject({ name: 'ews-daemon', version: '1.2.3' });
      expect('key' in manifest).toBe(false);
    }
  });

  it('names a missing build and the command that makes it, and wants a folder after --zip', async () => {
    const root = await copyWithBuilds(['dist']);
    expect((await runExtension({}, root, nodeFileSystem)).lines.join('\n')).toContain('not built in this copy: run `npm run build:firefox`');
    const r = await runExtension({ zip: path.join(root, 'out') }, root, nodeFileSystem);
    expect(r.exitCode).toBe(1);
    expect(r.lines[0]).toMatch(/The firefox extension is not built: .*dist-firefox is missing\. Run `npm run build:firefox`/);
    expect(existsSync(path.join(root, 'out'))).toBe(false);
    expect((await runExtension({ zip: '' }, root, nodeFileSystem)).exitCode).toBe(2);
  });
});

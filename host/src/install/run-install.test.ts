// install and uninstall applied for real into a temp HOME (Linux and macOS layouts), with a fake
// command runner: what lands where, with what mode, that a second run changes nothing, and that
// uninstall leaves nothing of ours behind.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NATIVE_HOST_NAME } from '../../../shared/constants';
import { nodeFileSystem } from '../io/node-fs';
import type { RunResult } from './apply';
import { runInstall, runUninstall, type InstallContext } from './run-install';

const REPO = path.resolve(import.meta.dirname, '../../..');
const cleanups: string[] = [];
afterEach(async () => {
  for (const dir of cleanups.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function context(platform: 'linux' | 'darwin', over: Partial<InstallContext> = {}): Promise<InstallContext & { ran: string[]; home: string }> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'ews-install-'));
  cleanups.push(home);
  const ran: string[] = [];
  return {
    platform,
    homedir: home,
    env: {},
    uid: 501,
    nodePath: process.execPath,
    repoRoot: REPO,
    stateDir: path.join(home, 'state'),
    fs: nodeFileSystem,
    run: async (cmd: string, args: string[]): Promise<RunResult> => {
      ran.push([cmd, ...args].join(' '));
      return { code: 0, stdout: '', stderr: '' };
    },
    ran,
    home,
    ...over,
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;

describe('ews-daemon install / uninstall in a temp HOME', () => {
  it.each(['linux', 'darwin'] as const)('installs for every browser on %s, reinstalls unchanged, and uninstalls everything', async (platform) => {
    const ctx = await context(platform);
    const first = await runInstall({ browser: 'all', service: true }, ctx);
    expect(first.exitCode).toBe(0);
    const installed = await filesUnder(ctx.home);
    expect(installed.filter((f) => f.endsWith(`${NATIVE_HOST_NAME}.json`))).toHaveLength(6);
    expect(await mode(path.join(ctx.stateDir, 'native-host'))).toBe(0o700);
    const steps = first.lines.slice(0, first.lines.indexOf(''));
    expect(steps.every((l) => l.startsWith('wrote ') || l.startsWith('ran '))).toBe(true);
    expect(steps.filter((l) => l.startsWith('wrote '))).toHaveLength(8);
    // Then where the extension is, and how to load it in each family's browsers.
    const load = first.lines.slice(steps.length).join('\n');
    expect(load).toContain(`Load unpacked" and choose the folder\n    ${path.join(REPO, 'extension', 'dist')}\n`);
    expect(load).toContain(`"Load Temporary Add-on…" and choose\n    ${path.join(REPO, 'extension', 'dist-firefox', 'manifest.json')}\n`);
    expect(first.result).toMatchObject({ extension: { chromium: path.join(REPO, 'extension', 'dist'), firefox: path.join(REPO, 'extension', 'dist-firefox') } });

    const second = await runInstall({ browser: 'all', service: true }, ctx);
    expect(second.exitCode).toBe(0);
    expect(second.lines.filter((l) => l.startsWith('wrote '))).toEqual([]);
    expect(second.lines.filter((l) => l.startsWith('unchanged '))).toHaveLength(8);

    const gone = await runUninstall({}, ctx);
    expect(gone.exitCode).toBe(0);
    expect(gone.lines.filter((l) => l.startsWith('removed '))).toHaveLength(8);
    expect(await filesUnder(ctx.home)).toEqual([]);
    // Folders made only to hold our manifests go too: a later --browser found must not see browsers.
    const left = await fs.readdir(ctx.home, { recursive: true });
    expect(left.filter((e) => /chrome|chromium|edge|brave|vivaldi|mozilla/i.test(e))).toEqual([]);
    expect(ctx.ran.at(-1)).toMatch(platform === 'linux' ? /^systemctl --user daemon-reload$/ : /^launchctl bootout gui\/501 /);
  });

  it('runs systemctl to start the service and stops it before removing the unit', async () => {
    const ctx = await context('linux');
    await runInstall({ browser: 'chromium', service: true }, ctx);
    await runUninstall({}, ctx);
    expect(ctx.ran).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now ews-daemon.service',
      'systemctl --user disable --now ews-daemon.service',
      'systemctl --user daemon-reload',
    ]);
  });

  it('restores a manifest someone edited, and its mode', async () => {
    const ctx = await context('linux');
    await runInstall({ browser: 'chromium' }, ctx);
    const manifest = path.join(ctx.home, '.config/chromium/NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
    const good = await fs.readFile(manifest, 'utf8');
    await fs.writeFile(manifest, good.replace(/\/"/g, '"'));
    const again = await runInstall({ browser: 'chromium' }, ctx);
    expect(again.lines).toContain(`wrote ${manifest} (Chromium host manifest)`);
    expect(await fs.readFile(manifest, 'utf8')).toBe(good);
  });

  it('keeps a manifest of the same file name that is not ours', async () => {
    const ctx = await context('linux');
    const foreign = path.join(ctx.home, '.mozilla/native-messaging-hosts', `${NATIVE_HOST_NAME}.json`);
    await fs.mkdir(path.dirname(foreign), { recursive: true });
    await fs.writeFile(foreign, JSON.stringify({ name: 'com.someone.else' }));
    const out = await runUninstall({}, ctx);
    expect(out.lines.some((l) => l.startsWith(`kept ${foreign}`))).toBe(true);
    expect(existsSync(foreign)).toBe(true);
  });

  it('installs only where browsers are found by default, and says so when none is', async () => {
    const ctx = await context('linux');
    const none = await runInstall({}, ctx);
    expect(none.exitCode).toBe(1);
    expect(none.lines[0]).toContain('no browser found');
    await fs.mkdir(path.join(ctx.home, '.config/chromium'), { recursive: true });
    const some = await runInstall({}, ctx);
    expect(some.exitCode).toBe(0);
    expect(some.result).toMatchObject({ browsers: ['chromium'], extension: { chromium: path.join(REPO, 'extension', 'dist') } });
    expect(some.lines.join('\n')).not.toContain('Firefox');
  });

  it('writes into DIR/NativeMessagingHosts with --user-data-dir, and removes it the same way', async () => {
    const ctx = await context('linux');
    const dir = path.join(ctx.home, 'profile');
    const done = await runInstall({ userDataDir: dir, browser: 'chromium' }, ctx);
    expect(done.exitCode).toBe(0);
    expect(Object.keys((done.result as { extension: object }).extension)).toEqual(['chromium']);
    expect(await filesUnder(dir)).toEqual([`NativeMessagingHosts/${NATIVE_HOST_NAME}.json`]);
    await runUninstall({ userDataDir: dir }, ctx);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses unknown browsers and malformed extension ids with exit code 2', async () => {
    const ctx = await context('linux');
    expect((await runInstall({ browser: 'netscape' }, ctx)).exitCode).toBe(2);
    const bad = await runInstall({ browser: 'chromium', extensionId: ['ABC'] }, ctx);
    expect(bad.exitCode).toBe(2);
    expect(bad.lines[0]).toContain('ABC');
    expect(await filesUnder(ctx.home)).toEqual([]);
  });

  it('reports a failed command and exits 1', async () => {
    const ctx = await context('linux', { run: async () => ({ code: 1, stdout: '', stderr: 'Failed to connect to bus' }) });
    const out = await runInstall({ browser: 'chromium', service: true }, ctx);
    expect(out.exitCode).toBe(1);
    expect(out.lines.join('\n')).toContain('Failed to connect to bus');
  });

  it('writes a wrapper that really starts the native host with the browser’s arguments, whatever the paths hold', async () => {
    const ctx = await context('linux');
    // A checkout and a node in folders with a space and a quote; the "native host" echoes its argv.
    const repo = path.join(ctx.home, "it's a repo");
    await fs.mkdir(path.join(repo, 'host/dist'), { recursive: true });
    await fs.writeFile(path.join(repo, 'host/dist/native-host.mjs'), 'process.stdout.write(JSON.stringify([process.env.EWS_DAEMON_HOME, ...process.argv.slice(2)]))');
    for (const f of ['chromium-host.json.tmpl', 'firefox-host.json.tmpl', 'native-host.sh.tmpl', 'native-host.cmd.tmpl', 'ews-daemon.service.tmpl', 'com.ews_daemon.daemon.plist.tmpl']) {
      await fs.mkdir(path.join(repo, 'manifests'), { recursive: true });
      await fs.copyFile(path.join(REPO, 'manifests', f), path.join(repo, 'manifests', f));
    }
    const nodeDir = path.join(ctx.home, 'node "bin"');
    await fs.mkdir(nodeDir);
    await fs.symlink(process.execPath, path.join(nodeDir, 'node'));
    const out = await runInstall({ browser: 'chromium' }, { ...ctx, repoRoot: repo, nodePath: path.join(nodeDir, 'node'), env: { EWS_DAEMON_HOME: '/x y' } });
    expect(out.exitCode).toBe(0);
    const stdout = execFileSync(path.join(ctx.stateDir, 'native-host'), ['chrome-extension://abc/', '--parent-window=0'], { env: {} }).toString();
    expect(JSON.parse(stdout)).toEqual(['/x y', 'chrome-extension://abc/', '--parent-window=0']);
  });
});

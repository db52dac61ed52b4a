import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, FIREFOX_ADDON_ID, NATIVE_HOST_NAME } from '../../../shared/constants';
import { planInstall, planUninstall, type InstallOptions, type Step } from './plan';
import { renderCommand, TEMPLATE_FILES, type Templates } from './templates';

const REPO = path.resolve(import.meta.dirname, '../../..');
const templates = Object.fromEntries(Object.entries(TEMPLATE_FILES).map(([k, f]) => [k, fs.readFileSync(path.join(REPO, 'manifests', f), 'utf8')])) as Templates;
const OTHER_ID = 'abcdefghijklmnopabcdefghijklmnop';
const MANIFEST = `${NATIVE_HOST_NAME}.json`;

function linux(over: Partial<InstallOptions> = {}): InstallOptions {
  return {
    platform: 'linux',
    homedir: '/home/u',
    env: {},
    browsers: 'all',
    extensionIds: [OTHER_ID, 'other@example.org'],
    service: false,
    nodePath: '/home/u/.nvm/versions/node/v20.20.2/bin/node',
    repoRoot: '/home/u/src/ews-daemon',
    stateDir: '/home/u/.local/state/ews-daemon',
    uid: 1000,
    templates,
    ...over,
  };
}

const writes = (steps: Step[]) => steps.flatMap((s) => (s.kind === 'write' ? [s] : []));
const commands = (steps: Step[]) => steps.flatMap((s) => (s.kind === 'run' ? [renderCommand(s.cmd, s.args)] : []));

describe('planInstall on Linux', () => {
  const plan = planInstall(linux());
  const files = writes(plan.steps);

  it('puts one manifest in each browser’s folder and the wrapper in the state folder', () => {
    expect(files.map((f) => f.path)).toEqual([
      '/home/u/.local/state/ews-daemon/native-host',
      `/home/u/.config/google-chrome/NativeMessagingHosts/${MANIFEST}`,
      `/home/u/.config/chromium/NativeMessagingHosts/${MANIFEST}`,
      `/home/u/.config/microsoft-edge/NativeMessagingHosts/${MANIFEST}`,
      `/home/u/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts/${MANIFEST}`,
      `/home/u/.config/vivaldi/NativeMessagingHosts/${MANIFEST}`,
      `/home/u/.mozilla/native-messaging-hosts/${MANIFEST}`,
    ]);
    expect(commands(plan.steps)).toEqual([]);
  });

  it('writes Chromium manifests naming the wrapper and every allowed origin with its trailing slash', () => {
    const m = JSON.parse(files[1]!.content);
    expect(m).toEqual({
      name: NATIVE_HOST_NAME,
      description: expect.any(String),
      path: '/home/u/.local/state/ews-daemon/native-host',
      type: 'stdio',
      allowed_origins: [`chrome-extension://${EXTENSION_ID}/`, `chrome-extension://${OTHER_ID}/`],
    });
    expect(files[1]!.mode).toBe(0o644);
  });

  it('writes the Firefox manifest with allowed_extensions', () => {
    const m = JSON.parse(files[6]!.content);
    expect(m.allowed_extensions).toEqual([FIREFOX_ADDON_ID, 'other@example.org']);
    expect(m.allowed_origins).toBeUndefined();
  });

  it('makes the wrapper run this node by its absolute path, passing the browser’s arguments on', () => {
    expect(files[0]!.mode).toBe(0o700);
    expect(files[0]!.content).toMatch(/^#!\/bin\/sh\n/);
    expect(files[0]!.content).toContain(`exec '/home/u/.nvm/versions/node/v20.20.2/bin/node' '/home/u/src/ews-daemon/host/dist/native-host.mjs' "$@"\n`);
  });

  it('follows XDG_CONFIG_HOME for the Chromium family and the systemd unit', () => {
    const p = planInstall(linux({ env: { XDG_CONFIG_HOME: '/cfg' }, browsers: ['chromium'], service: true }));
    expect(writes(p.steps).map((f) => f.path)).toContain(`/cfg/chromium/NativeMessagingHosts/${MANIFEST}`);
    expect(writes(p.steps).map((f) => f.path)).toContain('/cfg/systemd/user/ews-daemon.service');
  });

  it('installs only the browsers whose folders exist with --browser found', () => {
    const exists = (p: string) => p === '/home/u/.config/chromium' || p === '/home/u/.mozilla';
    const p = planInstall(linux({ browsers: 'found', exists }));
    expect(p.browsers).toEqual(['chromium', 'firefox']);
    expect(writes(p.steps)).toHaveLength(3);
  });

  it('writes into DIR/NativeMessagingHosts instead of the user folders with --user-data-dir', () => {
    const p = planInstall(linux({ browsers: ['chromium', 'chrome'], userDataDir: '/tmp/profile' }));
    expect(writes(p.steps).map((f) => f.path)).toEqual(['/home/u/.local/state/ews-daemon/native-host', `/tmp/profile/NativeMessagingHosts/${MANIFEST}`]);
  });

  it('writes a systemd user unit that runs the launcher with this node and the settings the shell had', () => {
    const p = planInstall(linux({ service: true, env: { EWS_DAEMON_HOME: '/srv/ews 100%', HTTPS_PROXY: 'http://proxy:3128' } }));
    const unit = writes(p.steps).find((f) => f.path.endsWith('ews-daemon.service'))!;
    expect(unit.content).toContain('ExecStart="/home/u/.nvm/versions/node/v20.20.2/bin/node" "/home/u/src/ews-daemon/host/bin/ews-daemon" run\n');
    expect(unit.content).toContain('Environment="EWS_DAEMON_HOME=/srv/ews 100%%"\n');
    expect(unit.content).toContain('Restart=on-failure');
    expect(commands(p.steps)).toEqual(['systemctl --user daemon-reload', 'systemctl --user enable --now ews-daemon.service']);
    expect(writes(p.steps)[0]!.content).toContain(`export EWS_DAEMON_HOME='/srv/ews 100%'\n`);
  });

  it('lists ids that are neither Chromium nor Firefox ids as notes instead of allowing them', () => {
    const p = planInstall(linux({ extensionIds: ['not an id'] }));
    expect(p.notes[0]).toContain('not an id');
    expect(JSON.parse(writes(p.steps)[1]!.content).allowed_origins).toEqual([`chrome-extension://${EXTENSION_ID}/`]);
  });
});

describe('planInstall on macOS', () => {
  const plan = planInstall(linux({ platform: 'darwin', homedir: '/Users/u', stateDir: '/Users/u/Library/Application Support/ews-daemon', service: true, uid: 501 }));

  it('uses the Application Support folders and Mozilla/NativeMessagingHosts', () => {
    const support = '/Users/u/Library/Application Support';
    expect(writes(plan.steps).map((f) => f.path)).toEqual([
      `${support}/ews-daemon/native-host`,
      `${support}/Google/Chrome/NativeMessagingHosts/${MANIFEST}`,
      `${support}/Chromium/NativeMessagingHosts/${MANIFEST}`,
      `${support}/Microsoft Edge/NativeMessagingHosts/${MANIFEST}`,
      `${support}/BraveSoftware/Brave-Browser/NativeMessagingHosts/${MANIFEST}`,
      `${support}/Vivaldi/NativeMessagingHosts/${MANIFEST}`,
      `${support}/Mozilla/NativeMessagingHosts/${MANIFEST}`,
      '/Users/u/Library/LaunchAgents/com.ews_daemon.daemon.plist',
    ]);
  });

  it('loads a launchd agent that runs at load and restarts on failure', () => {
    const plist = writes(plan.steps).at(-1)!.content;
    expect(plist).toContain('<string>/home/u/src/ews-daemon/host/bin/ews-daemon</string>');
    expect(plist).toMatch(/<key>RunAtLoad<\/key>\s*<true\/>/);
    expect(plist).toMatch(/<key>KeepAlive<\/key>/);
    expect(commands(plan.steps)).toEqual(['launchctl bootout gui/501/com.ews_daemon.daemon', 'launchctl bootstrap gui/501 /Users/u/Library/LaunchAgents/com.ews_daemon.daemon.plist']);
  });
});

describe('planInstall on Windows', () => {
  const plan = planInstall(
    linux({
      platform: 'win32',
      homedir: 'C:\\Users\\u',
      env: { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' },
      nodePath: 'C:\\Program Files\\nodejs\\node.exe',
      repoRoot: 'C:\\src\\ews-daemon',
      stateDir: 'C:\\Users\\u\\AppData\\Local\\ews-daemon',
      service: true,
    }),
  );
  const chromiumManifest = 'C:\\Users\\u\\AppData\\Local\\ews-daemon\\manifests\\chromium\\com.ews_daemon.companion.json';
  const firefoxManifest = 'C:\\Users\\u\\AppData\\Local\\ews-daemon\\manifests\\firefox\\com.ews_daemon.companion.json';

  it('registers the manifests under HKCU for Chrome (read by Brave and Vivaldi too), Chromium, Edge and Mozilla', () => {
    expect(commands(plan.steps)).toEqual([
      `reg add "HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\com.ews_daemon.companion" /ve /t REG_SZ /d "${chromiumManifest}" /f`,
      `reg add "HKCU\\Software\\Chromium\\NativeMessagingHosts\\com.ews_daemon.companion" /ve /t REG_SZ /d "${chromiumManifest}" /f`,
      `reg add "HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\com.ews_daemon.companion" /ve /t REG_SZ /d "${chromiumManifest}" /f`,
      `reg add "HKCU\\Software\\Mozilla\\NativeMessagingHosts\\com.ews_daemon.companion" /ve /t REG_SZ /d "${firefoxManifest}" /f`,
    ]);
    expect(plan.notes.join(' ')).toContain('not available on Windows');
  });

  it('points the manifests at a .cmd wrapper that runs node by its absolute path', () => {
    const [wrapper, manifest] = writes(plan.steps);
    expect(wrapper!.path).toBe('C:\\Users\\u\\AppData\\Local\\ews-daemon\\native-host.cmd');
    expect(wrapper!.content).toMatch(/^@echo off\r\n/);
    expect(wrapper!.content).toContain('"C:\\Program Files\\nodejs\\node.exe" "C:\\src\\ews-daemon\\host\\dist\\native-host.mjs" %*\r\n');
    expect(JSON.parse(manifest!.content).path).toBe(wrapper!.path);
  });
});

describe('planUninstall', () => {
  it('removes the manifests (only if ours), the wrapper and the service after stopping it', () => {
    const p = planUninstall({ platform: 'linux', homedir: '/home/u', env: {}, browsers: ['chromium'], service: true, stateDir: '/s', removeWrapper: true });
    expect(p.steps).toEqual([
      expect.objectContaining({ kind: 'run', cmd: 'systemctl', args: ['--user', 'disable', '--now', 'ews-daemon.service'], onlyIf: '/home/u/.config/systemd/user/ews-daemon.service' }),
      expect.objectContaining({ kind: 'remove', path: '/home/u/.config/systemd/user/ews-daemon.service' }),
      expect.objectContaining({ kind: 'run', args: ['--user', 'daemon-reload'] }),
      expect.objectContaining({ kind: 'remove', path: `/home/u/.config/chromium/NativeMessagingHosts/${MANIFEST}`, onlyOurs: true }),
      expect.objectContaining({ kind: 'remove', path: '/s/native-host' }),
    ]);
  });

  it('deletes the registry keys on Windows', () => {
    const p = planUninstall({ platform: 'win32', homedir: 'C:\\Users\\u', env: {}, browsers: 'all', service: false, stateDir: 'C:\\s', removeWrapper: true });
    expect(commands(p.steps)).toContain('reg delete "HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\com.ews_daemon.companion" /f');
    expect(p.steps.filter((s) => s.kind === 'remove').map((s) => s.path)).toEqual([
      'C:\\s\\manifests\\chromium\\com.ews_daemon.companion.json',
      'C:\\s\\manifests\\firefox\\com.ews_daemon.companion.json',
      'C:\\s\\native-host.cmd',
    ]);
  });
});

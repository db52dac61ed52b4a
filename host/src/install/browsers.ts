// Where each browser looks for native-messaging host manifests (sources per browser in
// docs/platform-notes.md, "Where host manifests go"), per platform, and which browsers a machine has. Pure: home, env and an
// existence check are passed in. Change a browser here, change the README's install section.
import path from 'node:path';
import { NATIVE_HOST_NAME } from '../../../shared/constants';

export const BROWSER_NAMES = ['chrome', 'chromium', 'edge', 'brave', 'vivaldi', 'firefox'] as const;
export type BrowserName = (typeof BROWSER_NAMES)[number];
export type Family = 'chromium' | 'firefox';
export type InstallPlatform = 'linux' | 'darwin' | 'win32';

interface BrowserInfo {
  family: Family;
  /** Linux: the browser's folder under $XDG_CONFIG_HOME (Chromium family) or $HOME (Firefox). */
  linux: string[];
  /** macOS: the browser's folder under ~/Library/Application Support. */
  darwin: string[];
  /** Windows: the key under HKCU holding NativeMessagingHosts (Brave and Vivaldi read Chrome's). */
  registry: string;
  /** Windows: the profile folder under %LOCALAPPDATA% (%APPDATA% for Firefox), to detect it. */
  windowsProfile: string[];
}

const BROWSERS: Record<BrowserName, BrowserInfo> = {
  chrome: { family: 'chromium', linux: ['google-chrome'], darwin: ['Google', 'Chrome'], registry: 'Software\\Google\\Chrome', windowsProfile: ['Google', 'Chrome', 'User Data'] },
  chromium: { family: 'chromium', linux: ['chromium'], darwin: ['Chromium'], registry: 'Software\\Chromium', windowsProfile: ['Chromium', 'User Data'] },
  edge: { family: 'chromium', linux: ['microsoft-edge'], darwin: ['Microsoft Edge'], registry: 'Software\\Microsoft\\Edge', windowsProfile: ['Microsoft', 'Edge', 'User Data'] },
  brave: { family: 'chromium', linux: ['BraveSoftware', 'Brave-Browser'], darwin: ['BraveSoftware', 'Brave-Browser'], registry: 'Software\\Google\\Chrome', windowsProfile: ['BraveSoftware', 'Brave-Browser', 'User Data'] },
  vivaldi: { family: 'chromium', linux: ['vivaldi'], darwin: ['Vivaldi'], registry: 'Software\\Google\\Chrome', windowsProfile: ['Vivaldi', 'User Data'] },
  firefox: { family: 'firefox', linux: ['.mozilla'], darwin: ['Mozilla'], registry: 'Software\\Mozilla', windowsProfile: ['Mozilla', 'Firefox'] },
};

export interface Where {
  platform: InstallPlatform;
  homedir: string;
  env: Record<string, string | undefined>;
}

export function familyOf(browser: BrowserName): Family {
  return BROWSERS[browser].family;
}

export function isBrowserName(name: string): name is BrowserName {
  return (BROWSER_NAMES as readonly string[]).includes(name);
}

/** The platform's path module: Windows paths must be built with backslashes even when planned elsewhere. */
export function pathFor(platform: InstallPlatform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** The browser's own folder (the parent of NativeMessagingHosts): its existence means it is installed. */
export function browserConfigDir(browser: BrowserName, w: Where): string {
  const info = BROWSERS[browser];
  const p = pathFor(w.platform);
  if (w.platform === 'darwin') return p.join(w.homedir, 'Library', 'Application Support', ...info.darwin);
  if (w.platform === 'win32') {
    const base = info.family === 'firefox' ? (w.env.APPDATA ?? p.join(w.homedir, 'AppData', 'Roaming')) : (w.env.LOCALAPPDATA ?? p.join(w.homedir, 'AppData', 'Local'));
    return p.join(base, ...info.windowsProfile);
  }
  if (info.family === 'firefox') return p.join(w.homedir, ...info.linux);
  return p.join(w.env.XDG_CONFIG_HOME || p.join(w.homedir, '.config'), ...info.linux);
}

/** The folder the browser reads our manifest from (POSIX), or null on Windows (the registry says where). */
export function manifestDir(browser: BrowserName, w: Where): string | null {
  if (w.platform === 'win32') return null;
  const p = pathFor(w.platform);
  const dir = browserConfigDir(browser, w);
  if (browser === 'firefox' && w.platform === 'linux') return p.join(dir, 'native-messaging-hosts');
  return p.join(dir, 'NativeMessagingHosts');
}

/** HKCU\…\NativeMessagingHosts\<name>: Windows browsers find the manifest through this key's default value. */
export function registryKey(browser: BrowserName): string {
  return `HKCU\\${BROWSERS[browser].registry}\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`;
}

export type BrowserSelection = BrowserName[] | 'all' | 'found';

/** The browsers a selection names; 'found' keeps those whose folder exists. */
export function selectBrowsers(selection: BrowserSelection, w: Where, exists: (p: string) => boolean): BrowserName[] {
  if (selection === 'all') return [...BROWSER_NAMES];
  if (selection === 'found') return BROWSER_NAMES.filter((b) => exists(browserConfigDir(b, w)));
  return BROWSER_NAMES.filter((b) => selection.includes(b));
}

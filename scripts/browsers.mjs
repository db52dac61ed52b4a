// Finds the browsers that the demo, the end-to-end tests and the benchmarks drive, and (as root
// on Debian) installs Debian's packages when none is found, the way `playwright install
// --with-deps` brings what a machine lacks. One place for both, so the demo, `npm test` and the
// tests never disagree about which browser runs or why one was skipped.
//
// Chromium family: $CHROMIUM, then these names on the PATH and in their usual install folders.
// Branded Google Chrome ≥ 137 ignores --load-extension (Chrome 137 removed the switch from
// branded builds), so Chromium comes first and Chrome only where nothing else is.
// Firefox: $FIREFOX, then firefox-esr, firefox. No network is needed: everything found or
// installed comes from the machine or Debian's archive (no browser download of our own).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'microsoft-edge', 'brave-browser'];
const CHROMIUM_FOLDERS = [
  '/usr/lib/chromium/chromium',
  '/snap/bin/chromium',
  '/opt/google/chrome/chrome',
  '/opt/microsoft/msedge/msedge',
  '/opt/brave.com/brave/brave',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
  '/Applications/Brave Browser.app/Contents/MacOS/Brave Browser',
];
const FIREFOX_NAMES = ['firefox-esr', 'firefox'];
const FIREFOX_FOLDERS = ['/usr/lib/firefox-esr/firefox-esr', '/opt/firefox/firefox', '/Applications/Firefox.app/Contents/MacOS/firefox'];
/** Where the usual names live when PATH is short (a service's or sudo's PATH). */
const SYSTEM_BIN = ['/usr/local/bin', '/usr/bin', '/bin', '/snap/bin'];

/** What each browser is, to Debian and to a person. */
export const BROWSERS = {
  chromium: { variable: 'CHROMIUM', debianPackage: 'chromium', label: 'Chromium', names: CHROMIUM_NAMES, folders: CHROMIUM_FOLDERS },
  firefox: { variable: 'FIREFOX', debianPackage: 'firefox-esr', label: 'Firefox', names: FIREFOX_NAMES, folders: FIREFOX_FOLDERS },
};

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The browser's executable, or null. A variable that names a missing file is not silently
 * replaced by another browser: it is reported as such (`problem`).
 * @param {'chromium' | 'firefox'} kind
 * @returns {{ path: string | null, problem: string | null }}
 */
export function locate(kind, env = process.env) {
  const b = BROWSERS[kind];
  const named = env[b.variable];
  if (named) return executable(named) ? { path: named, problem: null } : { path: null, problem: `${b.variable}=${named} is not an executable file` };
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SYSTEM_BIN];
  for (const name of b.names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (executable(file)) return { path: file, problem: null };
    }
  }
  const folder = b.folders.find(executable);
  return folder ? { path: folder, problem: null } : { path: null, problem: `no ${b.label} found (${b.variable}, ${b.names.join(', ')})` };
}

/** The executable or null, for callers that only need to know. */
export const findBrowser = (kind, env = process.env) => locate(kind, env).path;

/** Root on a machine with apt-get: we may install Debian's packages ourselves. */
export function canInstall(env = process.env) {
  return process.getuid?.() === 0 && SYSTEM_BIN.concat((env.PATH ?? '').split(path.delimiter)).some((d) => d && executable(path.join(d, 'apt-get')));
}

/**
 * Installs Debian's `packages` when we may (root, apt-get), saying so in one line first; false
 * when we may not or apt-get failed. The keyring tests' gnome-keyring and dbus come this way too.
 */
export function installDebianPackages(packages, why, say, env = process.env) {
  if (packages.length === 0 || !canInstall(env)) return false;
  say(`Installing Debian's ${packages.join(' and ')} (${why}; running as root with apt-get)…`);
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } };
  return spawnSync('apt-get', ['update', '-qq'], quiet).status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', ...packages], quiet).status === 0;
}

/** The one command that adds a missing browser, for a person to run. */
export function installHint(kinds) {
  const pkgs = kinds.map((k) => BROWSERS[k].debianPackage).join(' ');
  return `sudo apt-get install -y ${pkgs}`;
}

/**
 * Finds each browser of `kinds`; when some are missing and we may install, says so in one line
 * and installs Debian's packages (apt-get update first: a fresh container has no lists).
 * Returns what was found and, for what still is not, why.
 * @param {Array<'chromium' | 'firefox'>} kinds
 * @param {(line: string) => void} say
 * @returns {{ found: Record<string, string>, missing: Record<string, string> }}
 */
export function ensureBrowsers(kinds, say, env = process.env) {
  const located = Object.fromEntries(kinds.map((k) => [k, locate(k, env)]));
  const absent = kinds.filter((k) => located[k].path === null && !env[BROWSERS[k].variable]);
  if (absent.length > 0 && canInstall(env)) {
    const ok = installDebianPackages(absent.map((k) => BROWSERS[k].debianPackage), 'none found', say, env);
    for (const k of absent) located[k] = locate(k, env);
    if (!ok) for (const k of absent) if (!located[k].path) located[k] = { path: null, problem: `apt-get install ${BROWSERS[k].debianPackage} failed` };
  }
  const found = {};
  const missing = {};
  for (const k of kinds) {
    if (located[k].path) found[k] = located[k].path;
    else missing[k] = located[k].problem;
  }
  return { found, missing };
}

// What `ews-daemon install` and `uninstall` do, as a list of steps computed from the options
// alone: files to write (with content and mode), files to remove, commands to run. Pure: the
// templates and an existence check come in, so every platform's plan is testable anywhere.
// Change what install writes, change what uninstall removes (they share the paths below).
import { NATIVE_HOST_NAME } from '../../../shared/constants';
import { AppError } from '../../../shared/errors';
import { familyOf, manifestDir, pathFor, registryKey, selectBrowsers, type BrowserName, type BrowserSelection, type Family, type InstallPlatform, type Where } from './browsers';
import { sortExtensionIds } from './extension-ids';
import { cmdQuote, render, shQuote, systemdQuote, xmlEscape, type Templates } from './templates';

export type Step =
  | { kind: 'write'; path: string; content: string; mode: number; what: string }
  /**
   * With onlyOurs, a manifest is removed only when its `name` is ours. pruneUpTo: folders left
   * empty are removed too, up to (not including) this one, so `--browser found` does not later
   * mistake a folder install made for an installed browser.
   */
  | { kind: 'remove'; path: string; what: string; onlyOurs?: boolean; pruneUpTo?: string }
  /** onlyIf: run only when this path existed before the plan started; mayFail: a failure is reported, not an error. */
  | { kind: 'run'; cmd: string; args: string[]; what: string; onlyIf?: string; mayFail?: boolean };

export interface Plan {
  platform: InstallPlatform;
  browsers: BrowserName[];
  steps: Step[];
  /** Things a person should know that are not steps (ids refused, no service on Windows). */
  notes: string[];
}

export interface PlanBase extends Where {
  browsers: BrowserSelection;
  /** A Chromium --user-data-dir: its NativeMessagingHosts/ replaces the user folders. */
  userDataDir?: string;
  service: boolean;
  stateDir: string;
  /** Needed for launchctl on macOS. */
  uid?: number;
  /** For browsers: 'found'. */
  exists?: (p: string) => boolean;
}

export interface InstallOptions extends PlanBase {
  extensionIds: string[];
  nodePath: string;
  repoRoot: string;
  templates: Templates;
}

export interface UninstallOptions extends PlanBase {
  /** Remove the wrapper too: only when every browser's manifest goes. */
  removeWrapper: boolean;
}

export const SERVICE_LABEL = 'com.ews_daemon.daemon';
export const SYSTEMD_UNIT = 'ews-daemon.service';
/** Passed on to the wrapper and the service, which do not run in the shell that installed them. */
export const PASSED_ENV = ['EWS_DAEMON_HOME', 'EWS_DAEMON_CONFIG', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;
const MANIFEST_FILE = `${NATIVE_HOST_NAME}.json`;
const DESCRIPTION = 'ews-daemon companion: relays the browser extension to the ews-daemon daemon';
/** Manifests hold no secret and browsers read them; the wrapper and service files may hold proxy settings. */
const MANIFEST_MODE = 0o644;
const PRIVATE_MODE = 0o600;
const WRAPPER_MODE = 0o700;

/** The manifests this plan covers: each path with its family (and the registry keys on Windows). */
export interface ManifestTarget {
  path: string;
  family: Family;
  /** Windows: the registry keys that point at it. */
  keys: string[];
  /** The folder that was there before any browser: empty folders below it are ours to prune. */
  root: string;
}

export function manifestTargets(o: PlanBase, browsers: BrowserName[]): ManifestTarget[] {
  const p = pathFor(o.platform);
  const chromium = browsers.filter((b) => familyOf(b) === 'chromium');
  const firefox = browsers.includes('firefox');
  const targets: ManifestTarget[] = [];
  if (o.userDataDir) targets.push({ path: p.join(o.userDataDir, 'NativeMessagingHosts', MANIFEST_FILE), family: 'chromium', keys: [], root: o.userDataDir });
  if (o.platform === 'win32') {
    const keys = (bs: BrowserName[]) => [...new Set(bs.map(registryKey))];
    const root = o.stateDir;
    if (chromium.length > 0 && !o.userDataDir) targets.push({ path: p.join(o.stateDir, 'manifests', 'chromium', MANIFEST_FILE), family: 'chromium', keys: keys(chromium), root });
    if (firefox) targets.push({ path: p.join(o.stateDir, 'manifests', 'firefox', MANIFEST_FILE), family: 'firefox', keys: keys(['firefox']), root });
    return targets;
  }
  for (const b of o.userDataDir ? browsers.filter((x) => x === 'firefox') : browsers) {
    targets.push({ path: p.join(manifestDir(b, o)!, MANIFEST_FILE), family: familyOf(b), keys: [], root: browsersRoot(b, o) });
  }
  return targets;
}

/** The folder holding browser folders: ~/.config (XDG), ~ (Firefox on Linux) or ~/Library/Application Support. */
function browsersRoot(b: BrowserName, o: Where): string {
  const p = pathFor(o.platform);
  if (o.platform === 'darwin') return p.join(o.homedir, 'Library', 'Application Support');
  if (familyOf(b) === 'firefox') return o.homedir;
  return o.env.XDG_CONFIG_HOME || p.join(o.homedir, '.config');
}

export function wrapperPath(o: Pick<PlanBase, 'platform' | 'stateDir'>): string {
  return pathFor(o.platform).join(o.stateDir, o.platform === 'win32' ? 'native-host.cmd' : 'native-host');
}

export function serviceFile(o: Where): string | null {
  const p = pathFor(o.platform);
  if (o.platform === 'linux') return p.join(o.env.XDG_CONFIG_HOME || p.join(o.homedir, '.config'), 'systemd', 'user', SYSTEMD_UNIT);
  if (o.platform === 'darwin') return p.join(o.homedir, 'Library', 'LaunchAgents', `${SERVICE_LABEL}.plist`);
  return null;
}

function passedEnv(env: Record<string, string | undefined>): [string, string][] {
  return PASSED_ENV.flatMap((k) => (env[k] ? [[k, env[k]!] as [string, string]] : []));
}

function resolveBrowsers(o: PlanBase): BrowserName[] {
  return selectBrowsers(o.browsers, o, o.exists ?? (() => false));
}

export function planInstall(o: InstallOptions): Plan {
  const p = pathFor(o.platform);
  const browsers = resolveBrowsers(o);
  const ids = sortExtensionIds(o.extensionIds);
  const notes = ids.rejected.map((id) => `ignored extension id ${JSON.stringify(id)}: neither a Chromium id (32 letters a-p) nor a Firefox add-on id (name@domain or {uuid})`);
  const wrapper = wrapperPath(o);
  const steps: Step[] = [{ kind: 'write', path: wrapper, content: wrapperContent(o), mode: WRAPPER_MODE, what: 'native host wrapper' }];
  for (const t of manifestTargets(o, browsers)) {
    const content = manifestContent(o.templates, t.family, wrapper, ids);
    steps.push({ kind: 'write', path: t.path, content, mode: MANIFEST_MODE, what: `${t.family === 'firefox' ? 'Firefox' : 'Chromium'} host manifest` });
    for (const key of t.keys) steps.push({ kind: 'run', cmd: 'reg', args: ['add', key, '/ve', '/t', 'REG_SZ', '/d', t.path, '/f'], what: 'register the manifest' });
  }
  if (o.service) steps.push(...serviceInstallSteps(o, p.join(o.repoRoot, 'host', 'bin', 'ews-daemon'), notes));
  return { platform: o.platform, browsers, steps, notes };
}

function manifestContent(t: Templates, family: Family, wrapper: string, ids: ReturnType<typeof sortExtensionIds>): string {
  const common = { name: JSON.stringify(NATIVE_HOST_NAME), description: JSON.stringify(DESCRIPTION), path: JSON.stringify(wrapper) };
  if (family === 'firefox') return render(t.firefoxHost, { ...common, allowedExtensions: JSON.stringify(ids.addons) });
  return render(t.chromiumHost, { ...common, allowedOrigins: JSON.stringify(ids.origins) });
}

function wrapperContent(o: InstallOptions): string {
  const p = pathFor(o.platform);
  const hostScript = p.join(o.repoRoot, 'host', 'dist', 'native-host.mjs');
  const env = passedEnv(o.env);
  if (o.platform === 'win32') {
    const environment = env.map(([k, v]) => `set ${cmdQuote(`${k}=${v}`)}\n`).join('');
    return render(o.templates.cmdWrapper, { environment, nodePath: cmdQuote(o.nodePath), hostScript: cmdQuote(hostScript) }).replace(/\r?\n/g, '\r\n');
  }
  const environment = env.map(([k, v]) => `export ${k}=${shQuote(v)}\n`).join('');
  return render(o.templates.shWrapper, { environment, nodePath: shQuote(o.nodePath), hostScript: shQuote(hostScript) });
}

function serviceInstallSteps(o: InstallOptions, launcher: string, notes: string[]): Step[] {
  const file = serviceFile(o);
  const env = passedEnv(o.env);
  if (o.platform === 'linux' && file) {
    const content = render(o.templates.systemdUnit, {
      execStart: `${systemdQuote(o.nodePath)} ${systemdQuote(launcher)} run`,
      environment: env.map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}\n`).join(''),
    });
    return [
      { kind: 'write', path: file, content, mode: PRIVATE_MODE, what: 'systemd user unit' },
      { kind: 'run', cmd: 'systemctl', args: ['--user', 'daemon-reload'], what: 'reload systemd' },
      { kind: 'run', cmd: 'systemctl', args: ['--user', 'enable', '--now', SYSTEMD_UNIT], what: 'start the daemon now and at login' },
    ];
  }
  if (o.platform === 'darwin' && file) {
    const domain = launchdDomain(o);
    const content = render(o.templates.launchdPlist, {
      label: SERVICE_LABEL,
      nodePath: xmlEscape(o.nodePath),
      launcherPath: xmlEscape(launcher),
      environment: env.map(([k, v]) => `    <key>${xmlEscape(k)}</key>\n    <string>${xmlEscape(v)}</string>\n`).join(''),
      stderrPath: xmlEscape(pathFor(o.platform).join(o.stateDir, 'launchd.log')),
    });
    return [
      { kind: 'write', path: file, content, mode: PRIVATE_MODE, what: 'launchd agent' },
      { kind: 'run', cmd: 'launchctl', args: ['bootout', `${domain}/${SERVICE_LABEL}`], what: 'unload the previous agent', mayFail: true },
      { kind: 'run', cmd: 'launchctl', args: ['bootstrap', domain, file], what: 'start the daemon now and at login' },
    ];
  }
  notes.push('--service is not available on Windows: the native host and the CLI start the daemon when it is needed.');
  return [];
}

export function planUninstall(o: UninstallOptions): Plan {
  const browsers = resolveBrowsers(o);
  const steps: Step[] = [];
  const notes: string[] = [];
  if (o.service) steps.push(...serviceUninstallSteps(o));
  for (const t of manifestTargets(o, browsers)) {
    for (const key of t.keys) steps.push({ kind: 'run', cmd: 'reg', args: ['delete', key, '/f'], what: 'unregister the manifest', mayFail: true });
    // On Windows the family's one manifest serves several browsers: keep it unless all go.
    if (t.keys.length === 0 || o.browsers === 'all') steps.push({ kind: 'remove', path: t.path, what: 'host manifest', onlyOurs: true, pruneUpTo: t.root });
  }
  if (o.removeWrapper) steps.push({ kind: 'remove', path: wrapperPath(o), what: 'native host wrapper' });
  return { platform: o.platform, browsers, steps, notes };
}

function serviceUninstallSteps(o: UninstallOptions): Step[] {
  const file = serviceFile(o);
  if (o.platform === 'linux' && file) {
    return [
      { kind: 'run', cmd: 'systemctl', args: ['--user', 'disable', '--now', SYSTEMD_UNIT], what: 'stop the service', onlyIf: file, mayFail: true },
      { kind: 'remove', path: file, what: 'systemd user unit' },
      { kind: 'run', cmd: 'systemctl', args: ['--user', 'daemon-reload'], what: 'reload systemd', onlyIf: file, mayFail: true },
    ];
  }
  if (o.platform === 'darwin' && file) {
    return [
      { kind: 'run', cmd: 'launchctl', args: ['bootout', launchdDomain(o), file], what: 'stop the agent', onlyIf: file, mayFail: true },
      { kind: 'remove', path: file, what: 'launchd agent' },
    ];
  }
  return [];
}

/** launchctl's domain for this user's agents. */
function launchdDomain(o: PlanBase): string {
  if (o.uid === undefined) throw new AppError('internal', 'The user id is needed to plan a launchd agent.', { advice: 'This is a bug in ews-daemon install.', retryable: false });
  return `gui/${o.uid}`;
}

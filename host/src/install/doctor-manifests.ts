// Doctor's look at the browser side: for each browser, is our host manifest where the browser
// looks, and would the browser accept it (name, absolute executable path, our ids with the
// trailing slash)? Each mistake is named with the command that fixes it.
import { NATIVE_HOST_NAME, PUBLISHED_ADDON_IDS, PUBLISHED_EXTENSION_IDS } from '../../../shared/constants';
import { chromiumOrigin } from './extension-ids';
import { BROWSER_NAMES, browserConfigDir, familyOf, manifestDir, pathFor, registryKey, type BrowserName, type Family, type InstallPlatform } from './browsers';
import type { FileSystem } from '../deps';
import type { RunCommand } from './apply';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Passes, but needs attention soon (e.g. a certificate near its end). */
  warning?: boolean;
}

export interface ManifestDeps {
  platform: InstallPlatform;
  homedir: string;
  env: Record<string, string | undefined>;
  fs: Pick<FileSystem, 'readTextIfExists' | 'isExecutable' | 'exists'>;
  /** Windows: to read the registry. */
  run?: RunCommand;
  /** A Chromium --user-data-dir to check as well. */
  userDataDir?: string;
}

/** The manifest's text; null when there is none or it cannot be read (the browser could not either). */
function readManifest(d: ManifestDeps, file: string): Promise<string | null> {
  return d.fs.readTextIfExists(file).catch(() => null);
}

/** One check per browser that is installed or has our manifest; one line when there is none. */
export async function checkManifests(d: ManifestDeps): Promise<Check[]> {
  const checks: Check[] = [];
  for (const b of BROWSER_NAMES) {
    const where = await locate(b, d);
    if (where === null) continue;
    const text = where.path ? await readManifest(d, where.path) : null;
    const installed = d.fs.exists(browserConfigDir(b, d));
    if (text === null && !installed) continue;
    checks.push(await judge(`${b} manifest`, where.path ?? where.key ?? b, text, familyOf(b), d, `ews-daemon install --browser ${b}`));
  }
  if (d.userDataDir) {
    const file = pathFor(d.platform).join(d.userDataDir, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
    checks.push(await judge('user-data-dir manifest', file, await readManifest(d, file), 'chromium', d, `ews-daemon install --user-data-dir ${d.userDataDir}`));
  }
  if (checks.length === 0) return [{ name: 'browser manifests', ok: true, detail: 'no browser found; the CLI works without one' }];
  return checks;
}

/** Where the browser reads the manifest: a file on POSIX; on Windows the registry key's value. */
async function locate(b: BrowserName, d: ManifestDeps): Promise<{ path: string | null; key?: string } | null> {
  if (d.platform !== 'win32') return { path: pathFor(d.platform).join(manifestDir(b, d)!, `${NATIVE_HOST_NAME}.json`) };
  if (!d.run) return null;
  const key = registryKey(b);
  const r = await d.run('reg', ['query', key, '/ve']);
  const m = /REG_SZ\s+(.+?)\s*$/m.exec(r.stdout);
  return { path: r.code === 0 && m ? m[1]! : null, key };
}

async function judge(name: string, where: string, text: string | null, family: Family, d: ManifestDeps, fix: string): Promise<Check> {
  if (text === null) return { name, ok: false, detail: `no manifest at ${where}: the browser will say "Specified native messaging host not found"`, fix };
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { name, ok: false, detail: `${where} is not valid JSON`, fix };
  }
  const problems = [...shapeProblems(manifest, d.platform), ...idProblems(manifest, family)];
  if (typeof manifest.path === 'string' && pathFor(d.platform).isAbsolute(manifest.path) && !(await d.fs.isExecutable(manifest.path))) {
    problems.push(`its path ${manifest.path} is missing or not executable (the browser will say "Native host has exited")`);
  }
  if (problems.length > 0) return { name, ok: false, detail: `${where}: ${problems.join('; ')}`, fix };
  return { name, ok: true, detail: where };
}

function shapeProblems(m: Record<string, unknown>, platform: InstallPlatform): string[] {
  const problems: string[] = [];
  if (m.name !== NATIVE_HOST_NAME) problems.push(`its name is ${JSON.stringify(m.name)}, not ${NATIVE_HOST_NAME}`);
  if (m.type !== 'stdio') problems.push('its type is not "stdio"');
  if (typeof m.path !== 'string' || !pathFor(platform).isAbsolute(m.path)) problems.push(`its path ${JSON.stringify(m.path)} is not absolute`);
  return problems;
}

function idProblems(m: Record<string, unknown>, family: Family): string[] {
  if (family === 'firefox') {
    const ids: unknown[] = Array.isArray(m.allowed_extensions) ? m.allowed_extensions : [];
    return PUBLISHED_ADDON_IDS.filter((id) => !ids.includes(id)).map((id) => `allowed_extensions lacks ${id}`);
  }
  const origins: unknown[] = Array.isArray(m.allowed_origins) ? m.allowed_origins : [];
  const problems: string[] = [];
  for (const ours of PUBLISHED_EXTENSION_IDS.map((p) => chromiumOrigin(p.id))) {
    if (!origins.includes(ours)) problems.push(origins.includes(ours.slice(0, -1)) ? `allowed_origins has ${ours.slice(0, -1)} without its trailing slash` : `allowed_origins lacks ${ours}`);
  }
  for (const o of origins) {
    if (typeof o !== 'string' || !/^chrome-extension:\/\/[a-p]{32}\/$/.test(o)) problems.push(`allowed_origins entry ${JSON.stringify(o)} is not chrome-extension://<32 letters a-p>/ (with the trailing slash)`);
  }
  return [...new Set(problems)];
}

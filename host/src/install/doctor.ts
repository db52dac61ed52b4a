// `ews-daemon doctor`: checks everything the daemon and the browser need, one line each with the
// fix: the config, the credential, the authority and mailbox endpoints, the daemon and its
// socket, file modes of secrets, and each browser's host manifest. All I/O is behind deps, so a
// test can plant any mistake. Exit 0 only when every check passes.
import os from 'node:os';
import { isAppError } from '../../../shared/errors';
import type { CacheKeyInfo } from '../../../shared/protocol';
import type { Config } from '../config/config';
import { cacheKeyVerdict, probeCacheKey } from './doctor-cache-key';
import type { Paths } from '../config/paths';
import { RpcClient } from '../daemon-client/rpc-client';
import type { Clock, FileSystem, Http } from '../deps';
import type { RunCommand } from './apply';
import type { InstallPlatform } from './browsers';
import { checkManifests, type Check, type ManifestDeps } from './doctor-manifests';

export type { Check };

/** Doctor only looks: it reads and stats, never writes. */
export type DoctorFs = Pick<FileSystem, 'stat' | 'readTextIfExists' | 'readBytes' | 'isExecutable' | 'exists'>;

export interface DoctorDeps {
  platform: NodeJS.Platform;
  homedir: string;
  env: Record<string, string | undefined>;
  paths: Paths;
  /** host/src/config/load-config.ts: throws AppError config_invalid. */
  loadConfig(file: string): Promise<Config>;
  http: Http;
  clock: Pick<Clock, 'now'>;
  /** The daemon's `status`, without starting it; rejects with an AppError. */
  daemonStatus(): Promise<{ daemon: { pid: number; version: string }; cacheKey?: CacheKeyInfo }>;
  /** Where the cache key would come from, asked without a daemon (and without making a key). */
  probeCacheKey?(config: Config): Promise<CacheKeyInfo>;
  fs: DoctorFs;
  run?: RunCommand;
  userDataDir?: string;
}

export interface DoctorReport {
  checks: Check[];
  ok: boolean;
}

/** A certificate this close to its end gets a warning (ms): time to renew and upload a new one. */
const CERT_WARN_MS = 30 * 24 * 3600 * 1000;
/** Doctor's network checks answer fast or not at all (ms). */
const HTTP_TIMEOUT_MS = 10_000;

export async function runDoctor(d: DoctorDeps): Promise<DoctorReport> {
  const config = await d.loadConfig(d.paths.configFile).then(
    (c) => ({ ok: true as const, c }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  // One status call serves the daemon check and the cache key check.
  const status = d.daemonStatus();
  status.catch(() => undefined);
  const jobs: Promise<Check | Check[]>[] = [Promise.resolve(configCheck(d, config))];
  if (config.ok) jobs.push(credentialCheck(d, config.c), authorityCheck(d, config.c), ...endpointChecks(d, config.c), cacheKeyCheck(d, config.c, status));
  jobs.push(daemonCheck(d, status), ...privateFolderChecks(d), cacheCheck(d), checkManifests(manifestDeps(d)));
  const checks = (await Promise.all(jobs.map((j) => j.catch((e: unknown) => crashed(e))))).flat();
  return { checks, ok: checks.every((c) => c.ok) };
}

/** The report as lines: one per check, with its fix. */
export function formatDoctor(report: DoctorReport): string[] {
  return report.checks.map((c) => {
    const mark = !c.ok ? 'FAIL' : c.warning ? 'warn' : ' ok ';
    return `[${mark}] ${c.name}: ${c.detail}${c.fix ? ` -> fix: ${c.fix}` : ''}`;
  });
}

function crashed(e: unknown): Check {
  return { name: 'doctor', ok: false, detail: `a check failed to run: ${e instanceof Error ? e.message : String(e)}` };
}

function configCheck(d: DoctorDeps, r: { ok: true; c: Config } | { ok: false; e: unknown }): Check {
  if (r.ok) return { name: 'config', ok: true, detail: `${r.c.file} (client ${r.c.clientId}, ${r.c.authority})` };
  const e = r.e;
  return { name: 'config', ok: false, detail: e instanceof Error ? e.message : String(e), fix: isAppError(e) ? e.data.advice : `edit ${d.paths.configFile}` };
}

const isPosix = (d: DoctorDeps) => d.platform !== 'win32';

/** Permission bits (0o777) and kind; null when missing or when it cannot be looked at (reported as missing). */
async function statOf(d: DoctorDeps, p: string): Promise<{ mode: number; isDirectory: boolean } | null> {
  const st = await d.fs.stat(p).catch(() => null);
  return st && { mode: st.mode & 0o777, isDirectory: st.isDirectory };
}

/** A secret file others can read: the fix is chmod 600. */
async function leaks(d: DoctorDeps, file: string): Promise<string | null> {
  if (!isPosix(d)) return null;
  const s = await statOf(d, file);
  return s && (s.mode & 0o077) !== 0 ? file : null;
}

async function credentialCheck(d: DoctorDeps, c: Config): Promise<Check> {
  const cred = c.credential;
  if (cred.kind === 'none') {
    return { name: 'credential', ok: true, detail: `none: a public client (registered under "Mobile and desktop applications", "Allow public client flows" on); sign-in is protected by PKCE, no secret on disk` };
  }
  // A secret in the OS keyring has no file to check.
  const secretFile = cred.kind === 'secret' ? (cred.source === 'config' ? c.file : cred.source === 'keyring' ? null : cred.source) : cred.privateKeyPath;
  const leaking = secretFile === null ? null : await leaks(d, secretFile);
  if (leaking) return { name: 'credential', ok: false, detail: `${leaking} holds a secret and others can read it`, fix: `chmod 600 '${leaking}'` };
  if (cred.kind === 'secret') return { name: 'credential', ok: true, detail: `a confidential client: client secret from ${cred.source === 'config' ? 'the config' : cred.source === 'keyring' ? 'the OS keyring' : cred.source} (its expiry is known only to Entra)` };
  const left = cred.notAfter - d.clock.now();
  const until = new Date(cred.notAfter).toISOString();
  const renew = `make a new certificate, upload it to the app registration, and point certificate.certificatePath at it`;
  if (left <= 0) return { name: 'credential', ok: false, detail: `the certificate ${cred.certificatePath} expired on ${until}`, fix: renew };
  if (left < CERT_WARN_MS) return { name: 'credential', ok: true, warning: true, detail: `the certificate ${cred.certificatePath} expires in ${Math.ceil(left / 86_400_000)} days (${until})`, fix: renew };
  return { name: 'credential', ok: true, detail: `a confidential client: certificate ${cred.thumbprintSha256.slice(0, 16)}… valid until ${until}` };
}

async function authorityCheck(d: DoctorDeps, c: Config): Promise<Check> {
  const url = `${c.authority}/v2.0/.well-known/openid-configuration`;
  const fix = 'check the network, HTTPS_PROXY/NO_PROXY and NODE_EXTRA_CA_CERTS, and "tenant"/"authority" in the config';
  try {
    const r = await d.http.request({ method: 'GET', url, timeoutMs: HTTP_TIMEOUT_MS });
    const meta = r.status === 200 ? (parseJson(r.body) as { token_endpoint?: unknown } | null) : null;
    if (meta && typeof meta.token_endpoint === 'string') return { name: 'authority', ok: true, detail: `${url} answers` };
    return { name: 'authority', ok: false, detail: `${url} answered HTTP ${r.status} without OpenID metadata`, fix };
  } catch (e) {
    return { name: 'authority', ok: false, detail: `${url}: ${(e as Error).message}`, fix };
  }
}

function endpointChecks(d: DoctorDeps, c: Config): Promise<Check>[] {
  const checks: Promise<Check>[] = [];
  if (c.backend !== 'graph') checks.push(reachable(d, 'EWS endpoint', { method: 'POST', url: c.ewsUrl, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: '' }, 'ewsUrl'));
  if (c.backend !== 'ews') checks.push(reachable(d, 'Graph endpoint', { method: 'GET', url: `${c.graphUrl}/me` }, 'graphUrl'));
  return checks;
}

/** Asked without a token, a live endpoint answers 401: that is what "reachable" means here. */
async function reachable(d: DoctorDeps, name: string, req: { method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; body?: string }, key: string): Promise<Check> {
  try {
    const r = await d.http.request({ ...req, timeoutMs: HTTP_TIMEOUT_MS });
    if (r.status === 401) return { name, ok: true, detail: `${req.url} answers (401 without a token, as it should)` };
    const hint = r.status === 403 ? '; for EWS a 403 usually means an admin turned EWS off: set "backend": "graph"' : '';
    return { name, ok: false, detail: `${req.url} answered HTTP ${r.status} to a request without a token, not 401${hint}`, fix: `check "${key}" in the config` };
  } catch (e) {
    return { name, ok: false, detail: `${req.url}: ${(e as Error).message}`, fix: 'check the network and HTTPS_PROXY/NO_PROXY' };
  }
}

type DaemonStatus = Awaited<ReturnType<DoctorDeps['daemonStatus']>>;

async function daemonCheck(d: DoctorDeps, status: Promise<DaemonStatus>): Promise<Check> {
  try {
    const s = await status;
    return { name: 'daemon', ok: true, detail: `running (pid ${s.daemon.pid}, version ${s.daemon.version}) on ${d.paths.socketPath}` };
  } catch (e) {
    return { name: 'daemon', ok: false, detail: e instanceof Error ? e.message : String(e), fix: `start it with \`ews-daemon run\` (or for good: \`ews-daemon install --service\`); its log is ${d.paths.logFile}` };
  }
}

/** The socket's and the state's folders must be the user's alone (0700). */
function privateFolderChecks(d: DoctorDeps): Promise<Check>[] {
  if (!isPosix(d)) return [];
  const folders = [...new Set([d.paths.runtimeDir, d.paths.stateDir])];
  return folders.map(async (dir) => {
    const name = folders.length === 1 ? 'socket and state folder' : dir === d.paths.runtimeDir ? 'socket folder' : 'state folder';
    const s = await statOf(d, dir);
    if (!s) return { name, ok: true, detail: `${dir} does not exist yet (the daemon makes it, 0700)` };
    if (s.mode !== 0o700) return { name, ok: false, detail: `${dir} has mode ${s.mode.toString(8)}, not 700: others could reach the daemon or its files`, fix: `chmod 700 '${dir}'` };
    return { name, ok: true, detail: `${dir} (700)` };
  });
}

async function cacheCheck(d: DoctorDeps): Promise<Check> {
  const file = d.paths.cacheFile;
  const s = await statOf(d, file);
  if (!s) return { name: 'token cache', ok: true, detail: `${file} does not exist yet (sign in with \`ews-daemon consent\`)` };
  if (isPosix(d) && s.mode !== 0o600) return { name: 'token cache', ok: false, detail: `${file} has mode ${s.mode.toString(8)}, not 600: it holds refresh tokens`, fix: `chmod 600 '${file}'` };
  return { name: 'token cache', ok: true, detail: `${file}${isPosix(d) ? ' (600)' : ''}` };
}

/** Where the token cache's key is: the running daemon's answer, else a probe of the sources. */
async function cacheKeyCheck(d: DoctorDeps, c: Config, status: Promise<DaemonStatus>): Promise<Check> {
  const fromDaemon = await status.then((s) => s.cacheKey, () => undefined);
  const info = fromDaemon ?? (await (d.probeCacheKey ?? ((cfg: Config) => probeCacheKey(cfg, d.paths.cacheFile, d.env, d)))(c));
  return cacheKeyVerdict(info);
}

function manifestDeps(d: DoctorDeps): ManifestDeps {
  const platform: InstallPlatform = d.platform === 'darwin' || d.platform === 'win32' ? d.platform : 'linux';
  return { platform, homedir: d.homedir, env: d.env, fs: d.fs, run: d.run, userDataDir: d.userDataDir };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The real deps, from what the CLI has already built (the config loader, Http, clock, files). */
export function realDoctorDeps(args: { env: Record<string, string | undefined>; paths: Paths; http: Http; clock: Clock; fs: FileSystem; loadConfig: (file: string) => Promise<Config>; run?: RunCommand; userDataDir?: string }): DoctorDeps {
  return {
    ...args,
    platform: process.platform,
    homedir: os.homedir(),
    daemonStatus: async () => {
      const client = await RpcClient.connect({ socketPath: args.paths.socketPath, noStart: true, logFile: args.paths.logFile, callTimeoutMs: HTTP_TIMEOUT_MS, clock: args.clock });
      try {
        return await client.call('status');
      } finally {
        client.close();
      }
    },
  };
}

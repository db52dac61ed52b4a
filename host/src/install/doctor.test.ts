// Doctor against a real temp HOME where install ran, with one mistake planted per test, and
// small fakes for the config loader, HTTP and the daemon.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXTENSION_ID, NATIVE_HOST_NAME } from '../../../shared/constants';
import { AppError } from '../../../shared/errors';
import type { Config } from '../config/config';
import { resolvePaths } from '../config/paths';
import type { Http, HttpRequest, HttpResponse } from '../deps';
import { nodeFileSystem } from '../io/node-fs';
import { formatDoctor, runDoctor, type DoctorDeps } from './doctor';
import { runInstall } from './run-install';
import { testConfig } from '../../../test/support/config';

const REPO = path.resolve(import.meta.dirname, '../../..');
const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
const cleanups: string[] = [];
afterEach(async () => {
  for (const d of cleanups.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

/** Answers by URL; an unknown URL is a refused connection. */
class FakeHttp implements Http {
  constructor(public answers: Record<string, number | 'down'>) {}
  async request(req: HttpRequest): Promise<HttpResponse> {
    const a = this.answers[req.url];
    if (a === undefined || a === 'down') throw new AppError('transient', `cannot reach ${req.url}`, { advice: 'x', retryable: true });
    return { status: a, headers: {}, body: a === 200 ? JSON.stringify({ token_endpoint: 'https://login/token' }) : '' };
  }
}

function config(home: string, over: Partial<Config> = {}): Config {
  return testConfig({ file: path.join(home, 'config.json'), ...over });
}

/** A HOME where `install --browser chromium,firefox` ran, the daemon's folders are right, and every endpoint answers. */
async function healthyHome(): Promise<DoctorDeps & { home: string; http: FakeHttp }> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'ews-doctor-'));
  cleanups.push(home);
  const env = { EWS_DAEMON_HOME: path.join(home, 'ews') };
  const paths = resolvePaths({ env, platform: 'linux', homedir: home });
  await fs.mkdir(paths.stateDir, { mode: 0o700 });
  await fs.writeFile(paths.cacheFile, '{}', { mode: 0o600 });
  await fs.writeFile(path.join(home, 'config.json'), '{}', { mode: 0o600 });
  await fs.mkdir(path.join(home, '.config/chromium'), { recursive: true });
  await fs.mkdir(path.join(home, '.mozilla'), { recursive: true });
  const ran = await runInstall({ browser: ['chromium', 'firefox'] }, { platform: 'linux', homedir: home, env, nodePath: process.execPath, repoRoot: REPO, stateDir: paths.stateDir, fs: nodeFileSystem, run: async () => ({ code: 0, stdout: '', stderr: '' }) });
  expect(ran.exitCode).toBe(0);
  const http = new FakeHttp({
    'https://login.example/contoso/v2.0/.well-known/openid-configuration': 200,
    'https://mail.example/EWS/Exchange.asmx': 401,
    'https://graph.example/v1.0/me': 401,
  });
  return {
    home,
    platform: 'linux',
    homedir: home,
    env,
    paths,
    loadConfig: async () => config(home),
    http,
    clock: { now: () => NOW },
    daemonStatus: async () => ({ daemon: { pid: 4242, version: '0.1.0' }, cacheKey: { kind: 'keyring', where: 'OS keyring' } }),
    fs: nodeFileSystem,
  };
}

const chromiumManifest = (home: string) => path.join(home, '.config/chromium/NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
const failing = async (d: DoctorDeps) => (await runDoctor(d)).checks.filter((c) => !c.ok);

describe('ews-daemon doctor', () => {
  it('passes every check on a healthy setup, asking the daemon once', async () => {
    const d = await healthyHome();
    let asked = 0;
    const answer = d.daemonStatus;
    d.daemonStatus = () => (asked++, answer());
    const report = await runDoctor(d);
    expect(asked).toBe(1);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['config', 'credential', 'authority', 'EWS endpoint', 'Graph endpoint', 'token cache key', 'daemon', 'socket and state folder', 'token cache', 'chromium manifest', 'firefox manifest']);
  });

  it('says where the token cache key is, warns on a plain cache and fails on an unreadable one, each with the fix', async () => {
    const d = await healthyHome();
    const keyLine = async () => (await runDoctor(d)).checks.find((c) => c.name === 'token cache key');
    expect(await keyLine()).toEqual({ name: 'token cache key', ok: true, detail: 'the token cache is encrypted with the key in the OS keyring' });
    d.daemonStatus = async () => ({ daemon: { pid: 4242, version: '0.1.0' }, cacheKey: { kind: 'none', advice: 'Set "cacheKeyFile".' } });
    expect(await keyLine()).toEqual({ name: 'token cache key', ok: true, warning: true, detail: 'none: the token cache is stored unencrypted (0600)', fix: 'Set "cacheKeyFile".' });
    const error = { code: 'keyring_locked' as const, message: 'The OS keyring is locked.', advice: 'Unlock it.', retryable: true, at: NOW };
    d.daemonStatus = async () => ({ daemon: { pid: 4242, version: '0.1.0' }, cacheKey: { kind: 'keyring', error } });
    expect(await keyLine()).toEqual({ name: 'token cache key', ok: false, detail: 'The OS keyring is locked.', fix: 'Unlock it.' });
    // No daemon: the sources are probed (here a key file named in config).
    const keyFile = path.join(d.home, 'cache.key');
    await fs.writeFile(keyFile, Buffer.alloc(32, 7), { mode: 0o600 });
    d.daemonStatus = async () => Promise.reject(new Error('no daemon'));
    d.loadConfig = async () => config(d.home, { cacheKeyFile: keyFile });
    expect(await keyLine()).toEqual({ name: 'token cache key', ok: true, detail: `the token cache is encrypted with the key in the key file ${keyFile}` });
  });

  it('finds a manifest whose path points nowhere', async () => {
    const d = await healthyHome();
    const m = JSON.parse(await fs.readFile(chromiumManifest(d.home), 'utf8'));
    await fs.writeFile(chromiumManifest(d.home), JSON.stringify({ ...m, path: '/nowhere/native-host' }));
    const [bad, ...rest] = await failing(d);
    expect(rest).toEqual([]);
    expect(bad).toMatchObject({ name: 'chromium manifest', fix: 'ews-daemon install --browser chromium' });
    expect(bad!.detail).toContain('/nowhere/native-host is missing or not executable');
  });

  it('finds an allowed origin without its trailing slash', async () => {
    const d = await healthyHome();
    const m = JSON.parse(await fs.readFile(chromiumManifest(d.home), 'utf8'));
    await fs.writeFile(chromiumManifest(d.home), JSON.stringify({ ...m, allowed_origins: [`chrome-extension://${EXTENSION_ID}`] }));
    const [bad] = await failing(d);
    expect(bad!.detail).toContain('without its trailing slash');
  });

  it('finds a token cache others can read', async () => {
    const d = await healthyHome();
    await fs.chmod(d.paths.cacheFile, 0o644);
    const [bad, ...rest] = await failing(d);
    expect(rest).toEqual([]);
    expect(bad).toMatchObject({ name: 'token cache', fix: `chmod 600 '${d.paths.cacheFile}'` });
  });

  it('finds a state folder open to others and a config holding a secret that others can read', async () => {
    const d = await healthyHome();
    await fs.chmod(d.paths.stateDir, 0o755);
    await fs.chmod(path.join(d.home, 'config.json'), 0o644);
    expect((await failing(d)).map((c) => c.name)).toEqual(['credential', 'socket and state folder']);
  });

  it('finds a browser that has no manifest', async () => {
    const d = await healthyHome();
    await fs.mkdir(path.join(d.home, '.config/google-chrome'), { recursive: true });
    const [bad] = await failing(d);
    expect(bad).toMatchObject({ name: 'chrome manifest', fix: 'ews-daemon install --browser chrome' });
  });

  it('says a config without a credential is a public client, with no secret to protect', async () => {
    const d = await healthyHome();
    const report = await runDoctor({ ...d, loadConfig: async () => config(d.home, { credential: { kind: 'none' } }) });
    const check = report.checks.find((c) => c.name === 'credential');
    expect(check).toMatchObject({ ok: true });
    expect(check!.detail).toMatch(/^none: a public client \(registered under "Mobile and desktop applications"/);
  });

  it('warns about a certificate ending within 30 days and fails on an expired one', async () => {
    const d = await healthyHome();
    const keyPath = path.join(d.home, 'key.pem');
    await fs.writeFile(keyPath, 'k', { mode: 0o600 });
    const cert = (notAfter: number): Config['credential'] => ({ kind: 'certificate', privateKeyPem: 'k', certificatePem: 'c', thumbprintSha256: 'AB'.repeat(32), x5c: 'x', notBefore: 0, notAfter, privateKeyPath: keyPath, certificatePath: '/c.pem' });
    const soon = (await runDoctor({ ...d, loadConfig: async () => config(d.home, { credential: cert(NOW + 10 * DAY) }) })).checks.find((c) => c.name === 'credential');
    expect(soon).toMatchObject({ ok: true, warning: true });
    expect(soon!.detail).toContain('expires in 10 days');
    const gone = await runDoctor({ ...d, loadConfig: async () => config(d.home, { credential: cert(NOW - DAY) }) });
    expect(gone.ok).toBe(false);
    expect(gone.checks.find((c) => c.name === 'credential')!.detail).toContain('expired');
  });

  it('reports a broken config with its advice and skips what depends on it', async () => {
    const d = await healthyHome();
    const report = await runDoctor({ ...d, loadConfig: async () => Promise.reject(new AppError('config_invalid', 'config.json: "clientId" is missing.', { advice: 'Add "clientId".', retryable: false })) });
    expect(report.checks[0]).toEqual({ name: 'config', ok: false, detail: 'config.json: "clientId" is missing.', fix: 'Add "clientId".' });
    expect(report.checks.map((c) => c.name)).not.toContain('authority');
  });

  it('reports a daemon that does not answer and endpoints that are unreachable or wrong', async () => {
    const d = await healthyHome();
    d.http.answers['https://mail.example/EWS/Exchange.asmx'] = 404;
    d.http.answers['https://login.example/contoso/v2.0/.well-known/openid-configuration'] = 'down';
    const report = await runDoctor({ ...d, daemonStatus: async () => Promise.reject(new AppError('daemon_unreachable', 'no daemon', { advice: 'x', retryable: true })) });
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['authority', 'EWS endpoint', 'daemon']);
    expect(formatDoctor(report).filter((l) => l.startsWith('[FAIL]'))).toHaveLength(3);
    expect(formatDoctor(report).find((l) => l.includes('daemon:'))).toContain('-> fix: start it with `ews-daemon run`');
  });
});

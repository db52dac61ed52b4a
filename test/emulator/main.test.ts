// `npm run emulator` as a person runs it: the bundled main as a real process that prints where
// it listens, writes a private daemon home, is driven through the HTTPS admin API from outside,
// and exits cleanly on SIGTERM. Also the argument parser.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttp } from '../../host/src/io/http';
import { spawnEmulator, type EmulatorProcess } from '../support/emulator-env';
import { daemonConfig, parseEmulatorArgs } from './cli';
import type { Emulator } from './index';
import { CLIENT_ID, DEFAULT_REDIRECT_URI, TENANT_ID } from './index';
import { EWS_SCOPE, GET_INBOX, pkce } from './test-kit';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('parseEmulatorArgs', () => {
  it('reads the flags, with --flag=value or --flag value', () => {
    expect(parseEmulatorArgs(['--port', '8443', '--auto-consent', '--dir=/tmp/x'])).toEqual({ port: 8443, autoConsent: true, dir: '/tmp/x', help: false });
  });
  it('refuses a bad port and an unknown flag, naming them', () => {
    expect(parseEmulatorArgs(['--port', 'abc'])).toEqual({ error: expect.stringContaining('"abc"') });
    expect(parseEmulatorArgs(['--colour'])).toEqual({ error: 'unknown option "--colour"' });
    expect(parseEmulatorArgs(['--public-client'])).toMatchObject({ publicClient: true });
  });
});

describe('daemonConfig', () => {
  it('writes a public client without any credential, on the Mobile and desktop Reply URL', () => {
    const e = { clientId: 'c', authority: 'https://e/t', clientSecret: 's', redirectUris: ['http://localhost:53100/callback'], ewsUrl: 'https://e/ews', graphUrl: 'https://e/v1.0' } as unknown as Emulator;
    expect(daemonConfig(e, true)).toEqual({ clientId: 'c', authority: 'https://e/t', redirectUri: 'http://localhost:53100', ewsUrl: 'https://e/ews', graphUrl: 'https://e/v1.0' });
    expect(daemonConfig(e)).toMatchObject({ clientSecret: 's', redirectUri: 'http://localhost:53100/callback' });
  });
});

describe('the emulator process', () => {
  let dir: string;
  let proc: EmulatorProcess;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emu-main-'));
    const script = path.join(dir, 'emulator.mjs');
    await build({
      entryPoints: [path.join(here, 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: script,
      logLevel: 'silent',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    proc = await spawnEmulator({ dir: path.join(dir, 'state'), autoConsent: true, script });
  });
  afterAll(async () => {
    await proc?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const readConfig = async () => JSON.parse(await fs.readFile(path.join(proc.home, 'config.json'), 'utf8')) as Record<string, string>;

  it('prints the URL, the exports and the admin API, but not the client secret', async () => {
    expect(proc.banner).toMatch(/^Emulator for Entra ID, EWS and Graph at https:\/\/localhost:\d+ \(tenant contoso\.example/);
    expect(proc.banner).toContain(`export NODE_EXTRA_CA_CERTS=${path.join(dir, 'state', 'ca.pem')} EWS_DAEMON_HOME=${path.join(dir, 'state', 'home')}`);
    expect(proc.banner).not.toContain((await readConfig()).clientSecret);
  });

  it('writes a private daemon config pointing at itself', async () => {
    const file = path.join(proc.home, 'config.json');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(proc.home)).mode & 0o777).toBe(0o700);
    expect(await readConfig()).toEqual({
      clientId: CLIENT_ID,
      authority: `${proc.url}/${TENANT_ID}`,
      clientSecret: expect.stringMatching(/^.{3}8Q~.{34}$/),
      redirectUri: DEFAULT_REDIRECT_URI,
      ewsUrl: `${proc.url}/EWS/Exchange.asmx`,
      graphUrl: `${proc.url}/v1.0`,
    });
  });

  it('is driven from another process through the admin API, and serves what it was told', async () => {
    const config = await readConfig();
    const http = createHttp({ userAgent: 'test', extraCaPem: proc.caPem });
    try {
      await proc.admin.setMailbox('alice@contoso.example', { total: 7, unread: 2 });
      await expect(proc.admin.setMailbox('nobody@contoso.example', { total: 1, unread: 0 })).rejects.toThrow('no user nobody@contoso.example in the emulated tenant');
      const { verifier, challenge } = pkce();
      const auth = new URL(`${config.authority}/oauth2/v2.0/authorize`);
      auth.search = new URLSearchParams({ client_id: config.clientId as string, response_type: 'code', redirect_uri: config.redirectUri as string, scope: `${EWS_SCOPE} openid offline_access`, code_challenge: challenge, code_challenge_method: 'S256' }).toString();
      const code = new URL((await http.request({ method: 'GET', url: auth.toString() })).headers.location as string).searchParams.get('code') as string;
      const form = new URLSearchParams({ client_id: config.clientId as string, client_secret: config.clientSecret as string, grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: config.redirectUri as string, scope: EWS_SCOPE });
      const tokens = JSON.parse((await http.request({ method: 'POST', url: `${config.authority}/oauth2/v2.0/token`, body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })).body) as { access_token: string };
      const soap = await http.request({ method: 'POST', url: config.ewsUrl as string, body: GET_INBOX, headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'text/xml; charset=utf-8' } });
      expect(soap.body).toMatch(/<t:TotalCount>7<\/t:TotalCount>.*<t:UnreadCount>2<\/t:UnreadCount>/);
      expect((await proc.admin.stats()).ewsRequests).toBe(1);
      await proc.admin.failEws('busy-fault');
      expect((await http.request({ method: 'POST', url: config.ewsUrl as string, body: GET_INBOX, headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(500);
    } finally {
      await http.close();
    }
  });

  it('stops on SIGTERM with exit code 0, removing nothing it was told to keep', async () => {
    expect(await proc.stop()).toBe(0);
    await expect(fs.stat(path.join(dir, 'state', 'ca.pem'))).resolves.toBeTruthy();
  });
});

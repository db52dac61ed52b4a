import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { DEFAULTS } from './config';
import { nodeFileSystem } from '../io/node-fs';
import { loadConfig, locateJsonError, type ConfigFs } from './load-config';

const CLIENT_ID = '6e1f0a52-7b3c-4d8e-9f10-2a3b4c5d6e7f';
const SECRET = 'Xy8Q~not-a-real-secret-but-treated-as-one';
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-24T07:00:00Z');

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-config-'));
  file = path.join(dir, 'config.json');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string, mode = 0o600): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, content, { mode });
  await fs.chmod(p, mode);
  return p;
}
const writeConfig = (value: unknown, mode = 0o600) => write('config.json', typeof value === 'string' ? value : JSON.stringify(value, null, 2), mode);
const load = (opts: { fs?: ConfigFs; platform?: NodeJS.Platform; now?: number; uid?: number } = {}) => loadConfig(file, opts.fs ?? nodeFileSystem, { platform: opts.platform ?? 'linux', now: opts.now ?? NOW, uid: opts.uid });

async function refusal(opts: Parameters<typeof load>[0] = {}): Promise<AppError> {
  const e = await load(opts).then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  expect(e.code).toBe('config_invalid');
  expect(e.data.retryable).toBe(false);
  expect(`${e.message}\n${e.data.advice}`).not.toContain(SECRET);
  return e;
}

const BASE = { clientId: CLIENT_ID, tenant: 'contoso.onmicrosoft.com', clientSecret: SECRET };

describe('loadConfig: values and defaults', () => {
  it('resolves a minimal config with every default', async () => {
    await writeConfig(BASE);
    expect(await load()).toEqual({
      file,
      clientId: CLIENT_ID,
      authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com',
      knownAuthorityHost: null,
      credential: { kind: 'secret', secret: SECRET, source: 'config' },
      redirectUri: DEFAULTS.redirectUri,
      ewsUrl: DEFAULTS.ewsUrl,
      ewsScope: DEFAULTS.ewsScope,
      graphUrl: DEFAULTS.graphUrl,
      graphScope: DEFAULTS.graphScope,
      backend: 'auto',
      extensionIds: [],
      pollIntervalSeconds: 60,
      realtime: true,
      notifyCommand: null,
      cacheKeyFile: null,
    });
  });

  it('trusts a non-Microsoft authority as known, with its port, and strips the trailing slash', async () => {
    await writeConfig({ clientId: 'emulator-client', authority: 'https://localhost:8443/tenant-1/', clientSecret: SECRET });
    expect(await load()).toMatchObject({ clientId: 'emulator-client', authority: 'https://localhost:8443/tenant-1', knownAuthorityHost: 'localhost:8443' });
  });

  it('leaves knownAuthorityHost null for a Microsoft national cloud authority', async () => {
    await writeConfig({ clientId: CLIENT_ID, authority: 'https://login.microsoftonline.us/contoso.us', clientSecret: SECRET });
    expect((await load()).knownAuthorityHost).toBeNull();
  });

  it('takes every key when all are given', async () => {
    const all = {
      ...BASE,
      redirectUri: 'http://127.0.0.1:53100/callback',
      ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx',
      ewsScope: 'https://mail.contoso.example/EWS.AccessAsUser.All',
      graphUrl: 'https://graph.microsoft.us/v1.0/',
      graphScope: 'https://graph.microsoft.us/Mail.ReadBasic https://graph.microsoft.us/User.Read',
      backend: 'graph',
      extensionIds: ['abcdefghijklmnopabcdefghijklmnop', 'ews-daemon@example.org', '{6e1f0a52-7b3c-4d8e-9f10-2a3b4c5d6e7f}'],
      pollIntervalSeconds: 300,
      realtime: false,
      notifyCommand: ['notify-send', 'ews-daemon'],
    };
    await writeConfig(all);
    const { tenant: _tenant, clientSecret: _secret, ...keys } = all;
    expect(await load()).toMatchObject({ ...keys, graphUrl: 'https://graph.microsoft.us/v1.0' });
  });

  it.each(['http://localhost:53100/callback', 'http://127.0.0.1:9/cb', 'http://[::1]:53100/callback', 'https://app.contoso.example/callback'])('accepts the Reply URL %s', async (redirectUri) => {
    await writeConfig({ ...BASE, redirectUri });
    expect((await load()).redirectUri).toBe(redirectUri);
  });

  it('tolerates a byte-order mark', async () => {
    await writeConfig(`\uFEFF${JSON.stringify(BASE)}`);
    expect((await load()).clientId).toBe(CLIENT_ID);
  });
});

describe('loadConfig: problems', () => {
  it('reports every problem at once, one per line, naming the file, key, value and expectation', async () => {
    await writeConfig({ clientId: CLIENT_ID, authority: 'http://login.example.com/x', clientSecret: SECRET, backend: 'EWS', pollIntervalSeconds: 2, redirectUri: 'http://example.com/cb', extensionIds: ['nope'], graphUrl: 'ftp://x' });
    const lines = (await refusal()).message.split('\n');
    expect(lines).toEqual([
      `${file}: "authority" must be an https URL (got "http://login.example.com/x")`,
      `${file}: "redirectUri" must be an https URL, or http on localhost, 127.0.0.1 or [::1], without a #fragment (got "http://example.com/cb")`,
      `${file}: "graphUrl" must be an https URL (got "ftp://x")`,
      `${file}: "backend" must be one of "ews", "graph", "auto" (got "EWS")`,
      `${file}: "extensionIds[0]" must be a Chromium extension id (32 letters a–p) or a Firefox add-on id (name@domain or {GUID}) (got "nope")`,
      `${file}: "pollIntervalSeconds" must be a whole number of seconds from 5 to 86400 (got 2)`,
    ]);
  });

  it.each([
    ['clientID', 'clientId'],
    ['tennant', 'tenant'],
    ['ewsURL', 'ewsUrl'],
  ])('suggests the closest known key for the typo %s', async (typo, known) => {
    await writeConfig({ ...BASE, [typo]: 'x' });
    expect((await refusal()).message).toContain(`unknown key "${typo}" (did you mean "${known}"?); known keys: clientId, tenant, authority`);
  });

  it.each([
    ['both tenant and authority', { ...BASE, authority: 'https://login.microsoftonline.com/x' }, 'give "tenant" or "authority", not both'],
    ['neither tenant nor authority', { clientId: CLIENT_ID, clientSecret: SECRET }, '"tenant" (the tenant\'s id or domain) or "authority" (an https URL) is required'],
    ['an authority without a tenant', { clientId: CLIENT_ID, authority: 'https://login.microsoftonline.com/', clientSecret: SECRET }, '"authority" must be an https URL ending in the tenant'],
    ['a tenant that is no id or domain', { ...BASE, tenant: 'not a tenant' }, '"tenant" must be the tenant\'s id (a GUID) or a domain'],
    ['no clientId', { tenant: 'contoso.com', clientSecret: SECRET }, '"clientId" (the app registration\'s Application (client) ID) is required'],
    ['a clientId that is no GUID for Entra', { ...BASE, clientId: 'my-app' }, '"clientId" must be the Application (client) ID, a GUID'],
    ['two credentials', { ...BASE, clientSecretFile: 'secret.txt' }, 'give one credential, not several (found "clientSecret" and "clientSecretFile")'],
    ['a clientSecret that is a number', { ...BASE, clientSecret: 42 }, '"clientSecret" must be a non-empty string (got a number)'],
    ['scopes of two resources', { ...BASE, ewsScope: 'https://outlook.office365.com/EWS.AccessAsUser.All https://graph.microsoft.com/Mail.Read' }, '"ewsScope" must be one resource\'s https scope(s)'],
    ['a certificate with a stray key', { ...BASE, clientSecret: undefined, certificate: { privateKeyPath: 'k', certificatePath: 'c', password: 'x' } }, 'unknown key "certificate.password"'],
    ['a top-level array', [BASE], 'must hold a JSON object ({ … }), got an array'],
  ])('refuses %s', async (_what, value, message) => {
    await writeConfig(value);
    expect((await refusal()).message).toContain(message);
  });

  it('takes a config with no credential as a public client, readable by others (it holds no secret)', async () => {
    await writeConfig({ clientId: CLIENT_ID, tenant: 'contoso.com' }, 0o644);
    expect((await load()).credential).toEqual({ kind: 'none' });
  });

  it('gives line and column for text that is not JSON, without quoting it', async () => {
    await writeConfig(`{\n  "clientId": "${CLIENT_ID}",\n  "clientSecret": "${SECRET}" "tenant": "x"\n}`);
    expect((await refusal()).message).toBe(`${file}: is not valid JSON at line 3, column ${22 + SECRET.length}: expected ',' or '}' (JSON allows no comments and no trailing commas)`);
  });

  it('says where it looked for a missing config file and how to get one', async () => {
    const e = await refusal();
    expect(e.message).toBe(`${file}: no config file there.`);
    expect(e.data.advice).toMatch(/npm run emulator/);
    expect(e.data.advice).toMatch(/README/);
  });

  it('names the errno of a config file it may not read', async () => {
    const denied: ConfigFs = { ...nodeFileSystem, readText: async () => Promise.reject(Object.assign(new Error('denied'), { code: 'EACCES' })) };
    expect((await refusal({ fs: denied })).message).toBe(`${file}: cannot be read (EACCES: permission denied)`);
  });
});

describe('loadConfig: secrets others can read', () => {
  it('refuses a group-readable config holding clientSecret, with the exact chmod', async () => {
    await writeConfig(BASE, 0o644);
    const e = await refusal();
    expect(e.message).toBe(`${file}: the config file holds "clientSecret" but can be read by other users (mode 0644); fix: chmod 600 '${file}'`);
    expect(e.data.advice).toBe(`Run chmod 600 '${file}', then start again.`);
  });

  it('does not check modes on Windows', async () => {
    await writeConfig(BASE, 0o644);
    expect((await load({ platform: 'win32' })).clientId).toBe(CLIENT_ID);
  });

  it('reads clientSecretFile relative to the config folder and trims it', async () => {
    const secretFile = await write('secret.txt', `${SECRET}\n`);
    await writeConfig({ ...BASE, clientSecret: undefined, clientSecretFile: 'secret.txt' }, 0o644);
    expect((await load()).credential).toEqual({ kind: 'secret', secret: SECRET, source: secretFile });
  });

  it('refuses a clientSecretFile others can read, and one that is missing or empty', async () => {
    const open = await write('open.txt', SECRET, 0o640);
    await writeConfig({ ...BASE, clientSecret: undefined, clientSecretFile: 'open.txt' });
    expect((await refusal()).message).toContain(`"clientSecretFile" ${open} can be read by other users (mode 0640); fix: chmod 600 '${open}'`);
    await writeConfig({ ...BASE, clientSecret: undefined, clientSecretFile: 'missing.txt' });
    expect((await refusal()).message).toContain(`"clientSecretFile" ${path.join(dir, 'missing.txt')} cannot be read (ENOENT: no such file)`);
    await write('empty.txt', ' \n');
    await writeConfig({ ...BASE, clientSecret: undefined, clientSecretFile: 'empty.txt' });
    expect((await refusal()).message).toContain('is empty');
  });
});

describe('loadConfig: files and folders others can change', () => {
  const posixOnly = process.platform === 'win32' ? it.skip : it;
  const withSecretFile = async (configMode = 0o600) => {
    const secret = await write('secret.txt', SECRET);
    await writeConfig({ ...BASE, clientSecret: undefined, clientSecretFile: 'secret.txt' }, configMode);
    return secret;
  };

  posixOnly('refuses a config file group or others can write, with the chmod that fixes it', async () => {
    await withSecretFile(0o664);
    const e = await refusal();
    expect(e.message).toBe(`${file}: the config file ${file} can be changed by other users (mode 0664); fix: chmod go-w '${file}'`);
    expect(e.data.advice).toBe(`Run chmod go-w '${file}', then start again.`);
  });

  posixOnly('refuses a config in a folder others can write, naming the folder', async () => {
    await withSecretFile();
    await fs.chmod(dir, 0o777);
    expect((await refusal()).message).toBe(`${file}: the folder ${dir} (holding the config file) can be changed by other users (mode 0777); fix: chmod go-w '${dir}'`);
  });

  posixOnly('accepts a sticky shared folder above (like /tmp), whose entries others cannot replace', async () => {
    await withSecretFile();
    await fs.chmod(dir, 0o1777);
    expect((await load()).clientId).toBe(CLIENT_ID);
  });

  // Giving a file to another user takes root (chown): an ordinary user's run skips this one.
  const asRoot = process.getuid?.() === 0;
  it.skipIf(!asRoot)(`refuses a secret file that belongs to another user${asRoot ? '' : ' (skipped: only root can give a file to another user)'}`, async () => {
    const secret = await withSecretFile();
    await fs.chown(secret, 65534, 65534);
    const uid = process.getuid!();
    const refused = await refusal({ uid });
    expect(refused.message).toContain(`"clientSecretFile" ${secret} belongs to another user (uid 65534); fix (as root): chown `);
  });

  posixOnly('refuses a certificate that others can write', async () => {
    await withSecretFile();
    const cert = await write('cert.pem', 'not read before the check', 0o666);
    await writeConfig({ clientId: CLIENT_ID, tenant: 'contoso.com', certificate: { privateKeyPath: 'secret.txt', certificatePath: cert } });
    expect((await refusal()).message).toContain(`"certificate.certificatePath" ${cert} can be changed by other users (mode 0666); fix: chmod go-w '${cert}'`);
  });
});

describe('loadConfig: certificates', () => {
  let rsa: { privateKey: KeyObject; publicKey: KeyObject };
  let other: { privateKey: KeyObject; publicKey: KeyObject };
  beforeAll(() => {
    // 1024 bits: fast to make, and the loader does not judge key size.
    rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    other = generateKeyPairSync('rsa', { modulusLength: 1024 });
  });

  function certificatePem(key: { privateKey: KeyObject; publicKey: KeyObject }, notBefore: number, notAfter: number): string {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(key.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(notBefore);
    cert.validity.notAfter = new Date(notAfter);
    cert.setSubject([{ name: 'commonName', value: 'ews-daemon test' }]);
    cert.setIssuer([{ name: 'commonName', value: 'ews-daemon test' }]);
    cert.sign(forge.pki.privateKeyFromPem(key.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  }

  async function certConfig(opts: { certPem?: string; keyPem?: string; keyMode?: number } = {}) {
    const certPem = opts.certPem ?? certificatePem(rsa, NOW - DAY, NOW + 365 * DAY);
    await write('cert.pem', certPem, 0o644);
    await write('key.pem', opts.keyPem ?? rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), opts.keyMode ?? 0o600);
    await writeConfig({ clientId: CLIENT_ID, tenant: 'contoso.com', certificate: { privateKeyPath: 'key.pem', certificatePath: path.join(dir, 'cert.pem') } }, 0o644);
    return certPem;
  }

  it('computes the SHA-256 thumbprint, x5c and validity from the certificate', async () => {
    const pem = await certConfig();
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const credential = (await load()).credential;
    expect(credential).toMatchObject({
      kind: 'certificate',
      thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
      x5c: der.toString('base64'),
      certificatePem: pem,
      privateKeyPath: path.join(dir, 'key.pem'),
      certificatePath: path.join(dir, 'cert.pem'),
      notBefore: Math.floor((NOW - DAY) / 1000) * 1000,
      notAfter: Math.floor((NOW + 365 * DAY) / 1000) * 1000,
    });
    expect(credential.kind === 'certificate' && credential.privateKeyPem).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}\n/);
  });

  it.each([
    ['an expired certificate', () => ({ certPem: certificatePem(rsa, NOW - 400 * DAY, NOW - DAY) }), /expired on 2026-11-23T07:00:00\.000Z/],
    ['a certificate not valid yet', () => ({ certPem: certificatePem(rsa, NOW + DAY, NOW + 400 * DAY) }), /is not valid before 2026-11-25/],
    ['a key that does not belong to the certificate', () => ({ keyPem: other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }), /does not belong to the certificate/],
    ['a passphrase-protected key', () => ({ keyPem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString() }), /encrypted with a passphrase/],
    ['an EC key', () => ({ keyPem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }), /holds a ec key; Entra ID certificate credentials need RSA/],
    ['a certificate file without a certificate', () => ({ certPem: 'hello' }), /holds no PEM certificate/],
    ['a private key others can read', () => ({ keyMode: 0o644 }), /"certificate\.privateKeyPath" .*key\.pem can be read by other users \(mode 0644\); fix: chmod 600 '.*key\.pem'/],
  ])('refuses %s', async (_what, make, message) => {
    await certConfig(make());
    const e = await refusal();
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/PRIVATE KEY/);
  });
});

describe('locateJsonError', () => {
  it.each([
    ['{"a": 1,}', 8, 'a trailing comma'],
    ['{\n "a": 1 // why\n}', 10, 'comments are not allowed'],
    ['{"a": tru}', 6, 'expected a value'],
    ['{"a": "x', 8, 'the file ends too early'],
    ["{'a': 1}", 1, 'expected a property name in double quotes'],
    ['{"a":1}}', 7, 'unexpected text after the end'],
  ])('finds the error in %j at offset %i', (text, offset, reason) => {
    expect(locateJsonError(text)).toMatchObject({ offset, reason: expect.stringContaining(reason) });
  });

  it('finds nothing wrong in valid JSON', () => {
    expect(locateJsonError('{"a":[1,-2.5e3,{"b":null}],"c":"q\\"uote","d":true}')).toBeNull();
  });
});

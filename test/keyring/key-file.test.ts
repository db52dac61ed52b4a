// The token cache where no keyring answers (a headless server, no D-Bus session): plain and
// said so with the fix; then a key file named in config seals it in place with no new sign-in;
// a wrong key is a clear error that leaves the cache's bytes as they were; a systemd credential
// is a key source too. Real daemon and CLI processes against the emulator.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { startStack, type Stack } from '../support/stack';
import { filesHolding, readCache, SEALED_MAGIC } from './state-files';

const ALICE = 'alice@contoso.example';
const posixOnly = process.platform === 'win32' ? it.skip : it;

/** No keyring can answer (the stack's session bus leads nowhere, as on a server), no systemd credential. */
function withoutKeyring(stack: Stack): void {
  expect(stack.env.DBUS_SESSION_BUS_ADDRESS).toMatch(/nonexistent/);
  delete stack.env.CREDENTIALS_DIRECTORY;
}

async function tokenStrings(stack: Stack): Promise<string[]> {
  const access = (await stack.cli(['token'])).stdout.trim();
  expect(access.split('.')).toHaveLength(3);
  return [access, ...stack.emulator.admin.issuedRefreshTokens(ALICE)];
}

describe('the token cache without a keyring, then with a key file', () => {
  let stack: Stack;
  let keyFile: string;
  beforeAll(async () => {
    stack = await startStack();
    withoutKeyring(stack);
    keyFile = path.join(stack.home, 'keys', 'cache.key');
  });
  afterAll(async () => stack?.close());

  it('keeps a plain cache and says so, with the fix, in status, tokens, doctor', async () => {
    await stack.signIn();
    const status = await stack.json<StatusResult>(['status']);
    expect(status.cacheKey).toMatchObject({ kind: 'none', advice: expect.stringMatching(/no OS keyring answered.*cacheKeyFile/s) });
    expect((await readCache(stack.home)).toString('utf8')).toMatch(/^\{/);
    expect((await stack.cli(['status'])).stdout).toMatch(/Token cache: NOT encrypted\. .*"cacheKeyFile"/);
    expect((await stack.cli(['tokens'])).stdout).toMatch(/Token cache: NOT encrypted/);
    const doctor = await stack.cli(['doctor']);
    expect(doctor.stdout).toMatch(/\[warn\] token cache key: none: the token cache is stored unencrypted.*-> fix: .*cacheKeyFile/);
  });

  it('refuses `secret set` with no keyring, naming the alternative', async () => {
    const r = await stack.cli(['secret', 'set', '--json'], { input: 'some-secret\n' });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.data).toMatchObject({ code: 'keyring_unavailable', advice: expect.stringMatching(/clientSecretFile/) });
  });

  it('refuses an empty secret, or one with control characters, before asking any keyring', async () => {
    const empty = await stack.cli(['secret', 'set'], { input: '\n' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no secret was given on stdin/);
    const escape = await stack.cli(['secret', 'set'], { input: 'abc\u001b[31mdef\n' });
    expect(escape.code).toBe(2);
    expect(escape.stderr).toMatch(/holds control characters/);
    expect(escape.stderr).not.toContain('abc');
  });

  posixOnly('refuses a key file others can read, with the chmod that fixes it', async () => {
    await fs.mkdir(path.dirname(keyFile), { mode: 0o700 });
    await fs.writeFile(keyFile, randomBytes(32).toString('hex'), { mode: 0o644 });
    await fs.chmod(keyFile, 0o644);
    await stack.stopDaemon();
    await stack.writeConfig({ cacheKeyFile: keyFile });
    const status = await stack.json<StatusResult>(['status']);
    expect(status.cacheKey?.error).toMatchObject({ code: 'config_invalid', advice: `Run \`chmod 600 ${keyFile}\`.` });
    expect((await readCache(stack.home)).toString('utf8')).toMatch(/^\{/); // left as it was
  });

  it('encrypts the plain cache in place on the next start, with no new sign-in', async () => {
    await fs.chmod(keyFile, 0o600);
    await stack.stopDaemon();
    const before = stack.emulator.admin.stats().authorizeRequests;
    stack.emulator.admin.setMailbox(ALICE, { total: 4900, unread: 3 });
    expect(await stack.json<InboxCount>(['inbox', '--max-age', '0'])).toMatchObject({ total: 4900, unread: 3 });
    expect(stack.emulator.admin.stats().authorizeRequests).toBe(before);
    expect((await readCache(stack.home)).subarray(0, 8).toString('latin1')).toBe(SEALED_MAGIC);
    const status = await stack.json<StatusResult>(['status']);
    expect(status.cacheKey).toEqual({ kind: 'file', where: keyFile });
    expect((await stack.cli(['tokens'])).stdout).toContain(`Token cache: encrypted; key in the file ${keyFile} ("cacheKeyFile").`);
    // The plain copy is gone too: no file under the folder holds a token string.
    expect(await filesHolding(stack.home, await tokenStrings(stack))).toEqual([]);
  });

  it('says the key is wrong, and keeps the cache bytes, when the key file changed', async () => {
    await stack.stopDaemon();
    const bytes = await readCache(stack.home);
    const rightKey = await fs.readFile(keyFile);
    await fs.writeFile(keyFile, randomBytes(32));
    const inbox = await stack.cli(['inbox', '--json']);
    expect(JSON.parse(inbox.stdout).error.data).toMatchObject({ code: 'cache_key_wrong', advice: expect.stringMatching(/right key/) });
    expect((await stack.cli(['status'])).stdout).toMatch(/Token cache: cannot be read \(cache_key_wrong\)/);
    const doctor = await stack.cli(['doctor']);
    expect(doctor.stdout).toMatch(/\[FAIL\] token cache key: The token cache is encrypted under another key/);
    const begun = await stack.json<{ authUrl: string }>(['consent', 'begin', '--login-hint', ALICE]);
    const done = await stack.cli(['consent', 'complete', await stack.followAuthUrl(begun.authUrl), '--json']);
    expect(JSON.parse(done.stdout).error.data.code).toBe('cache_key_wrong');
    expect((await readCache(stack.home)).equals(bytes)).toBe(true);
    expect((await fs.readdir(stack.home)).filter((n) => n.includes('corrupt'))).toEqual([]);

    // The right key back: the same daemon reads the cache on the next call, no restart.
    const pid = await stack.daemonPid();
    await fs.writeFile(keyFile, rightKey);
    expect(await stack.json<InboxCount>(['inbox'])).toMatchObject({ account: ALICE });
    expect(await stack.daemonPid()).toBe(pid);
    expect((await stack.json<StatusResult>(['status'])).cacheKey).toEqual({ kind: 'file', where: keyFile });
  });
});

describe('the key as a systemd credential', () => {
  let stack: Stack;
  let credentials: string;
  beforeAll(async () => {
    stack = await startStack();
    withoutKeyring(stack);
    credentials = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-creds-'));
    // As LoadCredential= leaves it: a file named after the credential, here in base64.
    await fs.writeFile(path.join(credentials, 'ews-daemon-cache-key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o400 });
    stack.env.CREDENTIALS_DIRECTORY = credentials;
  });
  afterAll(async () => {
    await stack?.close();
    await fs.rm(credentials, { recursive: true, force: true });
  });

  it('seals the cache with it and says where the key is', async () => {
    await stack.signIn();
    const status = await stack.json<StatusResult>(['status']);
    expect(status.cacheKey).toEqual({ kind: 'systemd', where: path.join(credentials, 'ews-daemon-cache-key') });
    expect((await readCache(stack.home)).subarray(0, 8).toString('latin1')).toBe(SEALED_MAGIC);
    expect(await filesHolding(stack.home, await tokenStrings(stack))).toEqual([]);
  });
});

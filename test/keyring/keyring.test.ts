// The token cache at rest, as a user meets it: with a real Secret Service (gnome-keyring in its
// own D-Bus session) the daemon signs in against the emulator and no file under its folder holds
// a token string; a restart needs no new sign-in; a locked keyring is a clear error that leaves
// the cache's bytes as they were; the client secret can live in the keyring too.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult, TokensViewResult } from '../../shared/protocol';
import { openCache } from '../../host/src/auth/cache-crypto';
import { LAUNCHER, startStack, type Stack } from '../support/stack';
import { filesHolding, readCache, SEALED_MAGIC } from './state-files';
import { secretServiceMissing, startSecretService, type SecretService } from './secret-service';

const ALICE = 'alice@contoso.example';
const PTY_RUN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pty-run.py');
const missing = secretServiceMissing();
/** A suite skipped on purpose says why in its name (scripts/test.mjs lists the reasons). */
const skipNote = missing ? ` (skipped: ${missing})` : '';

/** Every token string the emulator issued to alice, and the access token the daemon holds. */
async function tokenStrings(stack: Stack): Promise<string[]> {
  const access = (await stack.cli(['token'])).stdout.trim();
  const refresh = stack.emulator.admin.issuedRefreshTokens(ALICE);
  expect(access.split('.')).toHaveLength(3);
  expect(refresh.length).toBeGreaterThan(0);
  return [access, ...refresh];
}

describe.skipIf(missing !== null)(`the token cache with the OS keyring (gnome-keyring over D-Bus)${skipNote}`, () => {
  let stack: Stack;
  let keyring: SecretService;
  let dataDir: string;
  const useKeyring = (k: SecretService) => {
    keyring = k;
    Object.assign(stack.env, k.env);
  };

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-keyrings-'));
    stack = await startStack();
    useKeyring(await startSecretService({ dataDir, unlocked: true }));
  });
  afterAll(async () => {
    await stack?.close();
    await keyring?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('signs in, and no file under the state folder holds a token string', async () => {
    await stack.signIn();
    const status = await stack.json<StatusResult>(['status']);
    expect(status.cacheKey).toEqual({ kind: 'keyring', where: 'OS keyring' });
    expect((await readCache(stack.home)).subarray(0, 8).toString('latin1')).toBe(SEALED_MAGIC);
    expect(await filesHolding(stack.home, await tokenStrings(stack))).toEqual([]);
    expect((await stack.cli(['status'])).stdout).toMatch(/Token cache: encrypted; key in the OS keyring/);
    const view = await stack.json<TokensViewResult>(['tokens']);
    expect(view.entries.some((e) => e.kind === 'refresh-token')).toBe(true);
    expect((await stack.cli(['tokens'])).stdout).toMatch(/key in the OS keyring/);
  });

  it('is still signed in after a restart, with no new sign-in', async () => {
    const before = stack.emulator.admin.stats().authorizeRequests;
    await stack.stopDaemon();
    stack.emulator.admin.setMailbox(ALICE, { total: 5000, unread: 7 });
    expect(await stack.json<InboxCount>(['inbox', '--max-age', '0'])).toMatchObject({ total: 5000, unread: 7 });
    expect(stack.emulator.admin.stats().authorizeRequests).toBe(before);
  });

  it('uses the client secret kept in the keyring by `secret set`, which never prints it', async () => {
    const secret = stack.emulator.clientSecret;
    const set = await stack.cli(['secret', 'set'], { input: `${secret}\n` });
    expect(set.code).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(secret);
    await stack.stopDaemon();
    await stack.writeConfig({ clientSecret: undefined, clientSecretFrom: 'keyring' });
    const refreshes = stack.emulator.admin.stats().tokenRequests.refresh_token;
    expect((await stack.cli(['token', '--force-refresh'])).code).toBe(0);
    expect(stack.emulator.admin.stats().tokenRequests.refresh_token).toBe(refreshes + 1);
    expect(await filesHolding(stack.home, [secret])).toEqual([]);

    expect((await stack.cli(['secret', 'delete'])).stdout).toMatch(/Deleted the client secret/);
    await stack.stopDaemon();
    const r = await stack.cli(['status', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(/holds no client secret for .*ews-daemon secret set/s);
    await stack.writeConfig({});
  });

  it('reads the secret typed at a terminal without echoing it', async () => {
    const typed = `typed-${stack.emulator.clientSecret}`;
    const pty = spawnSync('python3', [PTY_RUN, JSON.stringify([`${typed}\r`]), process.execPath, LAUNCHER, 'secret', 'set'], { env: { ...stack.env }, encoding: 'utf8' });
    const { output, code } = JSON.parse(pty.stdout) as { output: string; code: number };
    expect(code).toBe(0);
    expect(output).toMatch(/Client secret \(not shown; Enter to finish\):/);
    expect(output).toMatch(/Stored the client secret of/);
    expect(output).not.toContain(typed);
    expect((await stack.cli(['secret', 'delete'])).stdout).toMatch(/Deleted the client secret/);
  });

  it('says the keyring is locked, and keeps the cache bytes, when it cannot be opened', async () => {
    const bytes = await readCache(stack.home);
    await stack.stopDaemon();
    keyring.lock();
    const inbox = await stack.cli(['inbox', '--json']);
    expect(inbox.code).toBe(1);
    expect(JSON.parse(inbox.stdout).error.data).toMatchObject({ code: 'keyring_locked', advice: expect.stringMatching(/Unlock/) });
    const status = await stack.json<StatusResult>(['status']);
    expect(status.cacheKey?.error?.code).toBe('keyring_locked');
    expect((await stack.cli(['status'])).stdout).toMatch(/Token cache: cannot be read \(keyring_locked\).*Fix: Unlock/);
    // A new sign-in cannot write a fresh cache over the one it could not read.
    const begun = await stack.json<{ authUrl: string }>(['consent', 'begin', '--login-hint', ALICE]);
    const done = await stack.cli(['consent', 'complete', await stack.followAuthUrl(begun.authUrl), '--json']);
    expect(JSON.parse(done.stdout).error.data.code).toBe('keyring_locked');
    await stack.stopDaemon();
    expect((await readCache(stack.home)).equals(bytes)).toBe(true);
    expect((await fs.readdir(stack.home)).filter((n) => n.includes('corrupt'))).toEqual([]);
  });

  it('reads the cache again after the next login unlocks the keyring', async () => {
    await keyring.stop();
    useKeyring(await startSecretService({ dataDir, unlocked: true }));
    const before = stack.emulator.admin.stats().authorizeRequests;
    expect(await stack.json<InboxCount>(['inbox'])).toMatchObject({ account: ALICE });
    expect(stack.emulator.admin.stats().authorizeRequests).toBe(before);
  });

  it('moves the cache to a key file set later (a desktop setup moving to a headless one), with no new sign-in', async () => {
    const keyFile = path.join(dataDir, 'cache.key');
    const fileKey = randomBytes(32);
    await fs.writeFile(keyFile, fileKey, { mode: 0o600 });
    await stack.stopDaemon();
    await stack.writeConfig({ cacheKeyFile: keyFile });
    const before = stack.emulator.admin.stats().authorizeRequests;
    expect(await stack.json<InboxCount>(['inbox', '--max-age', '0'])).toMatchObject({ account: ALICE });
    expect(stack.emulator.admin.stats().authorizeRequests).toBe(before);
    expect((await stack.json<StatusResult>(['status'])).cacheKey).toEqual({ kind: 'file', where: keyFile });
    expect(openCache(await readCache(stack.home), { key: fileKey, source: 'file', where: keyFile })).toMatchObject({ kind: 'sealed' });
  });
});

describe.skipIf(missing !== null)(`a keyring that is locked when the daemon starts${skipNote}`, () => {
  let stack: Stack;
  let keyring: SecretService | undefined;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-keyrings-'));
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
    await keyring?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  const session = async (unlocked: boolean) => {
    await keyring?.stop();
    keyring = await startSecretService({ dataDir, unlocked });
    Object.assign(stack.env, keyring.env);
  };

  /** Status names the locked keyring; a sign-in is refused rather than kept in plain text. */
  async function expectRefused(): Promise<void> {
    const status = await stack.json<StatusResult>(['status']);
    expect(status.cacheKey).toMatchObject({ kind: 'keyring', error: { code: 'keyring_locked' } });
    const begun = await stack.json<{ authUrl: string }>(['consent', 'begin', '--login-hint', ALICE]);
    const done = await stack.cli(['consent', 'complete', await stack.followAuthUrl(begun.authUrl), '--json']);
    expect(JSON.parse(done.stdout).error.data).toMatchObject({ code: 'keyring_locked', advice: expect.stringMatching(/cacheKeyFile/) });
    await expect(fs.stat(path.join(stack.home, 'token-cache.json'))).rejects.toThrow(/ENOENT/);
    await stack.stopDaemon();
  }

  it('a fresh keyring never unlocked (gnome-keyring-daemon --start): no key can be stored', async () => {
    await session(false);
    await expectRefused();
  });

  it('a login keyring that exists but was not unlocked at login', async () => {
    await session(true); // the first login makes the login keyring
    await session(false);
    await expectRefused();
  });
});

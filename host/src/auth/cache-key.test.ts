// Which key source wins, and what each failure says. The keyring here is an in-memory Keyring
// (the real Secret Service is tested in test/keyring/); files are real.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../io/node-fs';
import { resolveCacheKey, SYSTEMD_CREDENTIAL, type CacheKeySources } from './cache-key';
import { CACHE_KEY_ENTRY, KeyringError, type Keyring } from './keyring';

class MemoryKeyring implements Keyring {
  readonly entries = new Map<string, string>();
  failure: KeyringError | null = null;
  failWrites: KeyringError | null = null;
  async get(entry: string) {
    if (this.failure) throw this.failure;
    return this.entries.get(entry) ?? null;
  }
  async set(entry: string, value: string) {
    if (this.failure ?? this.failWrites) throw this.failure ?? this.failWrites;
    this.entries.set(entry, value);
  }
  async delete(entry: string) {
    return this.entries.delete(entry);
  }
}

let dir: string;
let keyring: MemoryKeyring;
const posixOnly = process.platform === 'win32' ? it.skip : it;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cache-key-'));
  keyring = new MemoryKeyring();
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const sources = (over: Partial<CacheKeySources> = {}): CacheKeySources => ({ cacheKeyFile: null, credentialsDirectory: undefined, keyring, fs: nodeFileSystem, ...over });

async function keyFile(name: string, content: Buffer | string, mode = 0o600): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, content, { mode });
  await fs.chmod(file, mode);
  return file;
}

describe('resolveCacheKey', () => {
  it('makes a key in the keyring on first use, and finds the same one next time', async () => {
    const first = await resolveCacheKey(sources(), { create: true });
    expect(first).toMatchObject({ kind: 'key', key: { source: 'keyring', where: 'OS keyring' } });
    expect(keyring.entries.get(CACHE_KEY_ENTRY)).toHaveLength(44); // base64 of 32 bytes
    const again = await resolveCacheKey(sources(), { create: true });
    expect(again.kind === 'key' && first.kind === 'key' && again.key.key.equals(first.key.key)).toBe(true);
  });

  it('never makes a key while a sealed cache exists: that would orphan it', async () => {
    const r = await resolveCacheKey(sources(), { create: false });
    expect(r).toMatchObject({ kind: 'error', source: 'keyring', error: { code: 'cache_key_missing' } });
    expect(keyring.entries.size).toBe(0);
  });

  it('prefers cacheKeyFile, then the systemd credential, then the keyring', async () => {
    const file = await keyFile('k', randomBytes(32));
    await keyFile(SYSTEMD_CREDENTIAL, randomBytes(32).toString('hex'), 0o400);
    expect(await resolveCacheKey(sources({ cacheKeyFile: file, credentialsDirectory: dir }), { create: true })).toMatchObject({ kind: 'key', key: { source: 'file', where: file } });
    expect(await resolveCacheKey(sources({ credentialsDirectory: dir }), { create: true })).toMatchObject({ kind: 'key', key: { source: 'systemd', where: path.join(dir, SYSTEMD_CREDENTIAL) } });
    // A credentials folder without our credential: on to the keyring.
    const empty = await fs.mkdtemp(path.join(dir, 'creds-'));
    expect(await resolveCacheKey(sources({ credentialsDirectory: empty }), { create: true })).toMatchObject({ kind: 'key', key: { source: 'keyring' } });
  });

  it('falls back to a plain cache only when no keyring answers, saying what was tried and the fix', async () => {
    keyring.failure = new KeyringError('unavailable', 'AccessDenied');
    expect(await resolveCacheKey(sources(), { create: true })).toEqual({
      kind: 'none',
      why: 'no OS keyring answered (AccessDenied), no "cacheKeyFile" in config.json, no systemd credential',
      advice: expect.stringMatching(/cacheKeyFile.*head -c 32 \/dev\/urandom.*LoadCredentialEncrypted/s),
    });
  });

  it('is an error, not a plain cache, when the keyring is locked or will not store', async () => {
    keyring.failure = new KeyringError('locked', 'Secret Service: unlock prompt was dismissed');
    expect(await resolveCacheKey(sources(), { create: true })).toMatchObject({ kind: 'error', error: { code: 'keyring_locked', data: { retryable: true } } });
    keyring.failure = null;
    keyring.failWrites = new KeyringError('unavailable', 'Secret Service: no result found');
    const r = await resolveCacheKey(sources(), { create: true });
    expect(r).toMatchObject({ kind: 'error', error: { code: 'keyring_locked', message: expect.stringMatching(/would not store the key/) } });
  });

  it('refuses a missing key file or bad content, with the fix', async () => {
    const missing = path.join(dir, 'nope');
    expect(await resolveCacheKey(sources({ cacheKeyFile: missing }), { create: true })).toMatchObject({
      kind: 'error',
      error: { code: 'config_invalid', message: `"cacheKeyFile" ${missing}: no such file.`, data: { advice: expect.stringMatching(/head -c 32 \/dev\/urandom > .*chmod 600/) } },
    });
    const short = await keyFile('short', 'hunter2');
    expect(await resolveCacheKey(sources({ cacheKeyFile: short }), { create: true })).toMatchObject({ kind: 'error', error: { message: expect.stringMatching(/holds 7 bytes; it must hold 32 random bytes/) } });
  });

  posixOnly('refuses a key file others can read, naming the chmod', async () => {
    const open = await keyFile('open', randomBytes(32), 0o640);
    expect(await resolveCacheKey(sources({ cacheKeyFile: open }), { create: true })).toMatchObject({
      kind: 'error',
      error: { code: 'config_invalid', message: `"cacheKeyFile" ${open}: others may read it (mode 640).`, data: { advice: `Run \`chmod 600 ${open}\`.` } },
    });
  });
});

// The token store with a key: real MSAL over a real file. Sealed writes, a plain cache sealed
// in place, and a cache under another key (or none) never loaded as empty nor written over.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { FakeClock } from '../../../test/support/fake-clock';
import { FakeLog } from '../../../test/support/fakes';
import { makeCacheJson, type FixtureAccount } from '../../../test/token-store/msal-cache-fixture';
import { offlineApp } from '../../../test/token-store/offline-app';
import { isSealed, openCache, seal, type CacheKey } from './cache-crypto';
import { missingKey, type KeyResolution } from './cache-key';
import { removeCorruptCopies } from '../daemon/corrupt-copies';
import { TokenStore } from './token-store';
import { nodeFileSystem } from '../io/node-fs';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const alice: FixtureAccount = { uid: 'aaaa', utid: 'tenant', username: 'alice@contoso.example', name: 'Alice' };
const bob: FixtureAccount = { uid: 'bbbb', utid: 'tenant', username: 'bob@contoso.example', name: 'Bob' };
/** Time stands still: a sleep (the background retry of a failed write) never ends. */
const clock = new FakeClock(Date.UTC(2025, 0, 2));
const log = new FakeLog();
const messages = () => log.lines.map((l) => l.msg);

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'token-store-sealed-'));
  await fs.chmod(dir, 0o700);
  file = path.join(dir, 'token-cache.json');
  log.lines.length = 0;
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const cacheWith = (...accounts: FixtureAccount[]) => makeCacheJson({ clientId: CLIENT_ID, environment: 'localhost:1', accounts, nowSec: Math.floor(Date.now() / 1000) });
const newKey = (): CacheKey => ({ key: randomBytes(32), source: 'file', where: '/keys/cache.key' });
const storeWith = (found: KeyResolution | (() => KeyResolution)) =>
  new TokenStore({ file, log, clock, resolveKey: async () => (typeof found === 'function' ? found() : found) });

const makeApp = (store: TokenStore) => offlineApp(CLIENT_ID, store);
const usernames = async (store: TokenStore) => (await makeApp(store).getTokenCache().getAllAccounts()).map((a) => a.username).sort();

describe('TokenStore with a key', () => {
  it('seals a plain cache in place at open, with the same accounts and no sign-in', async () => {
    const plain = cacheWith(alice, bob);
    await fs.writeFile(file, plain, { mode: 0o600 });
    const key = newKey();
    const store = storeWith({ kind: 'key', key });
    expect(await usernames(store)).toEqual(['alice@contoso.example', 'bob@contoso.example']);
    const bytes = await fs.readFile(file);
    expect(isSealed(bytes)).toBe(true);
    expect(openCache(bytes, key)).toEqual({ kind: 'sealed', text: plain });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(messages()).toContain('encrypted the plain token cache');
    expect(store.keyInfo()).toEqual({ kind: 'file', where: '/keys/cache.key' });
    expect(await fs.readdir(dir)).toEqual(['token-cache.json']); // no temp or lock litter
  });

  it('writes every change sealed, and a second process with the key reads it', async () => {
    const key = newKey();
    const store = storeWith({ kind: 'key', key });
    const app = makeApp(store);
    await app.getTokenCache().getAllAccounts();
    app.getTokenCache().deserialize(cacheWith(alice, bob));
    const aliceAccount = (await app.getTokenCache().getAllAccounts()).find((a) => a.username === alice.username)!;
    await app.getTokenCache().removeAccount(aliceAccount); // a change MSAL writes
    await store.flush();
    const bytes = await fs.readFile(file);
    expect(isSealed(bytes)).toBe(true);
    expect(bytes.toString('latin1')).not.toContain('bob@contoso.example');
    // What the store wrote, opened by another process that holds the key.
    expect(await usernames(storeWith({ kind: 'key', key }))).toEqual(['bob@contoso.example']);
    await fs.writeFile(file, seal(cacheWith(alice), key));
    expect(await usernames(storeWith({ kind: 'key', key }))).toEqual(['alice@contoso.example']);
  });

  it('refuses a cache sealed under another key: an error, not an empty cache, and the bytes stay', async () => {
    await fs.writeFile(file, seal(cacheWith(alice), newKey()), { mode: 0o600 });
    const before = await fs.readFile(file);
    const store = storeWith({ kind: 'key', key: newKey() });
    const app = makeApp(store);
    const err = await app.getTokenCache().getAllAccounts().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('cache_key_wrong');
    expect((err as AppError).message).toMatch(/another key than the one in \/keys\/cache\.key \(it was sealed with the key in the "cacheKeyFile"\)/);
    expect(store.keyInfo().error?.code).toBe('cache_key_wrong');
    await store.flush();
    expect((await fs.readFile(file)).equals(before)).toBe(true);
    expect(await fs.readdir(dir)).toEqual(['token-cache.json']);
  });

  it('refuses a sealed cache when the key is nowhere, and reads it once the key is back', async () => {
    const key = newKey();
    await fs.writeFile(file, seal(cacheWith(alice), key), { mode: 0o600 });
    const before = await fs.readFile(file);
    let found: KeyResolution = { kind: 'none', why: 'no keyring', advice: 'x' };
    const store = storeWith(() => found);
    const app = makeApp(store);
    await expect(app.getTokenCache().getAllAccounts()).rejects.toMatchObject({ code: 'cache_key_missing' });
    found = { kind: 'error', source: 'keyring', error: missingKey('OS keyring') };
    await expect(app.getTokenCache().getAllAccounts()).rejects.toMatchObject({ code: 'cache_key_missing' });
    expect((await fs.readFile(file)).equals(before)).toBe(true);
    found = { kind: 'key', key }; // the keyring unlocked: the next access opens it
    expect((await app.getTokenCache().getAllAccounts()).map((a) => a.username)).toEqual(['alice@contoso.example']);
    expect(store.keyInfo()).toEqual({ kind: 'file', where: '/keys/cache.key' });
  });

  it('moves a cache sealed with the keyring\'s key over to a key file set later, with the same accounts', async () => {
    const keyringKey: CacheKey = { key: randomBytes(32), source: 'keyring', where: 'OS keyring' };
    const fileKey = newKey();
    await fs.writeFile(file, seal(cacheWith(alice), keyringKey), { mode: 0o600 });
    const asked: string[] = [];
    const store = new TokenStore({
      file, log, clock,
      resolveKey: async ({ only }) => (asked.push(only ?? 'first'), { kind: 'key', key: only === 'keyring' ? keyringKey : fileKey }),
    });
    expect(await usernames(store)).toEqual(['alice@contoso.example']);
    expect(asked).toEqual(['first', 'keyring']);
    expect(openCache(await fs.readFile(file), fileKey)).toMatchObject({ kind: 'sealed' });
    expect(messages()).toContain('sealed the token cache again with the new key');
    expect(store.keyInfo()).toEqual({ kind: 'file', where: '/keys/cache.key' });
  });

  it('does not move a cache whose own key no longer fits: the wrong-key error stands', async () => {
    await fs.writeFile(file, seal(cacheWith(alice), { key: randomBytes(32), source: 'keyring', where: 'OS keyring' }), { mode: 0o600 });
    const before = await fs.readFile(file);
    const other: CacheKey = { key: randomBytes(32), source: 'keyring', where: 'OS keyring' };
    const store = new TokenStore({ file, log, clock, resolveKey: async ({ only }) => ({ kind: 'key', key: only === 'keyring' ? other : newKey() }) });
    await expect(makeApp(store).getTokenCache().getAllAccounts()).rejects.toMatchObject({ code: 'cache_key_wrong' });
    expect((await fs.readFile(file)).equals(before)).toBe(true);
  });

  it('moves a damaged sealed cache aside like any corrupt one (the copy is kept)', async () => {
    const key = newKey();
    const sealed = seal(cacheWith(alice), key);
    sealed[sealed.length - 3]! ^= 0xff;
    await fs.writeFile(file, sealed, { mode: 0o600 });
    expect(await usernames(storeWith({ kind: 'key', key }))).toEqual([]);
    const names = await fs.readdir(dir);
    expect(names.filter((n) => n.startsWith('token-cache.json.corrupt-'))).toHaveLength(1);
  });

  it('seals corrupt copies that hold plain tokens: found at open, and made by a quarantine', async () => {
    const key = newKey();
    const old = `${file}.corrupt-20240101T000000000Z`;
    await fs.writeFile(old, '{"RefreshToken": {"x": {"secret": "plain-rt-in-an-old-copy"', { mode: 0o600 });
    await fs.writeFile(file, '{"Account": {"trunc', { mode: 0o600 }); // corrupt now: moved aside at load
    expect(await usernames(storeWith({ kind: 'key', key }))).toEqual([]);
    const copies = (await fs.readdir(dir)).filter((n) => n.includes('.corrupt-')).sort();
    expect(copies).toHaveLength(2);
    for (const name of copies) {
      const bytes = await fs.readFile(path.join(dir, name));
      expect(isSealed(bytes)).toBe(true);
      expect((await fs.stat(path.join(dir, name))).mode & 0o777).toBe(0o600);
    }
    expect(openCache(await fs.readFile(old), key)).toEqual({ kind: 'sealed', text: '{"RefreshToken": {"x": {"secret": "plain-rt-in-an-old-copy"' });
    expect(openCache(await fs.readFile(path.join(dir, copies[1]!)), key)).toEqual({ kind: 'sealed', text: '{"Account": {"trunc' });
  });

  it('lets logout find the signed-out account in a sealed corrupt copy, and remove it', async () => {
    const key = newKey();
    await fs.writeFile(`${file}.corrupt-1`, seal('{"Account":{"x":{"username":"alice@contoso.example"}},"RefreshToken":{"x":{"secret":"rt-al', key), { mode: 0o600 });
    await fs.writeFile(`${file}.corrupt-2`, seal('{"RefreshToken":{"uid-b.tenant-x":{"secret":"rt-bob"', key), { mode: 0o600 });
    const store = storeWith({ kind: 'key', key });
    await usernames(store);
    const removed = await removeCorruptCopies(file, [{ id: 'aaaa.tenant', username: 'alice@contoso.example' }], false, { fs: nodeFileSystem, log, readable: (b) => store.readableCopy(b) });
    expect(removed).toEqual(['token-cache.json.corrupt-1']);
    expect((await fs.readdir(dir)).filter((n) => n.includes('corrupt'))).toEqual(['token-cache.json.corrupt-2']);
  });

  it('keeps the cache plain when no key is found, and says why with the fix', async () => {
    const store = storeWith({ kind: 'none', why: 'no OS keyring answered (x)', advice: 'Set "cacheKeyFile".' });
    const app = makeApp(store);
    await app.getTokenCache().getAllAccounts();
    expect(store.keyInfo()).toEqual({ kind: 'none', advice: 'The token cache is stored unencrypted: no OS keyring answered (x). Set "cacheKeyFile".' });
    app.getTokenCache().deserialize(cacheWith(alice, bob));
    await app.getTokenCache().removeAccount((await app.getTokenCache().getAllAccounts()).find((a) => a.username === alice.username)!);
    await store.flush();
    const written = await fs.readFile(file);
    expect(isSealed(written)).toBe(false);
    expect(Object.keys((JSON.parse(written.toString('utf8')) as { Account: object }).Account)).toHaveLength(1); // bob's, in plain JSON
  });
});

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfidentialClientApplication, TokenCacheContext } from '@azure/msal-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/wait';
import { makeCacheJson, type FixtureAccount } from '../../../test/token-store/msal-cache-fixture';
import { offlineApp } from '../../../test/token-store/offline-app';
import type { Clock, Log, LogFields } from '../deps';
import { TokenStore } from './token-store';

class RecordingLog implements Log {
  readonly lines: { level: string; msg: string; fields?: LogFields }[] = [];
  debug(msg: string, fields?: LogFields) {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields?: LogFields) {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields?: LogFields) {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields?: LogFields) {
    this.lines.push({ level: 'error', msg, fields });
  }
  child() {
    return this;
  }
  at(level: string) {
    return this.lines.filter((l) => l.level === level);
  }
}

const FIXED_NOW = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
/** Time stands still: FIXED_NOW, and a sleep (the background retry of a failed write) never ends. */
const fixedClock: Clock = { now: () => FIXED_NOW, sleep: () => new Promise<void>(() => undefined) };

/** Time stands still until a test lets the waiting sleeps end (`wake`). */
class ManualClock implements Clock {
  readonly waiting: { ms: number; unref: boolean; end: () => void }[] = [];
  now() {
    return FIXED_NOW;
  }
  sleep(ms: number, _signal?: AbortSignal, opts: { unref?: boolean } = {}) {
    return new Promise<void>((end) => this.waiting.push({ ms, unref: opts.unref === true, end }));
  }
  wake() {
    for (const w of this.waiting.splice(0)) w.end();
  }
}
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const SCOPE = 'https://outlook.office365.com/EWS.AccessAsUser.All';
const alice: FixtureAccount = { uid: 'aaaa', utid: 'tenant', username: 'alice@contoso.example', name: 'Alice' };
const bob: FixtureAccount = { uid: 'bbbb', utid: 'tenant', username: 'bob@contoso.example', name: 'Bob' };
const posixOnly = process.platform === 'win32' ? it.skip : it;

let dir: string;
let file: string;
let log: RecordingLog;
const children: { kill(): void }[] = [];
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'token-store-'));
  await fs.chmod(dir, 0o700);
  file = path.join(dir, 'token-cache.json');
  log = new RecordingLog();
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await fs.rm(dir, { recursive: true, force: true });
});

const cacheWith = (...accounts: FixtureAccount[]) =>
  makeCacheJson({ clientId: CLIENT_ID, environment: 'localhost:1', accounts, nowSec: Math.floor(Date.now() / 1000) });

/** No network is needed for cache operations: the authority's metadata is given inline. */
const makeApp = (store: TokenStore) => offlineApp(CLIENT_ID, store);

const newStore = (extra: { lockTimeoutMs?: number; clock?: Clock } = {}) => new TokenStore({ file, log, clock: fixedClock, ...extra });
const usernames = async (app: ConfidentialClientApplication) => (await app.getTokenCache().getAllAccounts()).map((a) => a.username).sort();
const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;

/** Another process replaces the file the way our writers do (temp file, rename). */
function replaceFromAnotherProcess(text: string) {
  const script = "const fs=require('fs');const [f,t]=process.argv.slice(1);fs.writeFileSync(f+'.other',t);fs.renameSync(f+'.other',f)";
  const res = spawnSync(process.execPath, ['-e', script, file, text]);
  expect(res.status).toBe(0);
}

describe('TokenStore with MSAL', () => {
  it('gives MSAL the accounts of a cache file written earlier', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const [account] = await makeApp(newStore()).getTokenCache().getAllAccounts();
    expect(account?.username).toBe('alice@contoso.example');
    expect(account?.idTokenClaims?.preferred_username).toBe('alice@contoso.example');
  });

  it('reads and parses the file once when it is unchanged over 1000 accesses', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const store = newStore();
    const app = makeApp(store);
    for (let i = 0; i < 1000; i++) await app.getTokenCache().getAllAccounts();
    expect(store.stats).toEqual({ reads: 1, parses: 1, writes: 0 });
  });

  it('serves silent tokens from the file without network, re-reading or writing', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const store = newStore();
    const app = makeApp(store);
    const [account] = await app.getTokenCache().getAllAccounts();
    for (let i = 0; i < 200; i++) {
      const result = await app.acquireTokenSilent({ account: account!, scopes: [SCOPE] });
      expect(result.fromCache).toBe(true);
    }
    expect(store.stats).toEqual({ reads: 1, parses: 1, writes: 0 });
  });

  // What makes a warm access cheap: its hooks only stat the file. How cheap is measured by
  // `npm run bench` (daemon.bench.ts: the hooks alone, and a silent token), not here.
  it('neither reads, parses nor writes the file on a warm access (hooks alone)', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const store = newStore();
    const ctx = new TokenCacheContext(makeApp(store).getTokenCache(), false);
    for (let i = 0; i < 2000; i++) {
      await store.beforeCacheAccess(ctx);
      await store.afterCacheAccess(ctx);
    }
    expect(store.stats).toEqual({ reads: 1, parses: 1, writes: 0 });
  });

  it('re-reads the file when another process rewrote it', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const store = newStore();
    const app = makeApp(store);
    expect(await usernames(app)).toEqual(['alice@contoso.example']);
    replaceFromAnotherProcess(cacheWith(alice, bob));
    expect(await usernames(app)).toEqual(['alice@contoso.example', 'bob@contoso.example']);
    expect(store.stats.parses).toBe(2);
  });

  it('drops an account that another process removed from the file', async () => {
    await fs.writeFile(file, cacheWith(alice, bob), { mode: 0o600 });
    const app = makeApp(newStore());
    expect(await usernames(app)).toHaveLength(2);
    replaceFromAnotherProcess(cacheWith(alice));
    expect(await usernames(app)).toEqual(['alice@contoso.example']);
  });

  it('forgets every account when another process deleted the file', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const app = makeApp(newStore());
    expect(await usernames(app)).toHaveLength(1);
    await fs.rm(file);
    expect(await usernames(app)).toEqual([]);
  });

  posixOnly('writes the whole changed cache 0600 under the lock and leaves no lock or temp file', async () => {
    await fs.writeFile(file, cacheWith(alice, bob), { mode: 0o600 });
    const store = newStore();
    const app = makeApp(store);
    const bobAccount = (await app.getTokenCache().getAllAccounts()).find((a) => a.username.startsWith('bob'))!;
    await app.getTokenCache().removeAccount(bobAccount);
    expect(store.stats.writes).toBe(1);
    const written = JSON.parse(await fs.readFile(file, 'utf8')) as { Account: Record<string, { username: string }>; RefreshToken: object };
    expect(Object.values(written.Account).map((a) => a.username)).toEqual(['alice@contoso.example']);
    expect(Object.keys(written.RefreshToken)).toHaveLength(1);
    expect(await mode(file)).toBe(0o600);
    expect(await fs.readdir(dir)).toEqual(['token-cache.json']);
    // Our own write does not count as a change to re-read.
    expect(await usernames(app)).toEqual(['alice@contoso.example']);
    expect(store.stats.parses).toBe(1);
  });

  it('resolves flush() only when the write in progress is on disk', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const store = newStore();
    const app = makeApp(store);
    const [account] = await app.getTokenCache().getAllAccounts();
    const removing = app.getTokenCache().removeAccount(account!);
    await new Promise((r) => setImmediate(r));
    await store.flush();
    expect(Object.keys((JSON.parse(await fs.readFile(file, 'utf8')) as { Account: object }).Account)).toEqual([]);
    await removing;
  });

  /** The cache's lock, held by another live process (as a second daemon or a CLI would). */
  async function holdLockElsewhere(): Promise<void> {
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(holder);
    await new Promise((r) => holder.once('spawn', r));
    await fs.writeFile(`${file}.lock`, JSON.stringify({ pid: holder.pid, hostname: os.hostname(), acquiredAt: Date.now(), token: 'ab'.repeat(16) }));
  }

  it('keeps a change it could not write (lock held elsewhere) and writes it on flush', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const store = newStore({ lockTimeoutMs: 100 });
    const app = makeApp(store);
    const [account] = await app.getTokenCache().getAllAccounts();
    await holdLockElsewhere();
    await app.getTokenCache().removeAccount(account!);
    expect(store.stats.writes).toBe(0);
    expect(await usernames(app)).toEqual([]); // memory keeps the change; the old file is not re-read
    expect(log.at('error').map((l) => l.msg)).toEqual(['could not write the token cache; the tokens stay in memory and the write is retried']);
    await fs.rm(`${file}.lock`);
    await store.flush();
    expect(store.stats.writes).toBe(1);
    expect(Object.keys((JSON.parse(await fs.readFile(file, 'utf8')) as { Account: object }).Account)).toEqual([]);
  });

  it('writes a change it could not write on its own, 5 s later, though nothing asks for a token', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const clock = new ManualClock();
    const store = newStore({ lockTimeoutMs: 100, clock });
    const app = makeApp(store);
    const [account] = await app.getTokenCache().getAllAccounts();
    await holdLockElsewhere();
    await app.getTokenCache().removeAccount(account!);
    expect(store.stats.writes).toBe(0);
    // One retry waits, 5 s, unref'd: it must not keep a stopping daemon alive.
    expect(clock.waiting.map((w) => ({ ms: w.ms, unref: w.unref }))).toEqual([{ ms: 5_000, unref: true }]);
    await fs.rm(`${file}.lock`);
    clock.wake();
    await waitUntil('the retried write', async () => store.stats.writes, (n) => n === 1);
    expect(Object.keys((JSON.parse(await fs.readFile(file, 'utf8')) as { Account: object }).Account)).toEqual([]);
    expect(clock.waiting).toEqual([]); // written: no further retry waits
  });
});

describe('TokenStore files', () => {
  posixOnly('creates its folder 0700 when the state folder is missing', async () => {
    file = path.join(dir, 'state', 'nested', 'token-cache.json');
    expect(await usernames(makeApp(newStore()))).toEqual([]);
    expect(await mode(path.dirname(file))).toBe(0o700);
  });

  posixOnly('tightens a cache file others could read to 0600 and warns', async () => {
    await fs.writeFile(file, cacheWith(alice));
    await fs.chmod(file, 0o644);
    expect(await usernames(makeApp(newStore()))).toEqual(['alice@contoso.example']);
    expect(await mode(file)).toBe(0o600);
    expect(log.at('warn')[0]?.fields).toMatchObject({ file, mode: '644' });
  });

  it('moves a corrupt file aside (0600), starts empty and tells the user to sign in again', async () => {
    await fs.writeFile(file, '{"Account": {"truncated', { mode: 0o600 });
    const store = newStore();
    expect(await usernames(makeApp(store))).toEqual([]);
    const aside = `${file}.corrupt-20250102T030405006Z`;
    expect(await fs.readFile(aside, 'utf8')).toBe('{"Account": {"truncated');
    if (process.platform !== 'win32') expect(await mode(aside)).toBe(0o600);
    expect((await fs.readdir(dir)).sort()).toEqual(['token-cache.json.corrupt-20250102T030405006Z']);
    const [warning] = log.at('warn');
    expect(warning?.msg).toContain('sign in again');
    expect(warning?.fields).toEqual({ file, movedTo: aside });
  });

  it('keeps the accounts it holds and writes them back when the file turns corrupt while it runs', async () => {
    await fs.writeFile(file, cacheWith(alice), { mode: 0o600 });
    const store = newStore();
    const app = makeApp(store);
    expect(await usernames(app)).toEqual(['alice@contoso.example']);
    replaceFromAnotherProcess('{"Account": {"trunc');
    expect(await usernames(app)).toEqual(['alice@contoso.example']);
    expect(store.stats.writes).toBe(1);
    expect(await usernames(makeApp(newStore()))).toEqual(['alice@contoso.example']);
    expect(log.at('warn')[0]?.msg).toContain('writes them back');
    expect(await fs.readFile(`${file}.corrupt-20250102T030405006Z`, 'utf8')).toBe('{"Account": {"trunc');
  });

  it('treats JSON that MSAL cannot read as corrupt too', async () => {
    await fs.writeFile(file, '{"Account": {"x": null}}', { mode: 0o600 });
    expect(await usernames(makeApp(newStore()))).toEqual([]);
    expect(await fs.readdir(dir)).toEqual(['token-cache.json.corrupt-20250102T030405006Z']);
  });

  it('treats an empty file as an empty cache and leaves it in place', async () => {
    await fs.writeFile(file, '', { mode: 0o600 });
    expect(await usernames(makeApp(newStore()))).toEqual([]);
    expect(await fs.readdir(dir)).toEqual(['token-cache.json']);
    expect(log.at('warn')).toEqual([]);
  });

  it('returns the cache JSON from readRaw, and null when there is none or it is garbled', async () => {
    const store = newStore();
    expect(await store.readRaw()).toBeNull();
    await fs.writeFile(file, 'garbage', { mode: 0o600 });
    expect(await store.readRaw()).toBeNull();
    const json = cacheWith(alice);
    await fs.writeFile(file, json, { mode: 0o600 });
    expect(await store.readRaw()).toBe(json);
  });

  it('removes temp files left by a crashed writer when it opens the cache', async () => {
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    await fs.writeFile(path.join(dir, `.token-cache.json.${dead}.0a1b2c.tmp`), 'half');
    await makeApp(newStore()).getTokenCache().getAllAccounts();
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

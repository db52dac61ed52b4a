// The daemon core's account policies, with a fake clock, a scripted token source, a scripted
// mailbox server (the EWS reply Microsoft documents, test/fixtures/ews) and real files for the
// account records: an account is taken on at start and at sign-in, let go whole at sign-out (and
// kept whole when MSAL cannot let it go), a cache that cannot be read for want of its key is said
// and read again once it can, the needs-sign-in notice comes once per verdict, and status shows
// one error and reaches listeners once per tick. Sockets, MSAL and Entra are tested end to end in
// test/integration; here only the core's decisions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AccountInfo } from '@azure/msal-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import type { NotificationName, StatusResult } from '../../../shared/protocol';
import { FakeClock } from '../../../test/support/fake-clock';
import { FakeTokenSource } from '../../../test/support/fake-token-source';
import { FakeLog } from '../../../test/support/fakes';
import type { Config } from '../config/config';
import type { HttpRequest, HttpResponse } from '../deps';
import { nodeFileSystem } from '../io/node-fs';
import { DaemonCore, type CoreDeps } from './core';
import { testConfig } from '../../../test/support/config';

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/ews');
const EWS_URL = 'https://ews.test/EWS/Exchange.asmx';
const REDIRECT = 'http://localhost:53100/callback';
const HOUR = 3_600_000;

const info = (name: string): AccountInfo => ({
  homeAccountId: `${name}-oid.utid`, localAccountId: `${name}-oid`, environment: 'login.test', tenantId: 'utid', username: `${name}@contoso.example`, name,
});
const ALICE = info('alice');
const BOB = info('bob');

const ewsInbox = (): HttpResponse => ({ status: 200, headers: { 'content-type': 'text/xml' }, body: fs.readFileSync(path.join(FIXTURES, 'docs-getfolder-inbox.xml'), 'utf8') });
const verdict = () => new AppError('needs_consent', 'AADSTS700082: The refresh token has expired due to inactivity.', { advice: 'Sign in again.', retryable: false, aadsts: 700082 });
const keyringLocked = () => new AppError('keyring_locked', 'The keyring is locked.', { advice: 'Unlock it.', retryable: true });

/** MSAL as the core sees it: the accounts in its cache, their tokens (scripted), sign-in. */
class FakeMsal {
  accountsInCache: AccountInfo[] = [];
  removed: string[] = [];
  cacheError: AppError | null = null;
  removeError: Error | null = null;
  nextSignIn: AccountInfo = ALICE;
  constructor(readonly source: FakeTokenSource) {}
  acquire: FakeTokenSource['acquire'] = (...args) => this.source.acquire(...args);
  async accounts(): Promise<AccountInfo[]> {
    if (this.cacheError) throw this.cacheError;
    return [...this.accountsInCache];
  }
  async remove(id: string): Promise<void> {
    if (this.removeError) throw this.removeError;
    this.removed.push(id);
    this.accountsInCache = this.accountsInCache.filter((a) => a.homeAccountId !== id);
  }
  async authCodeUrl(req: { state: string }): Promise<string> {
    return `https://login.test/utid/oauth2/v2.0/authorize?state=${req.state}`;
  }
  adminConsentUrl(state: string): string {
    return `https://login.test/utid/adminconsent?state=${state}`;
  }
  async redeemCode(): Promise<AccountInfo> {
    this.accountsInCache = [...this.accountsInCache.filter((a) => a.homeAccountId !== this.nextSignIn.homeAccountId), this.nextSignIn];
    return this.nextSignIn;
  }
  async deviceCodeSignIn(): Promise<AccountInfo> {
    throw new Error('not used here');
  }
}

let dir: string;
let clock: FakeClock;
let msal: FakeMsal;
let mailbox: { requests: HttpRequest[]; answer: () => HttpResponse };
let notices: [string, string][];
let keyError: AppError | null;
let cores: DaemonCore[];

function config(): Config {
  return testConfig({ file: path.join(dir, 'config.json'), redirectUri: REDIRECT, ewsUrl: EWS_URL, backend: 'ews', realtime: false, notifyCommand: ['notify'] });
}

async function startCore(): Promise<DaemonCore> {
  const deps: CoreDeps = {
    config: config(),
    paths: { configFile: path.join(dir, 'config.json'), configDir: dir, stateDir: dir, cacheFile: path.join(dir, 'cache.json'), logFile: path.join(dir, 'log'), runtimeDir: dir, socketPath: path.join(dir, 'sock'), pidFile: path.join(dir, 'pid') },
    clock,
    fs: nodeFileSystem,
    http: { request: async (req) => (mailbox.requests.push(req), mailbox.answer()) },
    stream: { open: () => Promise.reject(new Error('no streaming in these tests')) },
    log: new FakeLog(),
    store: { keyInfo: () => ({ kind: 'none' }), keyError: () => keyError, readRaw: async () => '{}', readableCopy: () => '{}', flush: async () => undefined },
    msal,
    version: '0.0.0-test',
    startedAt: clock.now(),
    runNotify: async (_argv, env) => {
      notices.push([env.EWS_DAEMON_EVENT!, env.EWS_DAEMON_ACCOUNT!]);
      return { code: 0 };
    },
  };
  const core = new DaemonCore(deps);
  cores.push(core);
  await core.start();
  await clock.settle();
  return core;
}

async function signIn(core: DaemonCore, who: AccountInfo) {
  msal.nextSignIn = who;
  const { state } = await core.consents.begin({});
  const result = await core.consents.complete(`${REDIRECT}?code=one-time-code&state=${state}`);
  await clock.settle();
  return result;
}

const account = (s: StatusResult, who: AccountInfo) => s.accounts.find((a) => a.username === who.username);
const tokenCallsFor = (who: AccountInfo) => msal.source.calls.filter((c) => c.accountId === who.homeAccountId).length;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ews-core-'));
  clock = new FakeClock();
  msal = new FakeMsal(new FakeTokenSource(clock));
  mailbox = { requests: [], answer: ewsInbox };
  notices = [];
  keyError = null;
  cores = [];
});

afterEach(async () => {
  for (const core of cores) await core.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('DaemonCore: taking accounts on', () => {
  it('takes on every account in the cache at start, and keeps its token fresh with nobody asking', async () => {
    msal.accountsInCache = [ALICE, BOB];
    const core = await startCore();
    expect(core.status().accounts.map((a) => [a.username, a.state.kind])).toEqual([[ALICE.username, 'signed-in'], [BOB.username, 'signed-in']]);
    const before = tokenCallsFor(ALICE);
    await clock.advance(3 * HOUR);
    expect(tokenCallsFor(ALICE)).toBeGreaterThan(before);
  });

  it('counts a new sign-in at once and answers with its account', async () => {
    const core = await startCore();
    const result = await signIn(core, ALICE);
    expect(result).toMatchObject({ kind: 'signed-in', account: { username: ALICE.username } });
    expect(account(core.status(), ALICE)?.inbox).toMatchObject({ total: 2, unread: 2, backend: 'ews' });
    expect(notices).toEqual([['signed-in', ALICE.username]]);
  });

  it.each([
    ['nobody signed in', [], undefined, /Nobody is signed in/],
    ['two signed in, none named', [ALICE, BOB], undefined, /2 accounts are signed in/],
    ['an unknown name', [ALICE], 'carol@contoso.example', /No signed-in account is named carol/],
  ])('refuses a count with %s, saying who is signed in', async (_, inCache, selector, message) => {
    msal.accountsInCache = inCache;
    const core = await startCore();
    await expect(core.inboxCount(selector)).rejects.toThrow(message);
    expect(mailbox.requests).toHaveLength(0);
  });

  it('finds an account by username in any case, or by id', async () => {
    msal.accountsInCache = [ALICE, BOB];
    const core = await startCore();
    expect((await core.inboxCount('BOB@Contoso.Example')).account).toBe(BOB.username);
    expect((await core.inboxCount(ALICE.homeAccountId)).account).toBe(ALICE.username);
  });
});

describe('DaemonCore: a cache it cannot read', () => {
  it('serves on, answers why, and reads the cache at the next call once the key is back', async () => {
    msal.accountsInCache = [ALICE];
    msal.cacheError = keyringLocked();
    keyError = keyringLocked();
    const core = await startCore();
    expect(core.status().accounts).toEqual([]);
    await expect(core.inboxCount(undefined)).rejects.toMatchObject({ data: { code: 'keyring_locked' } });
    msal.cacheError = null;
    keyError = null;
    await expect(core.inboxCount(undefined)).resolves.toMatchObject({ account: ALICE.username, total: 2 });
    expect(core.status().accounts.map((a) => a.username)).toEqual([ALICE.username]);
  });
});

describe('DaemonCore: letting an account go', () => {
  it('forgets everything it held: grant, tokens, count and record', async () => {
    msal.accountsInCache = [ALICE, BOB];
    const core = await startCore();
    await core.inboxCount(ALICE.username);

    expect(await core.removeAccount(ALICE.username)).toEqual({ removed: [ALICE.username] });
    expect(msal.removed).toEqual([ALICE.homeAccountId]);
    expect(core.status().accounts.map((a) => a.username)).toEqual([BOB.username]);
    const calls = tokenCallsFor(ALICE);
    await clock.advance(3 * HOUR);
    expect(tokenCallsFor(ALICE)).toBe(calls);
    // Signed in again while the mailbox fails: no count of the old grant shows.
    mailbox.answer = () => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'Internal Server Error' });
    await signIn(core, ALICE);
    expect(account(core.status(), ALICE)).toMatchObject({ state: { kind: 'signed-in' }, inbox: null });
    await core.removeAccount(ALICE.username);
    mailbox.answer = ewsInbox;
    await core.stop();
    cores = [];
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'accounts.json'), 'utf8')))).toEqual([BOB.homeAccountId]);

    // Back again after a restart: nothing of the old grant shows.
    const again = await startCore();
    await signIn(again, ALICE);
    expect(account(again.status(), ALICE)).toMatchObject({ state: { kind: 'signed-in' }, lastError: null, inbox: { total: 2 } });
  });

  it('keeps the account whole when MSAL cannot remove it, and says why', async () => {
    msal.accountsInCache = [ALICE];
    const core = await startCore();
    msal.removeError = new AppError('internal', 'The token cache could not be written: ENOSPC.', { advice: 'Free some disk space.', retryable: true });
    await expect(core.removeAccount(undefined)).rejects.toThrow(/ENOSPC/);
    expect(account(core.status(), ALICE)).toMatchObject({ state: { kind: 'signed-in' } });
    await expect(core.inboxCount(undefined)).resolves.toMatchObject({ account: ALICE.username });
  });
});

describe('DaemonCore: what status says', () => {
  it('announces needing sign-in once per verdict, again after a new sign-in, not again after a restart', async () => {
    msal.accountsInCache = [ALICE];
    const core = await startCore();
    msal.source.script({ kind: 'fail', error: verdict() });
    for (let i = 0; i < 3; i++) await expect(core.tokenGet(undefined, 'ews', true)).rejects.toMatchObject({ data: { code: 'needs_consent' } });
    await clock.advance(3 * HOUR);
    expect(account(core.status(), ALICE)).toMatchObject({ state: { kind: 'needs-consent' }, lastError: { code: 'needs_consent', aadsts: 700082 } });
    expect(notices).toEqual([['needs-consent', ALICE.username]]);
    await signIn(core, ALICE);
    msal.source.script({ kind: 'fail', error: verdict() });
    await core.tokenGet(undefined, 'ews', true).catch(() => undefined);
    await clock.settle();
    expect(notices).toEqual([['needs-consent', ALICE.username], ['signed-in', ALICE.username], ['needs-consent', ALICE.username]]);

    // A restart finds the verdict again, and says nothing new: the last notice is on disk.
    await core.stop();
    cores = [];
    msal.source.script({ kind: 'fail', error: verdict() });
    const again = await startCore();
    await clock.advance(3 * HOUR);
    expect(account(again.status(), ALICE)?.state.kind).toBe('needs-consent');
    expect(notices).toHaveLength(3);
  });

  it('shows a failed count as the last error until a count succeeds', async () => {
    msal.accountsInCache = [ALICE];
    const core = await startCore();
    mailbox.answer = () => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'Internal Server Error' });
    await expect(core.inboxCount(undefined, 0)).rejects.toBeInstanceOf(AppError);
    expect(account(core.status(), ALICE)?.lastError).toMatchObject({ code: 'mailbox_error', message: expect.stringContaining('500') });
    mailbox.answer = ewsInbox;
    await clock.advance(HOUR); // past any back-off the failure asked for
    await core.inboxCount(undefined, 0);
    expect(account(core.status(), ALICE)?.lastError).toBeNull();
  });

  it('tells each listener once per tick, however many things changed', async () => {
    msal.accountsInCache = [ALICE, BOB];
    const core = await startCore();
    const heard: NotificationName[] = [];
    core.subscribe((method) => heard.push(method));
    await clock.settle(); // a listener starts polling: both inboxes are counted at once
    expect(heard.filter((m) => m === 'inbox.changed')).toHaveLength(2);
    heard.length = 0;
    await core.inboxCount(ALICE.username, 0);
    await clock.settle();
    expect(heard).toEqual(['inbox.changed', 'status.changed']);
    heard.length = 0;
    // Signing out touches the refresher, the records, the inbox service and realtime at once.
    await core.removeAccount(BOB.username);
    await clock.settle();
    expect(heard).toEqual(['status.changed']);
    expect(core.status().accounts.map((a) => a.username)).toEqual([ALICE.username]);
  });
});

// The inbox service's policies, unit by unit, with a fake clock and a scripted mailbox server
// (real EWS and Graph replies, from test/fixtures/ews and Graph's documented shape): callers
// share one request, maxAgeMs decides memory or fetch, a 401 is refreshed once, a server's
// back-off is honoured without asking again, and auto mode falls back to Graph when EWS is
// turned off, re-checks EWS daily and returns to it.
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import type { Backend, BackendSetting } from '../../../shared/protocol';
import { FakeClock } from '../../../test/support/fake-clock';
import { FakeLog } from '../../../test/support/fakes';
import type { Config } from '../config/config';
import type { Http, HttpRequest, HttpResponse } from '../deps';
import type { BackendMemo, BackendMemory } from './backend-memory';
import { DEFAULT_BUSY_MS, EWS_RECHECK_MS, InboxService, PERSIST_STALE_MS } from './inbox-service';
import { testConfig } from '../../../test/support/config';

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/ews');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const EWS_URL = 'https://ews.test/EWS/Exchange.asmx';
const GRAPH_URL = 'https://graph.test/v1.0';
const ALICE = { id: 'uid.utid', username: 'alice@contoso.example' };

const ewsOk = (): HttpResponse => ({ status: 200, headers: { 'content-type': 'text/xml' }, body: fixture('docs-getfolder-inbox.xml') });
const ewsBusy = (): HttpResponse => ({ status: 500, headers: { 'content-type': 'text/xml' }, body: fixture('fault-server-busy.xml') });
const ewsOff = (): HttpResponse => ({ status: 403, headers: {}, body: '' });
const ews401 = (): HttpResponse => ({ status: 401, headers: { 'x-ms-diagnostics': '2000002;reason="The token is expired.";error_category="invalid_token"' }, body: '' });
const graphOk = (total = 12, unread = 3): HttpResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'Inbox', totalItemCount: total, unreadItemCount: unread, childFolderCount: 0 }) });

/** A mailbox server per backend: each request takes the next scripted answer (or waits on a gate). */
class ScriptedServer implements Http {
  readonly requests: { backend: Backend; req: HttpRequest }[] = [];
  private readonly script: Record<Backend, (() => Promise<HttpResponse> | HttpResponse)[]> = { ews: [], graph: [] };
  answer(backend: Backend, ...answers: (() => Promise<HttpResponse> | HttpResponse)[]): void {
    this.script[backend].push(...answers);
  }
  count(backend: Backend): number {
    return this.requests.filter((r) => r.backend === backend).length;
  }
  async request(req: HttpRequest): Promise<HttpResponse> {
    const backend: Backend = req.url.startsWith(EWS_URL) ? 'ews' : 'graph';
    this.requests.push({ backend, req });
    const next = this.script[backend].shift();
    if (!next) throw new Error(`unexpected ${backend} request (nothing scripted)`);
    return next();
  }
}

class Memory implements BackendMemory {
  readonly saved = new Map<string, BackendMemo>();
  writes = 0;
  get(id: string): BackendMemo {
    return this.saved.get(id) ?? { ewsDisabledAt: null, ewsRecheckAt: null, inbox: null };
  }
  update(id: string, patch: Partial<BackendMemo>): void {
    this.writes++;
    this.saved.set(id, { ...this.get(id), ...patch });
  }
}

function config(backend: BackendSetting): Config {
  return testConfig({ ewsUrl: EWS_URL, graphUrl: GRAPH_URL, backend });
}

let clock: FakeClock;
let server: ScriptedServer;
let memory: Memory;
let tokenCalls: { resource: Backend; forceRefresh: boolean }[];
let tokenError: AppError | null;
let backendChanges: Backend[];
let counted: number;

function service(backend: BackendSetting = 'auto'): InboxService {
  return new InboxService({
    clock, log: new FakeLog(), http: server, config: config(backend), records: memory,
    tokens: {
      getToken: async (_id, resource, opts) => {
        tokenCalls.push({ resource, forceRefresh: opts?.forceRefresh ?? false });
        if (tokenError) throw tokenError;
        return { accessToken: `token-${tokenCalls.length}`, expiresOn: clock.now() + 3_600_000, scopes: [], fromCache: true };
      },
    },
    onCount: () => void counted++,
    onBackendChange: (_id, b) => void backendChanges.push(b),
  });
}

beforeEach(() => {
  clock = new FakeClock();
  server = new ScriptedServer();
  memory = new Memory();
  tokenCalls = [];
  tokenError = null;
  backendChanges = [];
  counted = 0;
});

describe('InboxService: when it asks the server', () => {
  it('makes one request for any number of callers at once, and gives each the same count', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server.answer('ews', () => gate.then(ewsOk));
    const inbox = service();
    const answers = Promise.all(Array.from({ length: 50 }, () => inbox.count(ALICE, 0)));
    release();
    const counts = await answers;
    expect(server.count('ews')).toBe(1);
    expect(new Set(counts).size).toBe(1);
    expect(counts[0]).toMatchObject({ account: ALICE.username, backend: 'ews', total: 2, unread: 2 });
  });

  it('counts an announced change with a request that starts after it: one in flight is waited for, then one more serves every caller', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server.answer('ews', () => gate.then(ewsOk), ewsOk, ewsOk);
    const inbox = service();
    const before = inbox.count(ALICE, 0); // started before the change
    const after = Promise.all([inbox.countAfterNow(ALICE), inbox.countAfterNow(ALICE), inbox.countAfterNow(ALICE)]);
    await clock.settle();
    expect(server.count('ews')).toBe(1);
    release();
    await before;
    const counts = await after;
    expect(server.count('ews')).toBe(2);
    expect(new Set(counts).size).toBe(1);
    await inbox.countAfterNow(ALICE); // nothing in flight: one fetch of its own
    expect(server.count('ews')).toBe(3);
  });

  it.each([
    { name: 'serves a count younger than maxAgeMs from memory', after: 29_999, maxAgeMs: 30_000, requests: 1 },
    { name: 'fetches once the count is as old as maxAgeMs', after: 30_000, maxAgeMs: 30_000, requests: 2 },
    { name: 'always fetches for maxAgeMs 0, even in the same millisecond', after: 0, maxAgeMs: 0, requests: 2 },
  ])('$name', async ({ after, maxAgeMs, requests }) => {
    server.answer('ews', ewsOk, ewsOk);
    const inbox = service();
    await inbox.count(ALICE, 0);
    await clock.advance(after);
    await inbox.count(ALICE, maxAgeMs);
    expect(server.count('ews')).toBe(requests);
  });

  it('refreshes the token once and retries once when the server refuses it, then gives up', async () => {
    server.answer('ews', ews401, ewsOk);
    await expect(service().count(ALICE, 0)).resolves.toMatchObject({ total: 2 });
    expect(tokenCalls.map((t) => t.forceRefresh)).toEqual([false, true]);

    tokenCalls = [];
    server.answer('ews', ews401, ews401);
    await expect(service().count(ALICE, 0)).rejects.toMatchObject({ code: 'mailbox_unauthorized' });
    expect(tokenCalls.map((t) => t.forceRefresh)).toEqual([false, true]);
    expect(server.count('ews')).toBe(4);
  });

  it('says which permission is missing when the grant never covered the backend’s scope (AADSTS65001)', async () => {
    tokenError = new AppError('needs_consent', 'AADSTS65001: consent missing', { advice: '', retryable: false, aadsts: 65001 });
    const e = await service('graph').count(ALICE, 0).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'scope_missing', message: 'The sign-in did not grant https://graph.example/Mail.ReadBasic.', data: { aadsts: 65001 } });
    expect(server.requests).toHaveLength(0);
  });

  it('tells a user without a browser how to consent to Graph once EWS is off (a device code consents to EWS in auto mode)', async () => {
    memory.update(ALICE.id, { ewsDisabledAt: clock.now(), ewsRecheckAt: clock.now() + EWS_RECHECK_MS });
    tokenError = new AppError('needs_consent', 'AADSTS65001: consent missing', { advice: '', retryable: false, aadsts: 65001 });
    const e = await service('auto').count(ALICE, 0).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'scope_missing', message: 'The sign-in did not grant https://graph.example/Mail.ReadBasic, which this account needs now that EWS is turned off.' });
    expect((e as AppError).data.advice).toContain('without a browser, set "backend": "graph" in config.json, restart the daemon and run `ews-daemon consent --device-code`');
  });
});

describe('InboxService: a server that asks to wait', () => {
  it('asks nothing more until the back-off ends, serving the last count marked stale meanwhile, then fetches', async () => {
    server.answer('ews', ewsOk, ewsBusy);
    const inbox = service();
    const first = await inbox.count(ALICE, 0);
    await clock.advance(1_000);
    const retryAt = clock.now() + 297_749;
    const stale = { ...first, stale: { reason: 'throttled', retryAt } };
    // The request that meets the back-off already answers with the last count, saying how old it is.
    await expect(inbox.count(ALICE, 0)).resolves.toEqual(stale);
    expect(inbox.shown(ALICE.id)).toEqual(stale); // status says so too, not only the caller who asked
    await clock.advance(297_748);
    await expect(inbox.count(ALICE, 0)).resolves.toEqual(stale);
    // A caller that cannot take an old count gets the wait instead, in whole seconds.
    await expect(inbox.count(ALICE, 0, { allowStale: false })).rejects.toMatchObject({ code: 'throttled', data: { retryAfterMs: 1_000 } });
    expect(server.count('ews')).toBe(2);
    await clock.advance(1);
    server.answer('ews', ewsOk);
    const fresh = await inbox.count(ALICE, 0);
    expect(fresh).toMatchObject({ fetchedAt: clock.now() });
    expect(fresh.stale).toBeUndefined();
    expect(inbox.shown(ALICE.id)).toEqual(fresh);
    expect(server.count('ews')).toBe(3);
  });

  it('answers throttled with the time left when it has no count to show', async () => {
    server.answer('ews', ewsBusy);
    const inbox = service();
    await expect(inbox.count(ALICE, 0)).rejects.toMatchObject({ code: 'throttled' });
    await clock.advance(100_000);
    await expect(inbox.count(ALICE, 0)).rejects.toMatchObject({ code: 'throttled', data: { retryAfterMs: 198_000 } });
    expect(server.count('ews')).toBe(1);
  });

  it('waits a minute when a busy server gave no delay (Graph 429 without Retry-After)', async () => {
    server.answer('graph', () => ({ status: 429, headers: {}, body: '{"error":{"code":"TooManyRequests","message":"slow down"}}' }));
    const inbox = service('graph');
    await expect(inbox.count(ALICE, 0)).rejects.toMatchObject({ code: 'throttled' });
    await clock.advance(DEFAULT_BUSY_MS - 1);
    await expect(inbox.count(ALICE, 0)).rejects.toMatchObject({ code: 'throttled', data: { retryAfterMs: 1_000 } });
    expect(server.count('graph')).toBe(1);
  });
});

describe('InboxService: EWS turned off', () => {
  it('in auto mode, answers through Graph at once, remembers it, and asks EWS no more until the daily re-check', async () => {
    server.answer('ews', ewsOff);
    server.answer('graph', () => graphOk(), () => graphOk(13, 4));
    const inbox = service('auto');
    await expect(inbox.count(ALICE, 0)).resolves.toMatchObject({ backend: 'graph', total: 12, unread: 3 });
    expect(memory.get(ALICE.id)).toMatchObject({ ewsDisabledAt: clock.now(), ewsRecheckAt: clock.now() + EWS_RECHECK_MS });
    expect(backendChanges).toEqual(['graph']);
    expect(inbox.backend(ALICE.id)).toMatchObject({ configured: 'auto', active: 'graph' });
    expect(inbox.backend(ALICE.id).reason).toMatch(/^EWS is turned off for this tenant \(found 2026-01-05\): an administrator can allow this app in EWSAllowedAppIDs until 2027-04-01/);

    await clock.advance(EWS_RECHECK_MS - 1);
    await inbox.count(ALICE, 0);
    expect(server.count('ews')).toBe(1);
    expect(server.count('graph')).toBe(2);
  });

  it('returns to EWS when the daily re-check finds it answering again', async () => {
    server.answer('ews', ewsOff, ewsOk);
    server.answer('graph', () => graphOk());
    const inbox = service('auto');
    await inbox.count(ALICE, 0);
    await clock.advance(EWS_RECHECK_MS);
    await expect(inbox.count(ALICE, 0)).resolves.toMatchObject({ backend: 'ews', total: 2 });
    expect(memory.get(ALICE.id)).toMatchObject({ ewsDisabledAt: null, ewsRecheckAt: null });
    expect(backendChanges).toEqual(['graph', 'ews']);
  });

  it('after a restart, goes straight to Graph from what it remembered', async () => {
    memory.update(ALICE.id, { ewsDisabledAt: clock.now() - 1_000, ewsRecheckAt: clock.now() + 1_000 });
    server.answer('graph', () => graphOk());
    await expect(service('auto').count(ALICE, 0)).resolves.toMatchObject({ backend: 'graph' });
    expect(server.count('ews')).toBe(0);
  });

  it('with backend "ews" pinned, surfaces ews_disabled and never tries Graph', async () => {
    server.answer('ews', ewsOff);
    await expect(service('ews').count(ALICE, 0)).rejects.toMatchObject({ code: 'ews_disabled' });
    expect(server.count('graph')).toBe(0);
    expect(memory.get(ALICE.id).ewsDisabledAt).toBeNull();
  });
});

describe('InboxService: what it keeps', () => {
  it('writes an unchanged count to disk only when the saved one is stale, so counting puts no write on the hot path', async () => {
    server.answer('ews', ewsOk, ewsOk, ewsOk);
    const inbox = service();
    await inbox.count(ALICE, 0);
    expect(memory.writes).toBe(1);
    await clock.advance(1_000);
    await inbox.count(ALICE, 0);
    expect(memory.writes).toBe(1);
    await clock.advance(PERSIST_STALE_MS);
    await inbox.count(ALICE, 0);
    expect(memory.writes).toBe(2);
    expect(counted).toBe(3);
  });

  it('shows the remembered count after a restart, and forgets an account that signed out', async () => {
    server.answer('ews', ewsOk);
    const before = await service().count(ALICE, 0);
    const restarted = service();
    expect(restarted.last(ALICE.id)).toEqual(before);
    restarted.forget(ALICE.id);
    memory.saved.delete(ALICE.id);
    expect(restarted.last(ALICE.id)).toBeNull();
  });
});

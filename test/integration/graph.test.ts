// The Graph backend (issue 5): pinned, it never touches EWS; Graph's 429 is honoured by its
// Retry-After; a 401 gets one forced refresh and one retry; and a grant made without the Graph
// scope, when EWS turns off, says plainly that a new sign-in must grant Mail.ReadBasic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { RpcClient } from '../../host/src/daemon-client/rpc-client';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

/** The Retry-After of the injected 429, in seconds: long enough that a count asked at once lands inside it. */
const RETRY_AFTER_S = 3;

describe('backend pinned to Graph', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ config: { backend: 'graph' } });
    await stack.signIn();
  });
  afterAll(async () => stack?.close());

  it('counts through Graph only, and says so', async () => {
    stack.emulator.admin.resetStats();
    const count = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(count).toMatchObject({ backend: 'graph', total: 4817, unread: 23 });
    expect(stack.emulator.admin.stats().ewsRequests).toBe(0);
    const status = await stack.cli(['status']);
    expect(status.stdout).toMatch(/backend: Microsoft Graph\. Microsoft Graph, as configured \(backend "graph"\); EWS is not used\./);
  });

  it('does not fall back to EWS, nor EWS to Graph, when a backend is pinned', async () => {
    stack.emulator.admin.setEwsDisabled(true);
    try {
      expect((await stack.json<InboxCount>(['inbox', '--max-age', '0'])).backend).toBe('graph');
    } finally {
      stack.emulator.admin.setEwsDisabled(false);
    }
  });

  it('honours Graph throttling (429 Retry-After) without asking again before it ends', async () => {
    const fresh = await stack.json<InboxCount>(['inbox']);
    stack.emulator.admin.failGraph({ kind: 'http', status: 429, retryAfterSeconds: RETRY_AFTER_S }, 1);
    const askedAt = Date.now(); // the back-off the daemon starts on the 429 ends after askedAt + Retry-After
    const r = await stack.cli(['inbox', '--max-age', '0', '--no-stale', '--json']);
    expect(JSON.parse(r.stdout).error.data).toMatchObject({ code: 'throttled', retryable: true, retryAfterMs: RETRY_AFTER_S * 1000 });
    const before = stack.emulator.admin.stats().graphRequests;
    const client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
    try {
      // Ask for a fresh count until one comes: during the back-off the last count is served
      // (never an error) and Graph is not asked; the first new count is fetched after it ends.
      const served: InboxCount[] = [];
      const after = await waitUntil('a count fetched after the back-off', async () => {
        const count = await client.call('inbox.count', { maxAgeMs: 0 });
        served.push(count);
        return count;
      }, (c) => c.fetchedAt !== fresh.fetchedAt, 60_000);
      expect(served.slice(0, -1).every((c) => c.fetchedAt === fresh.fetchedAt && c.total === fresh.total)).toBe(true);
      expect(after.fetchedAt).toBeGreaterThanOrEqual(askedAt + RETRY_AFTER_S * 1000);
      expect(stack.emulator.admin.stats().graphRequests).toBe(before + 1);
    } finally {
      client.close();
    }
  });

  it('refreshes once and retries once when Graph refuses the token', async () => {
    stack.emulator.admin.failGraph({ kind: 'http', status: 401 }, 1);
    const tokensBefore = stack.emulator.admin.stats().tokenRequests.refresh_token;
    const count = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(count.total).toBe(4817);
    expect(stack.emulator.admin.stats().tokenRequests.refresh_token).toBe(tokensBefore + 1);
  });
});

describe('a grant without the Graph scope', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ config: { backend: 'ews' } }); // consent asks for EWS only
    await stack.signIn();
  });
  afterAll(async () => stack?.close());

  it('says a new sign-in must grant Mail.ReadBasic when EWS turns off, and that sign-in fixes it', async () => {
    await stack.stopDaemon();
    await stack.writeConfig({ backend: 'auto' });
    stack.emulator.admin.setEwsDisabled(true);
    const r = await stack.cli(['inbox', '--max-age', '0', '--no-stale', '--json']);
    expect(r.code).not.toBe(0);
    const error = JSON.parse(r.stdout).error;
    expect(error.data.code).toBe('scope_missing');
    expect(error.data.advice).toMatch(/Mail\.ReadBasic/);
    expect(error.data.advice).toMatch(/sign in again/i);
    await stack.signIn();
    const count = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(count.backend).toBe('graph');
    expect((await stack.json<StatusResult>(['status'])).accounts[0]!.state.kind).toBe('signed-in');
  });
});

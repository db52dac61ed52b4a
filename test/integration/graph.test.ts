// The Graph backend (issue 5): pinned, it never touches EWS; Graph's 429 is honoured by its
// Retry-After; a 401 gets one forced refresh and one retry; and a grant made without the Graph
// scope, when EWS turns off, says plainly that a new sign-in must grant Mail.ReadBasic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { startStack, type Stack } from '../support/stack';

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
    stack.emulator.admin.failGraph({ kind: 'http', status: 429, retryAfterSeconds: 2 }, 1);
    const fresh = await stack.json<InboxCount>(['inbox']);
    const r = await stack.cli(['inbox', '--max-age', '0', '--no-stale', '--json']);
    expect(JSON.parse(r.stdout).error.data).toMatchObject({ code: 'throttled', retryable: true, retryAfterMs: 2000 });
    // During the back-off the last count is served and Graph is not asked again.
    const before = stack.emulator.admin.stats().graphRequests;
    const during = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(during.fetchedAt).toBe(fresh.fetchedAt);
    expect(stack.emulator.admin.stats().graphRequests).toBe(before);
    await new Promise((res) => setTimeout(res, 2100));
    const after = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(after.fetchedAt).toBeGreaterThan(fresh.fetchedAt);
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
    const r = await stack.cli(['inbox', '--max-age', '0', '--json']);
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

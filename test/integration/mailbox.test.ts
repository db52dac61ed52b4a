// The inbox count through EWS and Graph as Exchange really answers: server-busy back-offs
// honoured without hammering, a malformed reply reported, EWS turned off for the tenant handed
// over to Graph (remembered across restarts), and a pinned backend that does not fall back.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { startStack, type Stack } from '../support/stack';

describe('EWS faults', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ config: { backend: 'ews' } });
    await stack.signIn();
  });
  afterEach(() => stack.emulator.admin.clearFaults());
  afterAll(async () => stack?.close());

  it('reports a garbled reply as malformed, naming EWS', async () => {
    stack.emulator.admin.failEws('malformed', 1);
    const r = await stack.cli(['inbox', '--max-age', '0', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.data.code).toBe('malformed_response');
  });

  it('says EWS is turned off and who can turn it on, when pinned to EWS', async () => {
    stack.emulator.admin.setEwsDisabled(true);
    try {
      const r = await stack.cli(['inbox', '--max-age', '0']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/EWSAllowedAppIDs/);
      expect(r.stderr).toMatch(/administrator/i);
      expect(stack.emulator.admin.stats().graphRequests).toBe(0);
    } finally {
      stack.emulator.admin.setEwsDisabled(false);
    }
  });

  it('honours ErrorServerBusy back-off: the last count is served and EWS is not asked again', async () => {
    const fresh = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    stack.emulator.admin.failEws('busy-fault', 1);
    const busy = await stack.cli(['inbox', '--max-age', '0', '--no-stale', '--json']);
    expect(JSON.parse(busy.stdout).error.data).toMatchObject({ code: 'throttled', retryable: true });
    expect(JSON.parse(busy.stdout).error.data.retryAfterMs).toBeGreaterThan(60_000);
    // GetFolder only: the daemon's streaming connection (issue 12) is other EWS traffic.
    const before = stack.emulator.admin.stats().ewsOperations.GetFolder;
    const during = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(during.fetchedAt).toBe(fresh.fetchedAt);
    expect(stack.emulator.admin.stats().ewsOperations.GetFolder).toBe(before);
  });
});

describe('EWS turned off for the tenant (backend auto)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await stack.signIn();
  });
  afterAll(async () => stack?.close());

  it('switches to Graph, says why, and remembers it across a restart', async () => {
    expect((await stack.json<InboxCount>(['inbox'])).backend).toBe('ews');
    stack.emulator.admin.setEwsDisabled(true);
    const count = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(count).toMatchObject({ backend: 'graph', total: 4817, unread: 23 });
    const status = await stack.cli(['status']);
    expect(status.stdout).toMatch(/backend: Microsoft Graph\. EWS is turned off for this tenant .*EWSAllowedAppIDs until 2027-04-01; using Microsoft Graph/);

    await stack.stopDaemon();
    stack.emulator.admin.resetStats();
    const after = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(after.backend).toBe('graph');
    expect(stack.emulator.admin.stats().ewsRequests).toBe(0);
    const s = await stack.json<StatusResult>(['status']);
    expect(s.accounts[0]!.backend).toMatchObject({ configured: 'auto', active: 'graph' });
    expect(s.accounts[0]!.backend.ewsRecheckAt).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });
});

// EWS streaming between the real daemon process and the emulator: a mailbox change reaches a
// subscriber as inbox.changed without polling, and the stream recovers from every fault the
// emulator can inject (a dropped connection, a lost subscription, ErrorServerBusy on Subscribe,
// an access token the server no longer accepts, connections closing at their timeout), with
// never more than one connection per mailbox (the emulator's peak counter).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount } from '../../shared/protocol';
import { RpcClient } from '../../host/src/daemon-client/rpc-client';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

const ALICE = 'alice@contoso.example';

describe('EWS streaming notifications (daemon ↔ emulator)', { timeout: 90_000 }, () => {
  let stack: Stack;
  let client: RpcClient;
  const changes: InboxCount[] = [];
  let total = 4817;

  const streaming = () => stack.emulator.admin.stats().streaming;
  const open = async () => stack.emulator.admin.openStreams(ALICE);

  /** Changes the mailbox and waits for the subscriber to hear of it. */
  async function changeAndHear(): Promise<void> {
    total += 1;
    stack.emulator.admin.setMailbox(ALICE, { total, unread: 23 });
    await waitUntil('inbox.changed with the new total', async () => changes.at(-1)?.total, (t) => t === total, 30_000);
  }

  beforeAll(async () => {
    stack = await startStack();
    // A "minute" of ConnectionTimeout is 150 ms here, so connections close and renew every few seconds.
    stack.emulator.admin.setStreaming({ keepAliveMs: 500, minuteMs: 150 });
    await stack.signIn();
    client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
    client.onNotification(({ method, params }) => {
      if (method === 'inbox.changed') changes.push(params as InboxCount);
    });
    await client.call('events.subscribe');
    await waitUntil('one open stream', open, (n) => n === 1);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await stack?.close();
  });

  it('pushes a mailbox change to a subscriber, and says so in status', async () => {
    const before = stack.emulator.admin.stats().ewsOperations.GetFolder ?? 0;
    await changeAndHear();
    expect(changes.at(-1)).toMatchObject({ account: ALICE, total, backend: 'ews' });
    expect((stack.emulator.admin.stats().ewsOperations.GetFolder ?? 0) - before).toBe(1); // one count for the change
    expect(stack.emulator.admin.stats().lastEwsHeaders).toMatchObject({ 'x-anchormailbox': ALICE });
    const status = await stack.json<{ accounts: { realtime: { kind: string; reason: string } }[] }>(['status']);
    expect(status.accounts[0]?.realtime).toMatchObject({ kind: 'streaming' });
    expect((await stack.cli(['status'])).stdout).toMatch(/counts: pushed \(EWS streaming\) since .*EWS streaming notifications/);
  });

  it('renews connections as they close at their ConnectionTimeout', async () => {
    const start = streaming().connections;
    await waitUntil('two more connections', async () => streaming().connections, (n) => n >= start + 2, 30_000);
    await changeAndHear();
  });

  it('reconnects after a dropped connection', async () => {
    // Connections renew every few seconds here: drop one that is open, so a drop is what is tested.
    const { connections: start, dropped } = streaming();
    await waitUntil('an open stream dropped', async () => ((await open()) === 1 ? stack.emulator.admin.dropStreams(ALICE) : 0), (n) => n === 1);
    expect(streaming().dropped).toBe(dropped + 1);
    await waitUntil('a new connection', async () => streaming().connections, (n) => n > start, 30_000);
    await waitUntil('one open stream', open, (n) => n === 1);
    await changeAndHear();
  });

  it('subscribes again after ErrorSubscriptionNotFound, waiting out ErrorServerBusy on Subscribe', async () => {
    const { subscribes, notFound } = streaming();
    stack.emulator.admin.failSubscribe({ kind: 'busy-fault', backOffMs: 500 }, 1);
    stack.emulator.admin.expireSubscriptions(ALICE);
    stack.emulator.admin.dropStreams(ALICE);
    await waitUntil('ErrorSubscriptionNotFound seen, then two Subscribes (busy, then ok)', async () => streaming(), (s) => s.notFound > notFound && s.subscribes >= subscribes + 2, 30_000);
    await waitUntil('one open stream', open, (n) => n === 1);
    await changeAndHear();
  });

  it('refreshes the token when the server refuses it (401) and streams on', async () => {
    const refreshes = stack.emulator.admin.stats().tokenRequests.refresh_token;
    // Two hours later by the emulator's clock: every token the daemon holds has expired there.
    stack.emulator.admin.advanceTime(2 * 3600_000);
    try {
      stack.emulator.admin.dropStreams(ALICE);
      await waitUntil('a token refresh', async () => stack.emulator.admin.stats().tokenRequests.refresh_token, (n) => n > refreshes, 30_000);
      await waitUntil('one open stream', open, (n) => n === 1);
      await changeAndHear();
    } finally {
      stack.emulator.admin.advanceTime(-2 * 3600_000);
    }
  });

  it('never had more than one connection open for the mailbox', () => {
    expect(streaming().peakConnections[ALICE]).toBe(1);
  });
});

describe('realtime: false', () => {
  let stack: Stack;
  afterAll(async () => stack?.close());

  it('opens no stream, and status says the count is fetched on request, then polled once someone listens', async () => {
    stack = await startStack({ config: { realtime: false } });
    await stack.signIn();
    type Status = { accounts: { realtime: { kind: string; reason: string } }[] };
    expect((await stack.json<Status>(['status'])).accounts[0]?.realtime).toMatchObject({ kind: 'off', reason: expect.stringContaining('"realtime": false') });
    const client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
    try {
      await client.call('events.subscribe', { watching: true });
      expect((await stack.json<Status>(['status'])).accounts[0]?.realtime).toMatchObject({ kind: 'polling', reason: expect.stringContaining('every 15 s') });
    } finally {
      client.close();
    }
    expect(stack.emulator.admin.stats().streaming.subscribes).toBe(0);
  }, 60_000);
});

describe('Microsoft Graph (backend graph): polled while someone watches', () => {
  let stack: Stack;
  afterAll(async () => stack?.close());

  it('polls every 15 s for a watcher, says why, and opens no EWS stream', async () => {
    stack = await startStack({ config: { backend: 'graph' } });
    await stack.signIn();
    const client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
    const heard: InboxCount[] = [];
    client.onNotification(({ method, params }) => {
      if (method === 'inbox.changed') heard.push(params as InboxCount);
    });
    try {
      await client.call('events.subscribe', { watching: true });
      stack.emulator.admin.setMailbox(ALICE, { total: 4_900, unread: 30 });
      await waitUntil('the change, polled', async () => heard.at(-1)?.total, (t) => t === 4_900, 40_000);
      expect(heard.at(-1)).toMatchObject({ backend: 'graph', unread: 30 });
      type Status = { accounts: { realtime: { kind: string; reason: string } }[] };
      expect((await stack.json<Status>(['status'])).accounts[0]?.realtime).toMatchObject({ kind: 'polling', reason: expect.stringMatching(/every 15 s: Microsoft Graph answers/) });
    } finally {
      client.close();
    }
    expect(stack.emulator.admin.stats().ewsRequests).toBe(0);
  }, 90_000);
});

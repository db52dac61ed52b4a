// Counts in real time (issue 12): mailbox change in the emulator → inbox.changed at a subscriber,
// median and p99 over BENCH_CHANGES changes (default 50), through EWS streaming and through the
// polling it replaces (pollIntervalSeconds BENCH_POLL_S, default 5, the least allowed; changes
// land at random points of the interval, as mail does); and the requests the daemon makes in
// BENCH_IDLE_MINUTES (default 10) idle minutes with a badge listening, streaming vs polling at
// the default 60 s. The badge in Chromium: test/e2e/realtime.test.ts prints its figure.
import { performance } from 'node:perf_hooks';
import type { InboxCount } from '../../shared/protocol';
import { RpcClient } from '../../host/src/daemon-client/rpc-client';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

const ALICE = 'alice@contoso.example';
const CHANGES = Number(process.env.BENCH_CHANGES ?? 50);
const POLL_S = Number(process.env.BENCH_POLL_S ?? 5);
const IDLE_MINUTES = Number(process.env.BENCH_IDLE_MINUTES ?? 10);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listen(stack: Stack): Promise<{ client: RpcClient; next(total: number): Promise<void> }> {
  const client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
  const waiting = new Map<number, () => void>();
  client.onNotification(({ method, params }) => {
    if (method === 'inbox.changed') waiting.get((params as InboxCount).total)?.();
  });
  await client.call('events.subscribe');
  return { client, next: (total) => new Promise<void>((resolve) => waiting.set(total, resolve)) };
}

async function latency(config: Record<string, unknown>, spreadMs: number): Promise<number[]> {
  const stack = await startStack({ config });
  try {
    await stack.signIn();
    const { client, next } = await listen(stack);
    if (config.realtime !== false) await waitUntil('a stream', async () => stack.emulator.admin.openStreams(ALICE), (n) => n === 1);
    const xs: number[] = [];
    for (let i = 1; i <= CHANGES; i++) {
      await sleep(Math.random() * spreadMs);
      const heard = next(4817 + i);
      const t = performance.now();
      stack.emulator.admin.setMailbox(ALICE, { total: 4817 + i, unread: 23 });
      await heard;
      xs.push(performance.now() - t);
    }
    client.close();
    return xs;
  } finally {
    await stack.close();
  }
}

async function idleRequests(config: Record<string, unknown>): Promise<{ requests: number; detail: string }> {
  const stack = await startStack({ config });
  try {
    await stack.signIn();
    const { client } = await listen(stack);
    await sleep(2_000); // the first count and the stream settle
    const before = stack.emulator.admin.stats();
    await sleep(IDLE_MINUTES * 60_000);
    const after = stack.emulator.admin.stats();
    client.close();
    const ews = after.ewsRequests - before.ewsRequests;
    const tokens = after.tokenRequests.refresh_token - before.tokenRequests.refresh_token;
    const conns = after.streaming.connections - before.streaming.connections;
    return { requests: ews + tokens, detail: `${ews} EWS (of which ${conns} GetStreamingEvents), ${tokens} token` };
  } finally {
    await stack.close();
  }
}

const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms, p99 ${p99(xs).toFixed(0)} ms`;
const streaming = await latency({}, 300);
console.log(`change → inbox.changed through EWS streaming, ${CHANGES} changes: ${fmt(streaming)} (target ≤ 500 ms median, the 200 ms debounce included)`);
const polled = await latency({ realtime: false, pollIntervalSeconds: POLL_S }, POLL_S * 1000);
console.log(`change → inbox.changed through polling every ${POLL_S} s, ${CHANGES} changes: ${fmt(polled)} (at the default 60 s, expect ~30 s median)`);
const idleStreaming = await idleRequests({});
const idlePolling = await idleRequests({ realtime: false });
console.log(`requests in ${IDLE_MINUTES} idle minutes with the badge listening: streaming ${idleStreaming.requests} (${idleStreaming.detail}); polling every 60 s ${idlePolling.requests} (${idlePolling.detail})`);

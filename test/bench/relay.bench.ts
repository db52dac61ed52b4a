// Native-host benchmarks (issue 3): start to first answer with the daemon warm, against the
// floor of `node -e ''`; how soon it exits once the browser closes stdin; a status round trip
// through one relay (median, p99); sustained messages per second through one relay. The relay
// is spoken to through real pipes, as a browser would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EXTENSION_ID } from '../../shared/constants';
import { encodeFrame, FrameDecoder } from '../../shared/framing';
import { REPO, startStack } from '../support/stack';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;
const NATIVE_HOST = path.join(REPO, 'host', 'dist', 'native-host.mjs');
const ORIGIN = `chrome-extension://${EXTENSION_ID}/`;

class Relay {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly decoder = new FrameDecoder();
  private readonly waiting = new Map<number, () => void>();
  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [NATIVE_HOST, ORIGIN], { env });
    this.child.stdout.on('data', (d) => {
      for (const f of this.decoder.push(d)) {
        if (f.kind !== 'message') continue;
        const id = (f.value as { id?: number }).id;
        if (typeof id === 'number') this.waiting.get(id)?.();
        if (typeof id === 'number') this.waiting.delete(id);
      }
    });
  }
  call(id: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(encodeFrame({ jsonrpc: '2.0', id, method: 'status' }));
    });
  }
  close(): Promise<unknown> {
    this.child.stdin.end();
    return new Promise((r) => this.child.on('exit', r));
  }
}

const stack = await startStack();
try {
  await stack.signIn();
  await stack.json(['inbox']);
  const env = stack.env;

  const start: number[] = [];
  const exit: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const relay = new Relay(env);
    await relay.call(1);
    start.push(performance.now() - t);
    const closedAt = performance.now();
    await relay.close();
    exit.push(performance.now() - closedAt);
  }
  const floor: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await new Promise((r) => spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }).on('exit', r));
    floor.push(performance.now() - t);
  }
  console.log(`native host start to first answer: median ${median(start).toFixed(1)} ms; node -e '' ${median(floor).toFixed(1)} ms; ${(median(start) / median(floor)).toFixed(2)}× the floor (target ≤ 1.5×)`);
  console.log(`native host stdin closed to exit: median ${median(exit).toFixed(1)} ms, max ${Math.max(...exit).toFixed(1)} ms (target ≤ 1000 ms)`);

  const relay = new Relay(env);
  await relay.call(0);
  const rtt: number[] = [];
  for (let i = 1; i <= 3000; i++) {
    const t = performance.now();
    await relay.call(i);
    rtt.push(performance.now() - t);
  }
  console.log(`status round trip through the relay: median ${median(rtt).toFixed(3)} ms, p99 ${p99(rtt).toFixed(3)} ms (targets ≤ 0.5 ms, ≤ 2 ms)`);

  const n = 30_000;
  const t = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) all.push(relay.call(100_000 + i));
  await Promise.all(all);
  const secs = (performance.now() - t) / 1000;
  console.log(`sustained through one relay: ${Math.round(n / secs).toLocaleString('en-US')} messages/s (${n} status requests, pipelined; target ≥ 10,000)`);
  await relay.close();
} finally {
  await stack.close();
}

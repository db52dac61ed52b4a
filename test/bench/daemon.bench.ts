// Daemon benchmarks (issue 2): a silent token from a warm cache against a plugin that reads and
// parses the file on every access; inbox.count through the daemon against a bare request of the
// same SOAP; token requests made by 1,000 concurrent counts at expiry; start to socket ready;
// RSS after idling (BENCH_IDLE_MINUTES, default 10). Medians, so the machine's noise shows less.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import { MsalClient } from '../../host/src/auth/msal-client';
import { TokenStore } from '../../host/src/auth/token-store';
import { loadConfig } from '../../host/src/config/load-config';
import { RpcClient } from '../../host/src/daemon-client/rpc-client';
import { createHttp } from '../../host/src/io/http';
import { silentLog } from '../../host/src/io/log';
import { buildGetFolderInboxRequest } from '../../host/src/mailbox/ews-soap';
import { LAUNCHER, startStack, type Stack } from '../support/stack';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;

class ReadEveryTimePlugin implements ICachePlugin {
  constructor(private readonly file: string) {}
  async beforeCacheAccess(ctx: TokenCacheContext) {
    ctx.tokenCache.deserialize(readFileSync(this.file, 'utf8'));
  }
  async afterCacheAccess(ctx: TokenCacheContext) {
    if (ctx.cacheHasChanged) writeFileSync(this.file, ctx.tokenCache.serialize(), { mode: 0o600 });
  }
}

async function silentToken(stack: Stack) {
  await stack.stopDaemon();
  const config = await loadConfig(stack.configFile);
  const http = createHttp({ userAgent: 'bench', extraCaPem: stack.emulator.caPem });
  const time = async (plugin: ICachePlugin, n: number) => {
    const msal = new MsalClient({ config, http, log: silentLog, cachePlugin: plugin });
    const [account] = await msal.accounts();
    await msal.acquire(account!.homeAccountId, 'ews', { forceRefresh: false });
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await msal.acquire(account!.homeAccountId, 'ews', { forceRefresh: false });
      samples.push(performance.now() - t);
    }
    return median(samples);
  };
  const warm = await time(new TokenStore({ file: `${stack.home}/token-cache.json`, log: silentLog }), 3000);
  const naive = await time(new ReadEveryTimePlugin(`${stack.home}/token-cache.json`), 1000);
  await http.close();
  console.log(`silent token, warm cache: median ${ms(warm)} per call (target ≤ 0.5 ms); read-every-time plugin ${ms(naive)}; ${(naive / warm).toFixed(1)}× faster (target ≥ 10×)`);
}

async function inboxVsBareFetch(stack: Stack) {
  await stack.json(['inbox']);
  const client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
  const token = (await stack.cli(['token'])).stdout.trim();
  const http = createHttp({ userAgent: 'bench', extraCaPem: stack.emulator.caPem });
  const body = buildGetFolderInboxRequest();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'text/xml; charset=utf-8', 'x-anchormailbox': 'alice@contoso.example' };
  const daemon: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 300; i++) {
    let t = performance.now();
    await client.call('inbox.count', { maxAgeMs: 0 });
    daemon.push(performance.now() - t);
    t = performance.now();
    await http.request({ method: 'POST', url: stack.emulator.ewsUrl, headers, body });
    bare.push(performance.now() - t);
  }
  client.close();
  await http.close();
  console.log(`inbox.count through the daemon: median ${ms(median(daemon))}; bare request of the same SOAP ${ms(median(bare))}; ratio ${(median(daemon) / median(bare)).toFixed(2)}× (target ≤ 1.3×)`);
}

async function thousandAtExpiry(stack: Stack) {
  stack.emulator.admin.setLifetimes({ accessTokenSeconds: 3 });
  await stack.json(['token', '--force-refresh']);
  await new Promise((r) => setTimeout(r, 3500)); // expired now; renewals are spaced ≥ 30 s apart
  stack.emulator.admin.resetStats();
  const client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
  await Promise.all(Array.from({ length: 1000 }, () => client.call('inbox.count', { maxAgeMs: 0 })));
  client.close();
  const n = stack.emulator.admin.stats().tokenRequests.refresh_token;
  stack.emulator.admin.setLifetimes({ accessTokenSeconds: 3600 });
  console.log(`1,000 concurrent inbox.count at expiry: ${n} token request(s) (target exactly 1)`);
}

function connectOnce(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

async function startToReady(stack: Stack) {
  await stack.stopDaemon();
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    const child = spawn(process.execPath, [LAUNCHER, 'run'], { env: stack.env, stdio: 'ignore' });
    while (!(await connectOnce(`${stack.home}/daemon.sock`))) await new Promise((r) => setTimeout(r, 2));
    samples.push(performance.now() - t);
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
  const floor: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await new Promise((r) => spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }).on('exit', r));
    floor.push(performance.now() - t);
  }
  console.log(`daemon start to socket ready: median ${ms(median(samples))}, p99 ${ms(p99(samples))} (target ≤ 300 ms); node -e '' floor ${ms(median(floor))}`);
}

async function idleRss(stack: Stack) {
  const minutes = Number(process.env.BENCH_IDLE_MINUTES ?? 10);
  await stack.json(['inbox']);
  const pid = (await stack.daemonPid())!;
  await new Promise((r) => setTimeout(r, minutes * 60_000));
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  console.log(`daemon RSS after ${minutes} idle minutes: ${(Number(rss) / 1024).toFixed(1)} MB (target ≤ 80 MB)`);
}

const stack = await startStack();
try {
  await stack.signIn();
  await silentToken(stack);
  await inboxVsBareFetch(stack);
  await thousandAtExpiry(stack);
  await startToReady(stack);
  await idleRss(stack);
} finally {
  await stack.close();
}

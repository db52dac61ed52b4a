// The compressed soak (issue 10, "Done when"): against the emulator with 3-second access tokens,
// the real CLI calls the daemon one call after another (inbox --max-age 0, token, status) while
// the daemon is killed with SIGKILL every 10–20 s and token-endpoint and EWS faults are injected
// every few seconds; the cache is sealed under a key file. Prints calls, failures by code, stale answers (marked, and any unmarked:
// older than asked without saying so, which must be 0), re-consents and corrupt caches (both
// must be 0). `npm run bench -- soak`; SOAK_MINUTES (default 5) sets the length.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import type { EwsFault, TokenFault } from '../emulator/index';
import { alive, startStack, type Stack } from '../support/stack';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 5);
/** Kill -9 the daemon after a random 10–20 s. */
const KILL_MIN_MS = 10_000;
const KILL_SPREAD_MS = 10_000;
/** A fault every 3–7 s, at one endpoint or the other. */
const FAULT_MIN_MS = 3_000;
const FAULT_SPREAD_MS = 4_000;

const TOKEN_FAULTS: TokenFault[] = [
  { kind: 'http', status: 503 },
  { kind: 'http', status: 429, retryAfterSeconds: 2 },
  { kind: 'drop' },
  { kind: 'slow', ms: 1_500 },
];
const EWS_FAULTS: EwsFault[] = [{ kind: 'busy-fault', backOffMs: 5_000 }, 'http-503', { kind: 'slow', ms: 1_500 }, 'connection-count'];

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  calls: number;
  ok: number;
  failures: Map<string, number>;
  /** The first message seen for each failure code, to say what it was. */
  examples: Map<string, string>;
  staleMarked: number;
  staleUnmarked: number;
  reconsents: number;
  kills: number;
  tokenFaults: number;
  ewsFaults: number;
}

function failure(stdout: string): { code: string; message: string } {
  try {
    const e = (JSON.parse(stdout) as { error?: { message?: string; data?: { code?: string } } }).error;
    return { code: e?.data?.code ?? 'unparsable', message: e?.message ?? stdout.slice(0, 200) };
  } catch {
    return { code: 'unparsable', message: stdout.slice(0, 200) };
  }
}

async function oneCall(stack: Stack, f: Figures, n: number): Promise<void> {
  const kind = n % 4 === 3 ? 'token' : n % 4 === 2 ? 'status' : 'inbox';
  const args = kind === 'inbox' ? ['inbox', '--max-age', '0', '--json'] : [kind, '--json'];
  const startedAt = Date.now();
  const r = await stack.cli(args);
  f.calls++;
  // Exit 3 (needs sign-in) answers a status call; for inbox and token it is a failure to count.
  if (r.code !== 0 && !(kind === 'status' && r.code === 3)) {
    const { code, message } = failure(r.stdout);
    f.failures.set(code, (f.failures.get(code) ?? 0) + 1);
    if (!f.examples.has(code)) f.examples.set(code, `${kind} after ${Date.now() - startedAt} ms (${f.kills} kills so far): ${message}`);
    return;
  }
  f.ok++;
  if (kind === 'inbox') {
    const count = JSON.parse(r.stdout) as InboxCount;
    if (count.stale) f.staleMarked++;
    else if (count.fetchedAt < startedAt) f.staleUnmarked++;
  }
  if (kind === 'status' && (JSON.parse(r.stdout) as StatusResult).accounts.some((a) => a.state.kind === 'needs-consent')) {
    f.reconsents++;
    await stack.signIn();
  }
}

async function killer(stack: Stack, f: Figures, until: number): Promise<void> {
  while (Date.now() < until) {
    await sleep(KILL_MIN_MS + Math.random() * KILL_SPREAD_MS);
    const pid = await stack.daemonPid();
    if (pid && alive(pid)) {
      process.kill(pid, 'SIGKILL');
      f.kills++;
    }
  }
}

async function faults(stack: Stack, f: Figures, until: number): Promise<void> {
  while (Date.now() < until) {
    await sleep(FAULT_MIN_MS + Math.random() * FAULT_SPREAD_MS);
    if (Math.random() < 0.5) {
      stack.emulator.admin.failToken(pick(TOKEN_FAULTS), 1);
      f.tokenFaults++;
    } else {
      stack.emulator.admin.failEws(pick(EWS_FAULTS), 1);
      f.ewsFaults++;
    }
  }
}

async function corruptCopies(home: string): Promise<number> {
  return (await fs.readdir(home)).filter((n) => n.includes('.corrupt-')).length;
}

async function main(): Promise<void> {
  const stack = await startStack();
  const f: Figures = { calls: 0, ok: 0, failures: new Map(), examples: new Map(), staleMarked: 0, staleUnmarked: 0, reconsents: 0, kills: 0, tokenFaults: 0, ewsFaults: 0 };
  try {
    stack.emulator.admin.setLifetimes({ accessTokenSeconds: 3 });
    // The cache sealed under a key file: a headless machine has no keyring to hold the key.
    const keyFile = path.join(stack.home, 'cache.key');
    await fs.writeFile(keyFile, randomBytes(32), { mode: 0o600 });
    await stack.writeConfig({ cacheKeyFile: keyFile });
    await stack.signIn();
    const until = Date.now() + MINUTES * 60_000;
    const callers = (async () => {
      for (let n = 0; Date.now() < until; n++) await oneCall(stack, f, n);
    })();
    await Promise.all([callers, killer(stack, f, until), faults(stack, f, until)]);
    stack.emulator.admin.clearFaults();
    const tokenRequests = stack.emulator.admin.stats().tokenRequests;
    const corrupt = await corruptCopies(stack.home);
    const cache = await fs.readFile(path.join(stack.home, 'token-cache.json'), 'utf8').catch(() => '');
    const plainTokens = /"secret"\s*:/.test(cache);
    const log = await fs.readFile(path.join(stack.home, 'daemon.log'), 'utf8').catch(() => '');
    const crashes = log.split('\n').filter((l) => /uncaught exception|unhandled rejection|"msg":"cannot start"/.test(l));
    console.log(`soak: ${MINUTES} min, 3-second access tokens, ${f.kills} kill -9 of the daemon, ${f.tokenFaults} token faults and ${f.ewsFaults} EWS faults injected`);
    console.log(`calls: ${f.calls} (inbox --max-age 0, status, token in turn through the CLI), answered: ${f.ok}`);
    console.log(`failures by code: ${f.failures.size ? [...f.failures].map(([c, n]) => `${c} ${n}`).join(', ') : 'none'}`);
    for (const [code, example] of f.examples) console.log(`  ${code}, e.g. ${example}`);
    console.log(`stale answers: ${f.staleMarked} marked stale (server back-off), ${f.staleUnmarked} older than asked without saying so`);
    console.log(`re-consents: ${f.reconsents}; corrupt caches: ${corrupt}; cache file ${cache.length > 0 ? (plainTokens ? 'present, HOLDING TOKEN STRINGS' : 'present, sealed') : 'MISSING'}`);
    console.log(`daemon log: ${crashes.length} crash or start-failure lines${crashes.length ? `, first: ${crashes[0]!.slice(0, 400)}` : ''}`);
    console.log(`token endpoint: ${tokenRequests.refresh_token} refresh_token and ${tokenRequests.authorization_code} authorization_code requests`);
    if (f.reconsents > 0 || corrupt > 0 || f.staleUnmarked > 0 || cache.length === 0 || plainTokens) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

await main();

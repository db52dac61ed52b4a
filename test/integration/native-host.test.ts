// The real native host against the real daemon, spoken to through pipes as a browser does: ten
// started at once leave exactly one daemon; the extension gets status but never a raw token;
// an extension that is not allowed is refused; closing stdin ends the host.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ID } from '../../shared/constants';
import { encodeFrame, FrameDecoder } from '../../shared/framing';
import type { StatusResult } from '../../shared/protocol';
import { REPO, startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

const NATIVE_HOST = path.join(REPO, 'host', 'dist', 'native-host.mjs');

/** How long a host may take to answer: ten node processes and a cold daemon start at once on a loaded machine. */
const ANSWER_TIMEOUT_MS = 60_000;

class Host {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  private readonly decoder = new FrameDecoder();
  private readonly frames: Record<string, unknown>[] = [];
  private readonly arrived = new EventEmitter();
  constructor(env: Record<string, string>, origin: string) {
    this.child = spawn(process.execPath, [NATIVE_HOST, origin], { env });
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
    this.child.on('exit', () => this.arrived.emit('change'));
    this.child.stdout.on('data', (d) => {
      for (const f of this.decoder.push(d)) if (f.kind === 'message') this.frames.push(f.value as Record<string, unknown>);
      this.arrived.emit('change');
    });
  }
  send(msg: unknown) {
    this.child.stdin.write(encodeFrame(msg));
  }
  /** The next frame; fails at once if the host exits without one. */
  async next(timeoutMs = ANSWER_TIMEOUT_MS): Promise<Record<string, unknown>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    while (this.frames.length === 0) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`the native host exited (${this.child.exitCode ?? this.child.signalCode}) without a frame`);
      if (timeout.aborted) throw new Error(`no frame from the native host in ${timeoutMs} ms`);
      await once(this.arrived, 'change', { signal: timeout }).catch(() => undefined);
    }
    return this.frames.shift()!;
  }
}

/** Daemons serving this home: `ews-daemon run` processes whose environment names it. */
function daemonsFor(home: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (cmd.includes('run') && cmd.some((c) => c.endsWith('ews-daemon')) && env.includes(`EWS_DAEMON_HOME=${home}`)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

describe('the native host with the real daemon', () => {
  let stack: Stack;
  const ours = `chrome-extension://${EXTENSION_ID}/`;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.close());

  it('leaves exactly one daemon when ten hosts start at once, and all ten are answered', async () => {
    const hosts = Array.from({ length: 10 }, () => new Host(stack.env, ours));
    hosts.forEach((h, i) => h.send({ jsonrpc: '2.0', id: i + 1, method: 'status' }));
    const answers = await Promise.all(hosts.map((h) => h.next()));
    const pids = new Set(answers.map((a) => (a.result as StatusResult).daemon.pid));
    expect(pids.size).toBe(1);
    // A losing `run` exits by itself once it finds the lock taken: wait until only the winner is left.
    await waitUntil('one daemon left', async () => daemonsFor(stack.home), (found) => found.length === 1);
    expect(daemonsFor(stack.home)).toEqual([...pids]);
    for (const h of hosts) h.child.stdin.end();
    const codes = await Promise.all(hosts.map((h) => h.exited));
    expect(codes.every((c) => c === 0)).toBe(true);
  }, 120_000);

  it('never hands the extension a raw token', async () => {
    const h = new Host(stack.env, ours);
    h.send({ jsonrpc: '2.0', id: 1, method: 'token.get' });
    expect(await h.next()).toMatchObject({ id: 1, error: { data: { code: 'method_forbidden' } } });
    h.child.stdin.end();
    expect(await h.exited).toBe(0);
  });

  it('refuses an extension that is not allowed, with one clear error, and exits', async () => {
    const h = new Host(stack.env, 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/');
    h.send({ jsonrpc: '2.0', id: 1, method: 'status' });
    const refusal = await h.next();
    expect(refusal).toMatchObject({ error: { data: { code: 'origin_forbidden' } } });
    expect(JSON.stringify(refusal)).toMatch(/extensionIds/);
    expect(await h.exited).toBe(1);
  });
});

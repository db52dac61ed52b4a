// `consent --device-code` against the emulator, through the real CLI and daemon: the code is
// approved on the verification page (or by the admin API), declined, left to expire, polled
// too fast (slow_down), refused by policy, or cancelled with Ctrl-C; for a confidential and a
// public client. No sleeps: each step waits for the CLI's output or the emulator's counters.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StatusResult } from '../../shared/protocol';
import { createHttp } from '../../host/src/io/http';
import { alive, spawnCli, startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

interface Begun {
  userCode: string;
  verificationUri: string;
  expiresAt: number;
  message: string;
}

interface Run {
  child: ChildProcess;
  begun: Promise<Begun>;
  done: Promise<{ code: number | null; lines: unknown[]; stderr: string; stdout: string }>;
}

describe('consent --device-code', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    stack.emulator.admin.setAllowPublicClient(true);
  });
  beforeEach(() => stack.emulator.admin.setDeviceCodeTiming({ intervalSeconds: 1, expiresInSeconds: 900 }));
  afterAll(async () => stack?.close());

  /** The CLI with --json: its first line is the code to enter, its last the outcome. */
  function deviceCode(): Run {
    const cli = spawnCli(stack, ['consent', '--device-code', '--json']);
    const begun = new Promise<Begun>((resolve, reject) => {
      cli.child.stdout.on('data', () => {
        const first = cli.lines().length > 0 ? parseLine(cli.lines()[0]!) : null;
        if (first && 'userCode' in first) resolve(first as unknown as Begun);
      });
      cli.child.on('close', () => reject(new Error(`the CLI ended before printing a code: ${cli.stdout()}${cli.stderr()}`)));
    });
    begun.catch(() => undefined);
    const done = cli.exited.then((code) => ({ code, stderr: cli.stderr(), stdout: cli.stdout(), lines: parseJsonValues(cli.stdout()) }));
    return { child: cli.child, begun, done };
  }

  it('prints the address, the code and the expiry, then who signed in once approved on the page', async () => {
    const run = deviceCode();
    const begun = await run.begun;
    expect(begun.userCode).toMatch(/^[A-Z0-9]{9}$/);
    expect(begun.verificationUri).toBe(`${stack.emulator.url}/common/oauth2/deviceauth`);
    expect(begun.expiresAt).toBeGreaterThan(Date.now() + 800_000);
    expect(begun.message).toContain(begun.userCode);
    const page = await approveOnPage(begun);
    expect(page).toContain('You have signed in');
    const { code, lines } = await run.done;
    expect(code).toBe(0);
    expect(lines[1]).toMatchObject({ kind: 'signed-in', account: { username: 'alice@contoso.example' } });
    // A confidential client renews the device code's grant with its own secret.
    expect((await stack.json<{ account: string }>(['token', '--force-refresh'])).account).toBe('alice@contoso.example');
    expect((await stack.cli(['inbox'])).stdout).toMatch(/Inbox 4,817 items \(23 unread\)/);
  });

  it('answers a declined code, an expired one, and a policy refusal with what to do', async () => {
    await stack.cli(['logout']);
    const declined = deviceCode();
    stack.emulator.admin.declineDeviceCode((await declined.begun).userCode);
    expect(await failure(declined)).toMatchObject({ code: 'device_code_declined' });

    stack.emulator.admin.setDeviceCodeTiming({ expiresInSeconds: 2 });
    const expired = await failure(deviceCode());
    expect(expired.code).toBe('device_code_expired');
    expect(expired.advice).toContain('consent --device-code');

    const blocked = deviceCode();
    await blocked.begun;
    stack.emulator.admin.failToken({ kind: 'aadsts', status: 400, error: 'invalid_grant', aadsts: 53003 }, 1);
    const refusal = await failure(blocked);
    expect(refusal).toMatchObject({ code: 'conditional_access', aadsts: 53003 });
    expect(refusal.advice).toMatch(/`ews-daemon consent --listen`.*`--paste`/);
    // JSON lines, as the code was: a script reading line by line gets the error whole.
    const printed = (await blocked.done).stdout.trimEnd().split('\n');
    expect(printed).toHaveLength(2);
    expect(JSON.parse(printed[1]!)).toMatchObject({ error: { data: { code: 'conditional_access' } } });
  });

  it('waits 5 s more after a slow_down, and is never told to slow down again', async () => {
    stack.emulator.admin.resetStats();
    const before = stack.emulator.admin.stats();
    stack.emulator.admin.slowDownDeviceCodes(1);
    const run = deviceCode();
    const begun = await run.begun;
    // The poll after the slow_down, as the emulator saw them both.
    const polls = await waitUntil('a poll after the slow_down', async () => stack.emulator.admin.stats().deviceCodePolls, (p) => p.findIndex((x) => x.answer === 'slow_down') >= 0 && p.at(-1)?.answer !== 'slow_down', 25_000);
    const slowed = polls.findIndex((x) => x.answer === 'slow_down');
    // The interval (1 s) plus the 5 s slow_down asks for; load can only make it longer.
    expect(polls[slowed + 1]!.at - polls[slowed]!.at).toBeGreaterThanOrEqual(6_000);
    stack.emulator.admin.approveDeviceCode(begun.userCode, 'alice@contoso.example');
    const done = await run.done;
    const log = done.code === 0 ? '' : await fs.readFile(path.join(stack.home, 'daemon.log'), 'utf8').catch(() => '');
    expect(done.code, `${JSON.stringify(done)}\n${log.slice(-3000)}`).toBe(0);
    expect(stack.emulator.admin.stats().deviceCodeSlowDowns).toBe(before.deviceCodeSlowDowns + 1);
  });

  it('Ctrl-C cancels the daemon-side flow too', async () => {
    const run = deviceCode();
    await run.begun;
    await waitUntil('the sign-in pending in the daemon', () => stack.json<StatusResult>(['status']), (s) => s.pendingConsents === 1);
    run.child.kill('SIGINT');
    expect(await failure(run)).toMatchObject({ code: 'cancelled' });
    await waitUntil('no sign-in pending', () => stack.json<StatusResult>(['status']), (s) => s.pendingConsents === 0);
  });

  it('does not keep a stopping daemon alive while a device code is pending', async () => {
    const run = deviceCode();
    await run.begun;
    const pid = (await stack.daemonPid())!;
    await stack.stopDaemon('SIGTERM');
    expect(alive(pid), 'the daemon should exit on SIGTERM with a device code pending').toBe(false);
    expect((await run.done).code).toBe(1);
  });

  it('tells a registration without public client flows what to turn on (AADSTS7000218)', async () => {
    stack.emulator.admin.setAllowPublicClient(false);
    try {
      const e = await failure(deviceCode());
      expect(e).toMatchObject({ code: 'app_misconfigured', aadsts: 7000218 });
      expect(e.advice).toContain('"Allow public client flows" Yes');
    } finally {
      stack.emulator.admin.setAllowPublicClient(true);
    }
  });

  it('says so when Entra refuses the device code request itself (an unknown app, AADSTS700016)', async () => {
    await stack.stopDaemon();
    await stack.writeConfig({ clientId: 'no-such-app' });
    try {
      expect(await failure(deviceCode())).toMatchObject({ code: 'app_misconfigured', aadsts: 700016 });
    } finally {
      await stack.stopDaemon();
      await stack.writeConfig({});
    }
  });

  it('works for a public client, whose refreshes carry no credential', async () => {
    await stack.stopDaemon();
    await stack.writeConfig({ clientSecret: undefined, redirectUri: 'http://localhost:53100' });
    const run = deviceCode();
    stack.emulator.admin.approveDeviceCode((await run.begun).userCode, 'alice@contoso.example');
    expect((await run.done).code).toBe(0);
    expect((await stack.json<StatusResult>(['status'])).client).toMatchObject({ kind: 'public' });
    expect((await stack.json<{ account: string }>(['token', '--force-refresh'])).account).toBe('alice@contoso.example');
  });

  it('reaches Graph without a browser once EWS is off: the error says how, and a device code with Graph configured does it', async () => {
    const { admin } = stack.emulator;
    const carol = 'carol@contoso.example'; // never signed in here: no consent to either resource yet
    admin.addUser({ username: carol });
    admin.setEwsDisabled(true);
    try {
      await stack.stopDaemon();
      await stack.writeConfig({});
      await stack.cli(['logout']);
      const first = deviceCode();
      admin.approveDeviceCode((await first.begun).userCode, carol);
      expect((await first.done).code).toBe(0);
      const refused = await stack.cli(['inbox']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/did not grant .*Mail\.ReadBasic, which this account needs now that EWS is turned off/);
      expect(refused.stderr).toContain('without a browser, set "backend": "graph" in config.json, restart the daemon and run `ews-daemon consent --device-code`');

      // What the advice says, done.
      await stack.stopDaemon();
      await stack.writeConfig({ backend: 'graph' });
      const second = deviceCode();
      admin.approveDeviceCode((await second.begun).userCode, carol);
      expect((await second.done).code).toBe(0);
      expect((await stack.cli(['inbox'])).stdout).toMatch(/carol@contoso\.example {2}Inbox .* via Microsoft Graph/);
    } finally {
      admin.setEwsDisabled(false);
      await stack.cli(['logout']);
      await stack.stopDaemon();
      await stack.writeConfig({});
    }
  });

  async function approveOnPage(begun: Begun): Promise<string> {
    const http = createHttp({ userAgent: 'a-phone', extraCaPem: stack.emulator.caPem });
    try {
      expect((await http.request({ method: 'GET', url: begun.verificationUri })).body).toContain('id="otc"');
      const body = new URLSearchParams({ otc: begun.userCode.toLowerCase(), username: 'alice@contoso.example', action: 'approve' }).toString();
      const res = await http.request({ method: 'POST', url: begun.verificationUri, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(res.status).toBe(200);
      return res.body;
    } finally {
      await http.close();
    }
  }
});

/** The error's data from the CLI's last JSON value, after it exited 1. */
async function failure(run: Run): Promise<{ code: string; advice: string; aadsts?: number }> {
  const { code, lines, stderr } = await run.done;
  expect(code, stderr).toBe(1);
  const last = lines[lines.length - 1] as { error?: { data: { code: string; advice: string; aadsts?: number } } };
  if (!last?.error) throw new Error(`no error in the CLI's output: ${JSON.stringify(lines)} ${stderr}`);
  return last.error.data;
}

function parseLine(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null; // the first line of a pretty-printed error
  }
}

/** The CLI's --json output: the code on its first line, then the outcome on one line; or an error alone, before any code (pretty-printed). */
function parseJsonValues(text: string): unknown[] {
  const nl = text.indexOf('\n');
  const first = nl > 0 ? parseLine(text.slice(0, nl)) : null;
  if (!first) return text.trim() ? [JSON.parse(text)] : []; // one value: the error, before any code
  const rest = text.slice(nl + 1).trim();
  return [first, ...(rest ? [JSON.parse(rest)] : [])];
}

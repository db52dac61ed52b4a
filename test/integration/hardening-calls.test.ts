// Calls a hostile or unlucky machine cannot subvert: `consent --listen` that only the right
// browser tab can finish or abort, and that refuses to share its port; `consent complete -`
// that keeps the code off the command line; counts that say when a back-off made them older
// than asked; and a CLI call that rides a kill -9 of its daemon.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { RpcClient } from '../../host/src/daemon-client/rpc-client';
import { spawnCli, startStack, type RunningCli, type Stack } from '../support/stack';
import { freePort } from '../support/free-port';
import { waitUntil } from '../support/wait';


const get = async (url: string) => (await fetch(url)).status;

describe('consent --listen and consent complete -', () => {
  let stack: Stack;
  let port: number;
  let redirectUri: string;
  beforeAll(async () => {
    stack = await startStack();
    port = await freePort();
    redirectUri = `http://localhost:${port}/callback`;
    stack.emulator.admin.addRedirectUri(redirectUri);
    await stack.writeConfig({ redirectUri });
  });
  afterAll(async () => stack?.close());

  async function listening(): Promise<{ consent: RunningCli; authUrl: string; state: string }> {
    const consent = spawnCli(stack, ['consent', '--listen', '--no-open', '--login-hint', 'alice@contoso.example']);
    const authUrl = (await waitUntil('the sign-in address', async () => /(https:\/\/\S+authorize\?\S+)/.exec(consent.stderr())?.[1], (u) => u !== undefined))!;
    await waitUntil('the listener', () => get(`http://127.0.0.1:${port}/elsewhere`).catch(() => 0), (s) => s === 404);
    return { consent, authUrl, state: new URL(authUrl).searchParams.get('state')! };
  }

  it('ignores requests without the pending state (400) on every loopback address, and signs in with the right one', async () => {
    const { consent, authUrl } = await listening();
    expect(await get(`http://127.0.0.1:${port}/callback?code=stolen&state=guessed`)).toBe(400);
    expect(await get(`http://[::1]:${port}/callback?error=access_denied&error_description=aborted`)).toBe(400);
    expect(consent.child.exitCode).toBeNull();
    const reply = await stack.followAuthUrl(authUrl);
    expect(await get(reply)).toBe(200);
    expect(await consent.exited).toBe(0);
    expect(consent.stdout()).toMatch(/^Signed in as alice@contoso\.example/);
  });

  it('prints the error_description of the right tab without its control characters', async () => {
    const { consent, state } = await listening();
    const evil = encodeURIComponent('\u001b]0;pwned\u0007\u001b[2JThe user said no');
    expect(await get(`http://127.0.0.1:${port}/callback?error=access_denied&error_description=${evil}&state=${state}`)).toBe(400);
    expect(await consent.exited).not.toBe(0);
    expect([...consent.stderr()].filter((c) => (c < ' ' && c !== '\n') || c === '\u007f')).toEqual([]);
  });

  it('fails naming 127.0.0.1:PORT when someone else holds it, instead of listening on ::1 alone', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    try {
      const consent = spawnCli(stack, ['consent', '--listen', '--no-open']);
      expect(await consent.exited).toBe(2);
      expect(consent.stderr()).toContain(`Cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  it('consent complete - reads the Reply URL from stdin, off the command line', async () => {
    const begun = await stack.json<{ authUrl: string }>(['consent', 'begin', '--login-hint', 'alice@contoso.example']);
    const reply = await stack.followAuthUrl(begun.authUrl);
    const r = await stack.cli(['consent', 'complete', '-'], { input: `${reply}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Signed in as alice@contoso\.example/);
  });
});

describe('counts during a server back-off', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await stack.signIn();
  });
  afterAll(async () => stack?.close());

  it('say they are older than asked (stale, throttled, retryAt), or are the throttled error for a caller that takes no stale count', async () => {
    const fresh = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(fresh.stale).toBeUndefined();
    stack.emulator.admin.failEws('busy-fault', 1);
    // The call that meets the back-off, and each one during it, get the last count marked stale.
    const met = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(met).toMatchObject({ fetchedAt: fresh.fetchedAt, stale: { reason: 'throttled' } });
    const during = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(during).toMatchObject({ total: fresh.total, fetchedAt: fresh.fetchedAt, stale: { reason: 'throttled' } });
    expect(during.stale!.retryAt).toBeGreaterThan(Date.now());
    expect((await stack.cli(['inbox', '--max-age', '0'])).stdout).toMatch(/older than asked: the mail server asked to wait until \d\d:\d\d:\d\d UTC/);
    // Status says so too (the popup, `status`), not only the caller who asked.
    expect((await stack.json<StatusResult>(['status'])).accounts[0]?.inbox?.stale).toMatchObject({ reason: 'throttled', retryAt: during.stale!.retryAt });
    expect((await stack.cli(['status'])).stdout).toMatch(/older than asked: the mail server asked to wait until \d\d:\d\d:\d\d UTC/);
    // A count young enough for the caller is not stale, back-off or not.
    expect((await stack.json<InboxCount>(['inbox', '--max-age', '3600'])).stale).toBeUndefined();
    const strict = JSON.parse((await stack.cli(['inbox', '--max-age', '0', '--no-stale', '--json'])).stdout) as { error: { data: { code: string; retryAfterMs: number } } };
    expect(strict.error.data.code).toBe('throttled');
    expect(strict.error.data.retryAfterMs).toBeGreaterThan(0);
    const client = await RpcClient.connect({ socketPath: path.join(stack.home, 'daemon.sock'), noStart: true });
    try {
      const e = await client.call('inbox.count', { maxAgeMs: 0, allowStale: false }).then(() => null, (err: unknown) => err as { data: { code: string; retryAfterMs: number } });
      expect(e?.data.code).toBe('throttled');
      expect(e?.data.retryAfterMs).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });
});

describe('a CLI call whose daemon is killed mid-call', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    // A key file holds the cache key, so the restarted daemon does not depend on a keyring here.
    const keyFile = path.join(stack.home, 'cache.key');
    await fs.writeFile(keyFile, randomBytes(32), { mode: 0o600 });
    await stack.writeConfig({ cacheKeyFile: keyFile });
    await stack.signIn();
  });
  afterAll(async () => stack?.close());

  it('starts the daemon again and answers', async () => {
    // Every count (GetFolder) is held until the daemon is killed; the restarted one's is answered.
    stack.emulator.admin.failEws({ kind: 'slow', ms: 120_000 }, Infinity);
    const counts = () => stack.emulator.admin.stats().ewsOperations.GetFolder ?? 0;
    const before = counts();
    const pid = (await stack.daemonPid())!;
    const call = stack.cli(['inbox', '--max-age', '0', '--json']);
    await waitUntil('the call to be held at EWS', async () => counts(), (n) => n > before);
    process.kill(pid, 'SIGKILL');
    stack.emulator.admin.clearFaults();
    const r = await call;
    expect(r.stdout, r.stderr).not.toMatch(/"error"/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ account: 'alice@contoso.example', total: 4817, unread: 23 });
    expect(await stack.daemonPid()).not.toBe(pid);
  });
});

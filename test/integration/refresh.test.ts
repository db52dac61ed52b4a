// Staying signed in: the daemon renews access tokens on its own, rides out Entra's transient
// failures without losing the refresh token, shares one token request among a thousand callers,
// and moves the account to "needs consent" only on Entra's verdict.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { RpcClient } from '../../host/src/daemon-client/rpc-client';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

/** The daemon retries a configuration error this rarely (refresher-options.ts: configRetryMs). */
const CONFIG_RETRY_MS = 30 * 60_000;

describe('silent renewal', () => {
  let stack: Stack;
  beforeAll(async () => {
    // No EWS streaming here: this file counts token and GetFolder requests to the unit, and a
    // stream's own reconnects (and the count after each) would add to them (issue 12).
    stack = await startStack({ config: { realtime: false } });
    await stack.signIn();
  });
  afterAll(async () => stack?.close());

  it('renews the access token before it expires, with no caller asking', async () => {
    // A 40-second token is renewed halfway, but never sooner than 30 s after it arrived.
    stack.emulator.admin.setLifetimes({ accessTokenSeconds: 40 });
    const before = await stack.json<{ expiresOn: number }>(['token', '--force-refresh']);
    const first = stack.emulator.admin.stats().tokenRequests.refresh_token;
    await waitUntil('a background renewal', async () => stack.emulator.admin.stats().tokenRequests.refresh_token, (n) => n > first, 100_000);
    const status = await stack.json<StatusResult>(['status']);
    const account = status.accounts[0]!;
    expect(account.state.kind).toBe('signed-in');
    expect(account.accessTokens[0]!.expiresOn).toBeGreaterThan(before.expiresOn);
    expect(account.refreshTokenLapsesAt! - account.lastRefreshAt!).toBe(90 * 24 * 3600_000);
    expect(account.lastRefreshAt!).toBeGreaterThan(before.expiresOn - 40_000);
    stack.emulator.admin.setLifetimes({ accessTokenSeconds: 3600 });
    await stack.json(['token', '--force-refresh']);
  }, 120_000);

  it('makes exactly one token request for 1,000 concurrent inbox counts at expiry', async () => {
    await stack.json(['inbox']);
    stack.emulator.admin.advanceTime(2 * 3600_000); // the emulator now sees the daemon's token as expired
    stack.emulator.admin.resetStats();
    const client = await RpcClient.connect({ socketPath: `${stack.home}/daemon.sock`, noStart: true });
    // The refresh waits at the emulator until all thousand are in: on a loaded machine the count
    // could otherwise finish before the last calls arrive, and those would start a count of their own.
    stack.emulator.admin.hold('token');
    try {
      // The daemon's token is still valid by its clock: force the expiry path with one forced refresh shared by all.
      const calls = Array.from({ length: 1000 }, () => client.call('inbox.count', { maxAgeMs: 0 }));
      await waitUntil('the refresh at the token endpoint', async () => stack.emulator.admin.heldRequests('token'), (n) => n === 1);
      await client.call('status'); // sent after the thousand on the same socket: answered once the daemon has read them all
      stack.emulator.admin.release('token');
      const results = await Promise.all(calls);
      expect(new Set(results.map((r: InboxCount) => r.total)).size).toBe(1);
      expect(stack.emulator.admin.stats().tokenRequests.refresh_token).toBe(1);
      expect(stack.emulator.admin.stats().ewsRequests).toBeLessThanOrEqual(2); // one 401, one retry
    } finally {
      stack.emulator.admin.release('token');
      client.close();
      stack.emulator.admin.advanceTime(-2 * 3600_000);
    }
  });

  it('rides out transient token failures and keeps the refresh token', async () => {
    stack.emulator.admin.failToken({ kind: 'http', status: 503, retryAfterSeconds: 1 }, 2);
    // Token requests wait at the emulator until let go, so the daemon's own retries cannot end
    // the 'retrying' state before the test has looked at it.
    stack.emulator.admin.hold('token');
    try {
      const cli = stack.cli(['token', '--force-refresh', '--json']);
      await waitUntil('the forced refresh at the token endpoint', async () => stack.emulator.admin.heldRequests('token'), (n) => n === 1);
      stack.emulator.admin.release('token', 1); // it gets the first 503
      const r = await cli;
      // The first attempt fails transiently: the caller hears so, and the account is not lost.
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error.data).toMatchObject({ retryable: true });
      expect((await stack.json<StatusResult>(['status'])).accounts[0]!.state.kind).toBe('retrying');
    } finally {
      stack.emulator.admin.release('token');
    }
    await waitUntil('recovery', async () => (await stack.json<StatusResult>(['status'])).accounts[0]!.state.kind === 'signed-in' && (await stack.cli(['token', '--force-refresh'])).code === 0, Boolean, 60_000);
    expect((await stack.json<InboxCount>(['inbox', '--max-age', '0'])).total).toBe(4817);
  });

  it('asks for consent only when Entra says the grant is gone (AADSTS700082), and consent recovers', async () => {
    stack.emulator.admin.expireRefreshTokens('alice@contoso.example');
    const r = await stack.cli(['token', '--force-refresh']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/sign in/i);
    const status = await stack.cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/NEEDS SIGN-IN/);
    expect(status.stdout).toMatch(/AADSTS700082/);
    await stack.signIn();
    expect((await stack.json<StatusResult>(['status'])).accounts[0]!.state.kind).toBe('signed-in');
  });

  it('classifies a wrong client secret as a configuration error and does not hammer Entra', async () => {
    const before = stack.emulator.admin.stats().tokenRequests.refresh_token;
    stack.emulator.admin.failToken({ kind: 'aadsts', status: 401, error: 'invalid_client', aadsts: 7000215 }, 1);
    const r = await stack.cli(['token', '--force-refresh', '--json']);
    expect(JSON.parse(r.stdout).error.data).toMatchObject({ code: 'credential_invalid', aadsts: 7000215 });
    // Classified as configuration, the next attempt is the rare config retry (30 min after the
    // failure), not a transient back-off of seconds: only the failed request reached Entra.
    const state = (await stack.json<StatusResult>(['status'])).accounts[0]!.state;
    expect(state).toMatchObject({ kind: 'retrying', attempt: 1, error: { code: 'credential_invalid', retryable: false } });
    if (state.kind !== 'retrying') throw new Error('unreachable');
    expect(state.nextAttemptAt - state.error.at).toBeGreaterThanOrEqual(CONFIG_RETRY_MS);
    expect(stack.emulator.admin.stats().tokenRequests.refresh_token).toBe(before + 1);
  });
});

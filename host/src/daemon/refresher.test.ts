import { afterEach, describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../../shared/errors';
import { FakeClock } from '../../../test/support/fake-clock';
import { FakeTokenSource } from '../../../test/support/fake-token-source';
import type { Log } from '../deps';
import { MAX_WAIT_MS, RT_INACTIVITY_MS, Refresher, type RefresherOptions } from './refresher';

const A = 'uid-1.tenant-1';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog };

const transient = () => new AppError('transient', 'The token endpoint did not answer.', { advice: 'Check the network.', retryable: true });
const throttledFor = (ms: number) => new AppError('throttled', 'Entra is busy.', { advice: 'Wait.', retryable: true, retryAfterMs: ms });
const verdict = (code: ErrorCode, aadsts: number, advice: string) => new AppError(code, `AADSTS${aadsts}: refused.`, { advice, retryable: false, aadsts });

/** A small seeded PRNG (mulberry32), so a long run's jitter is random yet reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** True when `p` settles within a few turns of the event loop, with no fake time passing. */
async function promptly(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5 && !done; i++) await new Promise((r) => setImmediate(r));
  return done;
}

let running: Refresher[] = [];
afterEach(async () => {
  await promptly(Promise.all(running.map((r) => r.stop())));
  running = [];
});

function setup(opts: { random?: () => number; options?: Partial<RefresherOptions> } = {}) {
  const clock = new FakeClock();
  const source = new FakeTokenSource(clock);
  const changes: string[] = [];
  const refresher = new Refresher({ clock, log: silentLog, source, random: opts.random ?? (() => 0.5), onChange: (id) => changes.push(id) }, opts.options);
  running.push(refresher);
  return { clock, source, refresher, changes, state: () => refresher.status(A)?.state };
}

describe('Refresher', () => {
  it('renews about 1,700 times in 90 days of 75-minute tokens, never serving an expired token nor letting the refresh token lapse', async () => {
    const { clock, source, refresher } = setup({ random: seeded(7) });
    refresher.track(A, ['ews']);
    refresher.start();
    const end = clock.now() + 90 * DAY;
    let expiredServed = 0;
    let lapsed = 0;
    while (clock.now() < end) {
      await clock.advance(10 * MIN);
      const token = await refresher.getToken(A, 'ews');
      if (token.expiresOn <= clock.now()) expiredServed++;
      if ((refresher.status(A)?.refreshTokenLapsesAt ?? 0) <= clock.now() + 89 * DAY) lapsed++;
    }
    expect(expiredServed).toBe(0);
    expect(lapsed).toBe(0);
    expect(source.calls.length).toBeGreaterThan(1_700);
    expect(source.calls.length).toBeLessThan(1_950);
    expect(source.calls.filter((c) => !c.forceRefresh)).toHaveLength(1);
    expect(refresher.status(A)?.state).toEqual({ kind: 'signed-in' });
  });

  it('makes exactly one source call when 1,000 callers ask at expiry', async () => {
    const { clock, source, refresher } = setup();
    refresher.track(A, ['ews']);
    const first = await refresher.getToken(A, 'ews');
    await clock.advance(75 * MIN);
    source.script({ kind: 'hold' });
    const callers = Array.from({ length: 1_000 }, () => refresher.getToken(A, 'ews'));
    expect(source.calls).toHaveLength(2);
    source.held[0]!.resolve();
    const tokens = await Promise.all(callers);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set([tokens[0]!.accessToken]));
    expect(tokens[0]!.accessToken).not.toBe(first.accessToken);
    expect(source.calls[1]!.forceRefresh).toBe(true);
  });

  it('makes exactly one forced call when 1,000 callers force a refresh at once', async () => {
    const { source, refresher } = setup();
    refresher.track(A, ['ews']);
    await refresher.getToken(A, 'ews');
    source.script({ kind: 'hold' });
    const callers = Array.from({ length: 1_000 }, () => refresher.getToken(A, 'ews', { forceRefresh: true }));
    source.held[0]!.resolve({ fromCache: true });
    const tokens = await Promise.all(callers);
    expect(source.calls.map((c) => c.forceRefresh)).toEqual([false, true]);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it('makes one forced call for many forced callers, and one follow-up when they arrive during a cache read', async () => {
    const { source, refresher } = setup();
    refresher.track(A, ['ews']);
    source.script({ kind: 'hold' });
    const plain = refresher.getToken(A, 'ews');
    const forced = Array.from({ length: 100 }, () => refresher.getToken(A, 'ews', { forceRefresh: true }));
    source.script({ kind: 'hold' });
    source.held[0]!.resolve({ fromCache: true });
    await plain;
    await new Promise((r) => setImmediate(r));
    expect(source.calls.map((c) => c.forceRefresh)).toEqual([false, true]);
    const more = Array.from({ length: 100 }, () => refresher.getToken(A, 'ews', { forceRefresh: true }));
    source.held[1]!.resolve();
    const tokens = await Promise.all([...forced, ...more]);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(source.calls).toHaveLength(2);
  });

  it('answers forced callers with the fresh token when the request they waited behind used the refresh token', async () => {
    const { source, refresher } = setup();
    refresher.track(A, ['ews']);
    source.script({ kind: 'hold' });
    void refresher.getToken(A, 'ews');
    const forced = refresher.getToken(A, 'ews', { forceRefresh: true });
    source.held[0]!.resolve({ fromCache: false });
    await forced;
    expect(source.calls).toHaveLength(1);
  });

  it('backs off exponentially on transient failures while serving the valid token, then recovers and resets the count', async () => {
    const { clock, source, refresher, state } = setup();
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.settle();
    const served = await refresher.getToken(A, 'ews');
    source.script(...Array.from({ length: 4 }, () => ({ kind: 'fail' as const, error: transient() })));
    await clock.runUntil(() => source.calls.length === 2, { maxMs: 75 * MIN });
    expect(state()).toMatchObject({ kind: 'retrying', attempt: 1, error: { code: 'transient' } });
    expect(await refresher.getToken(A, 'ews')).toBe(served);
    await clock.runUntil(() => state()?.kind === 'signed-in', { maxMs: HOUR });
    const times = source.calls.slice(1).map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toEqual([1_500, 3_000, 6_000, 12_000]); // 2 s × 2^n, equal jitter at random = 0.5
    expect(source.calls).toHaveLength(6);
    source.script({ kind: 'fail', error: transient() });
    await clock.runUntil(() => state()?.kind === 'retrying', { maxMs: 2 * HOUR });
    expect(state()).toMatchObject({ kind: 'retrying', attempt: 1, nextAttemptAt: clock.now() + 1_500 });
  });

  it('waits as long as Retry-After says, and answers callers "throttled" meanwhile without asking Entra', async () => {
    const { clock, source, refresher, state } = setup();
    source.script({ kind: 'fail', error: throttledFor(120_000) });
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.settle();
    expect(state()).toMatchObject({ kind: 'retrying', attempt: 1, nextAttemptAt: clock.now() + 120_000 });
    await expect(refresher.getToken(A, 'ews')).rejects.toMatchObject({ data: { code: 'throttled', retryAfterMs: 120_000 } });
    await clock.advance(119_999);
    expect(source.calls).toHaveLength(1);
    await clock.advance(1);
    expect(source.calls).toHaveLength(2);
    expect(state()).toEqual({ kind: 'signed-in' });
  });

  it('keeps the failure it recovered from for status, until a new consent starts afresh', async () => {
    const { clock, source, refresher, state } = setup();
    source.script({ kind: 'fail', error: transient() });
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.settle();
    const failedAt = clock.now();
    expect(refresher.status(A)?.lastError).toMatchObject({ code: 'transient', at: failedAt });
    await clock.runUntil(() => state()?.kind === 'signed-in', { maxMs: HOUR });
    expect(refresher.status(A)?.lastError).toMatchObject({ code: 'transient', at: failedAt });
    refresher.markConsented(A);
    expect(refresher.status(A)?.lastError).toBeNull();
  });

  it('throws the failed attempt’s error to a caller once the held token has expired', async () => {
    const { clock, source, refresher } = setup();
    refresher.track(A, ['ews']);
    await refresher.getToken(A, 'ews');
    await clock.advance(80 * MIN);
    source.script({ kind: 'fail', error: transient() });
    await expect(refresher.getToken(A, 'ews')).rejects.toMatchObject({ data: { code: 'transient' } });
    expect(refresher.status(A)?.accessTokens).toHaveLength(1);
  });

  it.each([
    ['needs_consent', 700082, 'Sign in again.'],
    ['user_not_assigned', 50105, 'Ask an administrator to assign you to the app.'],
  ] as const)('stops calling Entra and keeps the %s code and advice when Entra refuses the grant', async (code, aadsts, advice) => {
    const { clock, source, refresher, state } = setup();
    source.script({ kind: 'fail', error: verdict(code, aadsts, advice) });
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.settle();
    expect(state()).toMatchObject({ kind: 'needs-consent', error: { code, aadsts, advice, at: clock.now() } });
    await clock.advance(DAY);
    await expect(refresher.getToken(A, 'ews', { forceRefresh: true })).rejects.toMatchObject({ data: { code, advice, aadsts } });
    expect(source.calls).toHaveLength(1);
    expect(refresher.status(A)?.nextRefreshAt).toBeNull();
    refresher.markConsented(A);
    await clock.settle();
    expect(source.calls).toHaveLength(2);
    expect(state()).toEqual({ kind: 'signed-in' });
  });

  it('retries a configuration error only every 30 minutes and shows it as retrying, not needs-consent', async () => {
    const { clock, source, refresher, state } = setup();
    source.script(...Array.from({ length: 3 }, () => ({ kind: 'fail' as const, error: verdict('credential_invalid', 7000215, 'Fix the client secret.') })));
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.advance(61 * MIN);
    expect(source.calls.map((c) => c.at - source.calls[0]!.at)).toEqual([0, 30 * MIN, 60 * MIN]);
    expect(state()).toMatchObject({ kind: 'retrying', attempt: 3, error: { code: 'credential_invalid' } });
    await clock.advance(30 * MIN);
    expect(state()).toEqual({ kind: 'signed-in' });
  });

  it('renews within MAX_WAIT of waking when the laptop slept through the deadline', async () => {
    const { clock, source, refresher } = setup();
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.advance(60 * MIN);
    expect(source.calls).toHaveLength(1);
    expect((clock.nextWakeAt() ?? Infinity) - clock.now()).toBeLessThanOrEqual(MAX_WAIT_MS);
    await clock.jump(3 * HOUR);
    const wokeAt = clock.now();
    await clock.runUntil(() => source.calls.length === 2, { maxMs: MAX_WAIT_MS });
    expect(source.calls[1]!.at - wokeAt).toBeLessThanOrEqual(MAX_WAIT_MS);
    expect(source.calls[1]!.forceRefresh).toBe(true);
    expect((await refresher.getToken(A, 'ews')).expiresOn).toBeGreaterThan(clock.now() + HOUR);
  });

  it('drops the result of a refresh that was in flight when the account was untracked', async () => {
    const { source, refresher, changes } = setup();
    source.script({ kind: 'hold' });
    refresher.track(A, ['ews']);
    const pending = refresher.getToken(A, 'ews');
    refresher.untrack(A);
    const before = changes.length;
    source.held[0]!.resolve();
    await pending;
    expect(refresher.status(A)).toBeNull();
    expect(changes.length).toBe(before);
    refresher.track(A, ['ews']);
    expect(refresher.status(A)?.accessTokens).toEqual([]);
  });

  it('ignores a refusal from a refresh that started before a new consent', async () => {
    const { clock, source, refresher, state } = setup();
    source.script({ kind: 'hold' });
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.settle();
    refresher.markConsented(A);
    await clock.settle();
    source.held[0]!.reject(verdict('needs_consent', 700082, 'Sign in again.'));
    await clock.settle();
    expect(state()).toEqual({ kind: 'signed-in' });
    expect(source.calls).toHaveLength(2);
  });

  it('stops promptly, aborting an acquisition in flight, with no timer left behind', async () => {
    const { clock, source, refresher } = setup();
    source.script({ kind: 'hold' });
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.settle();
    const pending = refresher.getToken(A, 'ews');
    expect(await promptly(refresher.stop())).toBe(true);
    await expect(pending).rejects.toBeInstanceOf(AppError);
    expect(clock.pending).toBe(0);
    expect(source.calls).toHaveLength(1);
  });

  it('stops promptly while the loop sleeps, and starts nothing afterwards', async () => {
    const { clock, source, refresher } = setup();
    refresher.track(A, ['ews']);
    refresher.start();
    await clock.settle();
    expect(await promptly(refresher.stop())).toBe(true);
    await clock.advance(2 * HOUR);
    expect(source.calls).toHaveLength(1);
  });

  it('reports when the refresh token was last used and when it lapses, seeded from the daemon’s record', async () => {
    const { clock, source, refresher, changes } = setup();
    const seed = clock.now() - 10 * DAY;
    source.script({ kind: 'token', fromCache: true });
    refresher.track(A, ['ews'], { lastRefreshAt: seed });
    refresher.start();
    await clock.settle();
    const cached = refresher.status(A);
    expect(cached).toMatchObject({ lastRefreshAt: seed, refreshTokenLapsesAt: seed + RT_INACTIVITY_MS, lastError: null, state: { kind: 'signed-in' } });
    expect(cached?.accessTokens).toEqual([{ resource: 'ews', scopes: [expect.stringContaining('EWS')], expiresOn: clock.now() + 75 * MIN }]);
    expect(cached?.nextRefreshAt).toBe(clock.now() + 69 * MIN); // 75 − 5 − 2 × 0.5
    await clock.runUntil(() => source.calls.length === 2, { maxMs: 70 * MIN });
    expect(refresher.status(A)).toMatchObject({ lastRefreshAt: clock.now(), refreshTokenLapsesAt: clock.now() + RT_INACTIVITY_MS });
    expect(changes.length).toBeGreaterThanOrEqual(3);
  });

  it('keeps each tracked resource fresh on its own and refuses an account it does not track', async () => {
    const { clock, source, refresher } = setup();
    refresher.track(A, ['ews', 'graph']);
    refresher.start();
    await clock.settle();
    expect(source.calls.map((c) => c.resource).sort()).toEqual(['ews', 'graph']);
    await expect(refresher.getToken('someone-else', 'ews')).rejects.toMatchObject({ data: { code: 'no_account' } });
  });
});

// Timing rules, pure: when to renew a token before it expires (the refresher), and how long to
// wait after a failed attempt (the refresher, and the EWS stream's reconnects). Apart from
// daemon/ so that mailbox/ can use them without importing the daemon. Randomness comes in as
// a function so tests can pin it.

export interface TimingOptions {
  /** Renew this long before the access token expires. */
  renewBeforeMs: number;
  /** Spread renewals over up to this much more, so many accounts don't hit Entra at once. */
  jitterMs: number;
  /** A token renewed sooner than this after it arrived is not renewed again (a skewed clock). */
  minRenewIntervalMs: number;
  /** The first retry waits about this long; each further failure doubles it. */
  backoffBaseMs: number;
  /** Retries never wait longer than this, unless the server asked for more. */
  backoffCapMs: number;
  /** A server's Retry-After is honoured up to this long; beyond it the value is taken as broken. */
  retryAfterCapMs: number;
}

/** Doubling stops here: 2^30 × any base is far beyond every cap, and 2^n stays finite. */
const MAX_EXPONENT = 30;

/**
 * When to renew a token that expires at `expiresOn`: RENEW_BEFORE plus up to JITTER ahead of
 * expiry, but never before halfway through its remaining life nor within MIN_RENEW_INTERVAL of
 * now, so a short-lived or already-stale token does not start a tight refresh loop.
 */
export function renewalDeadline(expiresOn: number, now: number, random: () => number, o: TimingOptions): number {
  const planned = expiresOn - o.renewBeforeMs - random() * o.jitterMs;
  const halfway = now + (expiresOn - now) / 2;
  return Math.max(planned, halfway, now + o.minRenewIntervalMs);
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry): base × 2^(attempt−1),
 * capped, with "equal jitter" (a random point in the upper half, so the growth stays visible and
 * clients don't retry in lockstep), or the server's Retry-After when that is longer.
 */
export function retryDelayMs(attempt: number, random: () => number, o: TimingOptions, retryAfterMs?: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), MAX_EXPONENT);
  const ceiling = Math.min(o.backoffCapMs, o.backoffBaseMs * 2 ** exponent);
  const jittered = ceiling / 2 + (random() * ceiling) / 2;
  const server = Math.min(retryAfterMs ?? 0, o.retryAfterCapMs);
  return Math.max(jittered, server);
}

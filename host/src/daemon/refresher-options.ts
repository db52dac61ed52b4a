// The refresher's tunables, with why each default has its value. Tests pass smaller ones.
import type { TimingOptions } from '../retry/backoff';

export interface RefresherOptions extends TimingOptions {
  /** getToken serves the in-memory token only when it has more than this left for the caller to use it. */
  minRemainingMs: number;
  /** The loop never sleeps longer than this, and compares the wall clock with every deadline each time. */
  maxWaitMs: number;
  /** After a configuration error (bad secret, unknown app), retry this rarely: a fixed config recovers by itself, a broken one does not hammer Entra. */
  configRetryMs: number;
  /** A refresh token lapses after this long unused (90 days of inactivity; see RT_INACTIVITY_MS). */
  rtInactivityMs: number;
}

const MINUTE = 60_000;
/** Refresh tokens lapse after 90 days without use (https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens). */
export const RT_INACTIVITY_MS = 90 * 24 * 60 * MINUTE;
/**
 * 37 s, a prime, as in pizauth: Node's timers run on monotonic time, which stops while a laptop
 * sleeps, so a timer set for a deadline fires late by the whole suspend. Waking at least every
 * 37 s and comparing the wall clock with each deadline bounds that lateness; a prime keeps the
 * wake-ups from falling into step with other periodic work.
 */
export const MAX_WAIT_MS = 37_000;

export const DEFAULT_REFRESHER_OPTIONS: RefresherOptions = {
  renewBeforeMs: 5 * MINUTE, // access tokens live 60–90 min; 5 min leaves room for a few quick retries
  jitterMs: 2 * MINUTE,
  minRenewIntervalMs: 30_000,
  minRemainingMs: 2 * MINUTE, // a script handed the token has time to use it
  backoffBaseMs: 2_000,
  backoffCapMs: 15 * MINUTE,
  retryAfterCapMs: 60 * MINUTE,
  maxWaitMs: MAX_WAIT_MS,
  configRetryMs: 30 * MINUTE,
  rtInactivityMs: RT_INACTIVITY_MS,
};

import { describe, expect, it } from 'vitest';
import { renewalDeadline, retryDelayMs, type TimingOptions } from './backoff';

const MIN = 60_000;
const o: TimingOptions = { renewBeforeMs: 5 * MIN, jitterMs: 2 * MIN, minRenewIntervalMs: 30_000, backoffBaseMs: 2_000, backoffCapMs: 15 * MIN, retryAfterCapMs: 60 * MIN };
const at = (r: number) => () => r;

describe('retryDelayMs', () => {
  it.each([
    // attempt, random, retryAfterMs, expected
    [1, 0, undefined, 1_000],
    [1, 0.999_999, undefined, 2_000],
    [2, 0.5, undefined, 3_000],
    [5, 0.5, undefined, 24_000],
    [20, 0.5, undefined, 11.25 * MIN], // capped at 15 min, then jittered in its upper half
    [1_000_000, 1, undefined, 15 * MIN],
    [1, 0.5, 120_000, 120_000], // Retry-After longer than the back-off wins
    [12, 0.5, 1_000, 11.25 * MIN], // …and a shorter one does not shorten it
    [1, 0.5, 10 * 60 * MIN, 60 * MIN], // an absurd Retry-After is capped at an hour
  ])('waits right for attempt %i at random %f with Retry-After %s', (attempt, random, retryAfter, expected) => {
    expect(retryDelayMs(attempt, at(random), o, retryAfter)).toBeCloseTo(expected, 0);
  });
});

describe('renewalDeadline', () => {
  const now = 1_000_000_000;
  it.each([
    // lifetime from now, random, expected deadline from now
    [75 * MIN, 0, 70 * MIN],
    [75 * MIN, 0.5, 69 * MIN],
    [60 * MIN, 1, 53 * MIN],
    [8 * MIN, 0.5, 4 * MIN], // shorter than the margin: halfway through its life
    [0, 0.5, 30_000], // already expired: not again for 30 s, so no tight loop
  ])('renews a token with %i ms left at random %f after the right time', (lifetime, random, expected) => {
    expect(renewalDeadline(now + lifetime, now, at(random), o) - now).toBe(expected);
  });
});

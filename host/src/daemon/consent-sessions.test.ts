import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CONSENT_TTL_MS, ConsentSessions, MAX_PENDING } from './consent-sessions';

class StepClock {
  t = 1_000_000;
  now = () => this.t;
  sleep = async () => {};
}

describe('consent sessions', () => {
  it('hands a session out once only', () => {
    const s = new ConsentSessions(new StepClock());
    const a = s.create(false);
    expect(s.take(a.state)).toEqual(a);
    expect(s.take(a.state)).toBeNull();
  });

  it('forgets a session after 10 minutes', () => {
    const clock = new StepClock();
    const s = new ConsentSessions(clock);
    const a = s.create(false);
    clock.t += CONSENT_TTL_MS;
    expect(s.take(a.state)).toBeNull();
    expect(s.size).toBe(0);
  });

  it('makes an S256 PKCE pair and distinct state and nonce', () => {
    const a = new ConsentSessions(new StepClock()).create(false);
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.codeChallenge).toBe(createHash('sha256').update(a.codeVerifier).digest('base64url'));
    expect(a.state).not.toBe(a.nonce);
  });

  it('holds at most 16 pending sign-ins, dropping the oldest', () => {
    const clock = new StepClock();
    const s = new ConsentSessions(clock);
    const made = Array.from({ length: 5000 }, () => {
      clock.t += 1;
      return s.create(false);
    });
    expect(MAX_PENDING).toBe(16);
    expect(s.size).toBe(16);
    expect(s.take(made[0]!.state)).toBeNull();
    expect(s.take(made[5000 - 17]!.state)).toBeNull();
    expect(s.take(made[5000 - 16]!.state)).toEqual(made[5000 - 16]);
    expect(s.take(made[4999]!.state)).toEqual(made[4999]);
  });
});

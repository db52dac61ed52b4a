// Pending consents: the state, nonce and PKCE pair of each sign-in begun and not yet finished.
// A session is single use (taken once, whatever the outcome) and lives 10 minutes, the
// lifetime of an authorization code, so a replayed or late Reply URL finds nothing. At most
// MAX_PENDING are held: a caller that begins sign-ins in a loop costs a bounded few kilobytes,
// and drops only its own oldest (a person completes one sign-in at a time).
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../deps';

/**
 * Ten minutes: an authorization code lives about as long, so a longer session is useless
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow).
 */
export const CONSENT_TTL_MS = 10 * 60_000;

/** Pending sign-ins kept at once; the oldest is dropped for a new one (a person needs one or two). */
export const MAX_PENDING = 16;

export interface PendingConsent {
  state: string;
  nonce: string;
  codeVerifier: string;
  codeChallenge: string;
  admin: boolean;
  createdAt: number;
  expiresAt: number;
}

/** 32 random bytes: a 43-character base64url PKCE verifier (RFC 7636 allows 43–128). */
export function pkcePair(random: (n: number) => Buffer = randomBytes): { codeVerifier: string; codeChallenge: string } {
  const codeVerifier = random(32).toString('base64url');
  return { codeVerifier, codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url') };
}

export class ConsentSessions {
  private readonly sessions = new Map<string, PendingConsent>();

  constructor(
    private readonly clock: Clock,
    private readonly random: (n: number) => Buffer = randomBytes,
  ) {}

  create(admin: boolean): PendingConsent {
    this.purge();
    const now = this.clock.now();
    const session: PendingConsent = {
      state: this.random(24).toString('base64url'),
      nonce: this.random(24).toString('base64url'),
      ...pkcePair(this.random),
      admin,
      createdAt: now,
      expiresAt: now + CONSENT_TTL_MS,
    };
    // A Map iterates in insertion order: the first key is the oldest session.
    while (this.sessions.size >= MAX_PENDING) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(session.state, session);
    return session;
  }

  /** Removes and returns the session named by `state`; null when unknown, used or expired. */
  take(state: string): PendingConsent | null {
    this.purge();
    const session = this.sessions.get(state) ?? null;
    this.sessions.delete(state);
    return session;
  }

  cancel(state: string): boolean {
    return this.sessions.delete(state);
  }

  get size(): number {
    this.purge();
    return this.sessions.size;
  }

  private purge(): void {
    const now = this.clock.now();
    for (const [state, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(state);
  }
}

// A scripted TokenSource for tests: answers each acquire from a queue of steps (a token, an
// AppError, or "hold" until the test settles it), mints tokens by default, counts every call,
// and rejects with the signal's reason when aborted, as a real one should.
import type { AppError } from '../../shared/errors';
import type { Backend } from '../../shared/protocol';
import type { Clock } from '../../host/src/deps';
import type { AcquiredToken, TokenSource } from '../../host/src/auth/token-source';

export type Step =
  | { kind: 'token'; lifetimeMs?: number; fromCache?: boolean }
  | { kind: 'fail'; error: AppError }
  | { kind: 'hold' };

export interface SourceCall {
  accountId: string;
  resource: Backend;
  forceRefresh: boolean;
  at: number;
}

/** A call the test holds open: settle it with `resolve` or `reject`. */
export interface HeldCall extends SourceCall {
  resolve(step?: { lifetimeMs?: number; fromCache?: boolean }): void;
  reject(error: AppError): void;
}

/** 75 minutes: the average access-token lifetime, 60 to 90 min (https://learn.microsoft.com/en-us/entra/identity-platform/configurable-token-lifetimes). */
export const DEFAULT_LIFETIME_MS = 75 * 60_000;

const SCOPES: Record<Backend, string> = {
  ews: 'https://outlook.office365.com/EWS.AccessAsUser.All',
  graph: 'https://graph.microsoft.com/Mail.ReadBasic',
};

export class FakeTokenSource implements TokenSource {
  readonly calls: SourceCall[] = [];
  readonly held: HeldCall[] = [];
  private readonly steps: Step[] = [];
  private minted = 0;

  constructor(
    private readonly clock: Clock,
    private readonly lifetimeMs: number | (() => number) = DEFAULT_LIFETIME_MS,
  ) {}

  /** Queues answers for the next calls; when the queue is empty, calls get a fresh token. */
  script(...steps: Step[]): this {
    this.steps.push(...steps);
    return this;
  }

  acquire(accountId: string, resource: Backend, opts: { forceRefresh: boolean; signal?: AbortSignal }): Promise<AcquiredToken> {
    const call: SourceCall = { accountId, resource, forceRefresh: opts.forceRefresh, at: this.clock.now() };
    this.calls.push(call);
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    const step = this.steps.shift() ?? { kind: 'token' };
    if (step.kind === 'fail') return Promise.reject(step.error);
    if (step.kind === 'token') return Promise.resolve(this.mint(resource, step));
    return new Promise<AcquiredToken>((resolve, reject) => {
      const held: HeldCall = { ...call, resolve: (s) => resolve(this.mint(resource, s ?? {})), reject };
      this.held.push(held);
      opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason), { once: true });
    });
  }

  private mint(resource: Backend, s: { lifetimeMs?: number; fromCache?: boolean }): AcquiredToken {
    this.minted++;
    const lifetime = s.lifetimeMs ?? (typeof this.lifetimeMs === 'number' ? this.lifetimeMs : this.lifetimeMs());
    return { accessToken: `at-${this.minted}`, expiresOn: this.clock.now() + lifetime, scopes: [SCOPES[resource]], fromCache: s.fromCache ?? false };
  }
}

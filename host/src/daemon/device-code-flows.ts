// Device code sign-ins in progress, each named by a random flow id: begin answers once Entra
// has handed out the user code; wait answers when the user has signed in (or the flow failed,
// expired or was cancelled); cancel stops the polling at once. A finished flow's outcome is
// kept until someone waits for it or its code's lifetime is over, so a late wait still hears it.
import { randomBytes } from 'node:crypto';
import type { AccountInfo } from '@azure/msal-node';
import { AppError, isAppError } from '../../../shared/errors';
import type { DeviceCodeBeginResult } from '../../../shared/protocol';
import { cancelledError } from '../auth/device-code-network';
import type { DeviceCodeShown } from '../auth/device-code-signin';
import type { Clock } from '../deps';

/** A flow nobody waited for is forgotten this long after its code expired (its outcome is known by then). */
const FORGET_AFTER_EXPIRY_MS = 60_000;

export interface DeviceCodeSource {
  deviceCodeSignIn(opts: { signal: AbortSignal; onCode(shown: DeviceCodeShown): void; clock: Clock }): Promise<AccountInfo>;
}

interface Flow {
  abort: AbortController;
  expiresAt: number;
  outcome: Promise<AccountInfo>;
}

export class DeviceCodeFlows {
  private readonly flows = new Map<string, Flow>();

  constructor(
    private readonly source: DeviceCodeSource,
    private readonly clock: Clock,
  ) {}

  /** Starts a flow; resolves with what to show once Entra answered the device code request. */
  async begin(): Promise<DeviceCodeBeginResult> {
    this.purge();
    const abort = new AbortController();
    const flowId = randomBytes(18).toString('base64url');
    let shown!: (s: DeviceCodeShown) => void;
    const code = new Promise<DeviceCodeShown>((resolve) => (shown = resolve));
    const signIn = this.source.deviceCodeSignIn({ signal: abort.signal, onCode: shown, clock: this.clock });
    // Cancelling answers a waiting caller at once; MSAL stops at its next poll.
    const cancelled = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(cancelledError()), { once: true }));
    const outcome = Promise.race([signIn, cancelled]);
    for (const p of [signIn, outcome]) p.catch(() => undefined); // reported to whoever waits, or dropped with the flow
    const first = await Promise.race([code, outcome.then(() => null)]);
    if (!first) throw new AppError('internal', 'The device code sign-in ended before a code was shown.', { advice: 'Try again; the daemon log has the detail.', retryable: false });
    this.flows.set(flowId, { abort, expiresAt: first.expiresAt, outcome });
    return { flowId, ...first };
  }

  /** The signed-in account, once the user has approved; the flow is forgotten afterwards. */
  async wait(flowId: string): Promise<AccountInfo> {
    const flow = this.flows.get(flowId);
    if (!flow) throw unknownFlow();
    try {
      return await flow.outcome;
    } catch (e) {
      throw isAppError(e) ? e : cancelledError();
    } finally {
      this.flows.delete(flowId);
    }
  }

  cancel(flowId: string): boolean {
    const flow = this.flows.get(flowId);
    if (!flow) return false;
    flow.abort.abort();
    return true;
  }

  /** Cancels every flow, e.g. when the daemon stops: MSAL's polling would keep the process alive. */
  stopAll(): void {
    for (const f of this.flows.values()) f.abort.abort();
    this.flows.clear();
  }

  get size(): number {
    this.purge();
    return this.flows.size;
  }

  private purge(): void {
    const now = this.clock.now();
    for (const [id, f] of this.flows) {
      if (f.expiresAt + FORGET_AFTER_EXPIRY_MS > now) continue;
      f.abort.abort();
      this.flows.delete(id);
    }
  }
}

function unknownFlow(): AppError {
  return new AppError('consent_expired', 'This device code sign-in is unknown, finished or expired.', {
    advice: 'Run `ews-daemon consent --device-code` again.',
    retryable: false,
  });
}

// Injected faults: what the next N requests to the token endpoint, EWS or Graph answer instead
// of the normal reply. Each endpoint has a queue; a request takes the head and counts it down.

/** A token-endpoint fault. `aadsts` answers in Entra's error shape; `http` is a transient status. */
export type TokenFault =
  | { kind: 'aadsts'; status: number; error: string; aadsts: number; description?: string }
  | { kind: 'http'; status: 500 | 503 | 429; retryAfterSeconds?: number }
  | { kind: 'drop' }
  | { kind: 'slow'; ms: number };

/** The shorthand names, as the brief's admin API takes them. */
export type EwsFaultName = 'busy-fault' | 'busy-message' | 'http-503' | 'http-403' | 'malformed' | 'error-message' | 'connection-count';

export type EwsFault =
  | EwsFaultName
  | { kind: 'busy-fault' | 'busy-message'; backOffMs?: number }
  | { kind: 'error-message'; responseCode?: string; messageText?: string }
  | { kind: 'slow'; ms: number }
  | { kind: 'http-503' | 'http-403' | 'malformed' | 'connection-count' };

/** EwsFault with the shorthand expanded. */
export type EwsFaultSpec = Exclude<EwsFault, EwsFaultName>;

export type GraphFault =
  | { kind: 'http'; status: 429 | 503 | 500 | 401; retryAfterSeconds?: number }
  | { kind: 'slow'; ms: number };

export function normalizeEwsFault(fault: EwsFault): EwsFaultSpec {
  return typeof fault === 'string' ? { kind: fault } : fault;
}

export class FaultQueue<T> {
  private entries: { fault: T; left: number }[] = [];

  /** Queues `fault` for the next `times` requests (Infinity: until cleared). */
  add(fault: T, times: number): void {
    if (!(times > 0)) throw new Error(`times must be a positive number or Infinity, got ${times}`);
    this.entries.push({ fault, left: times });
  }

  /** The fault for this request, if any, counting it down. */
  take(): T | undefined {
    const head = this.entries[0];
    if (!head) return undefined;
    head.left -= 1;
    if (head.left <= 0) this.entries.shift();
    return head.fault;
  }

  clear(): void {
    this.entries = [];
  }
}

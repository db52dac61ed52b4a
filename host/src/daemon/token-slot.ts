// The refresher's bookkeeping as tagged states: one slot per (account, resource), one grant per
// account, and the account's GrantState and next deadline derived from them. Pure.
import type { Backend, ErrorInfo, GrantState } from '../../../shared/protocol';
import type { AcquiredToken } from '../auth/token-source';

export type SlotState =
  /** No token known yet: acquire (from MSAL's cache if it has one) at dueAt. */
  | { kind: 'empty'; dueAt: number }
  /** A token in hand, renewed with a forced refresh at renewAt. */
  | { kind: 'valid'; token: AcquiredToken; renewAt: number }
  /** The last attempt failed; a still-valid token, if any, keeps being served until it expires. */
  | { kind: 'failing'; token: AcquiredToken | null; attempt: number; retryAt: number; error: ErrorInfo };

/** The one request in progress for a slot, which every caller joins. */
export interface Flight {
  forced: boolean;
  promise: Promise<AcquiredToken>;
}

export interface Slot {
  readonly resource: Backend;
  state: SlotState;
  flight: Flight | null;
  /** Forced callers arriving during a non-forced flight share this one follow-up. */
  forcedFollowUp: Promise<AcquiredToken> | null;
}

/**
 * The account's grant. While it is active, `recovered` is the newest failure that a later
 * success overcame (status still shows what happened); a failure in progress lives in its slot.
 */
export type Grant = { kind: 'active'; recovered: ErrorInfo | null } | { kind: 'needs-consent'; error: ErrorInfo };

export const ACTIVE: Grant = { kind: 'active', recovered: null };

export interface AccountEntry {
  readonly accountId: string;
  /** Bumped by every move that makes in-flight results stale (verdict, new consent, untrack). */
  generation: number;
  grant: Grant;
  readonly slots: Map<Backend, Slot>;
  lastRefreshAt: number | null;
}

export function newSlot(resource: Backend, dueAt: number): Slot {
  return { resource, state: { kind: 'empty', dueAt }, flight: null, forcedFollowUp: null };
}

export function tokenOf(s: SlotState): AcquiredToken | null {
  return s.kind === 'empty' ? null : s.token;
}

export function dueAt(s: SlotState): number {
  switch (s.kind) {
    case 'empty':
      return s.dueAt;
    case 'valid':
      return s.renewAt;
    case 'failing':
      return s.retryAt;
  }
}

/** The earliest time the loop will act for this account on its own; null when it never will. */
export function nextDue(entry: AccountEntry): number | null {
  if (entry.grant.kind === 'needs-consent') return null;
  const due = [...entry.slots.values()].filter((s) => s.flight === null).map((s) => dueAt(s.state));
  return due.length === 0 ? null : Math.min(...due);
}

/** The newest failure: the verdict, else the newest failing slot's, else the one recovered from. */
export function lastError(entry: AccountEntry): ErrorInfo | null {
  if (entry.grant.kind === 'needs-consent') return entry.grant.error;
  const failing = [...entry.slots.values()].flatMap((s) => (s.state.kind === 'failing' ? [s.state.error] : []));
  return newest([...failing, entry.grant.recovered]);
}

/** The newest of these errors (by `at`), or null. */
export function newest(errors: (ErrorInfo | null)[]): ErrorInfo | null {
  return errors.reduce<ErrorInfo | null>((a, b) => (b !== null && (a === null || b.at > a.at) ? b : a), null);
}

/**
 * The account's state for status: a verdict wins; then the failing slot with the most attempts;
 * then 'refreshing' while some resource has no token yet; otherwise signed in.
 */
export function grantState(entry: AccountEntry): GrantState {
  if (entry.grant.kind === 'needs-consent') return { kind: 'needs-consent', error: entry.grant.error };
  const states = [...entry.slots.values()].map((s) => s.state);
  const failing = states.flatMap((s) => (s.kind === 'failing' ? [s] : [])).sort((a, b) => b.attempt - a.attempt)[0];
  if (failing) return { kind: 'retrying', attempt: failing.attempt, nextAttemptAt: failing.retryAt, error: failing.error };
  return states.some((s) => s.kind === 'empty') ? { kind: 'refreshing' } : { kind: 'signed-in' };
}

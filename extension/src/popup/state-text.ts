// An account's grant state and backend in words, for the popup. Pure: `now` is passed in.
import type { AccountStatus, GrantState, InboxCount } from '../../../shared/protocol';
import { formatLocalTime, formatRelative } from '../lib/format';
import { ERROR_TEXT } from './error-text';

export type Tone = 'ok' | 'busy' | 'warn' | 'error';

export interface StateWords {
  text: string;
  tone: Tone;
}

const STATE_WORDS: { [K in GrantState['kind']]: (s: Extract<GrantState, { kind: K }>, now: number) => StateWords } = {
  'signed-in': () => ({ text: 'Signed in', tone: 'ok' }),
  refreshing: () => ({ text: 'Signed in, refreshing tokens…', tone: 'busy' }),
  retrying: (s, now) => ({
    text: `Signed in; refresh failed (${ERROR_TEXT[s.error.code].title.toLowerCase()}), retrying ${formatRelative(s.nextAttemptAt, now)} (attempt ${s.attempt})`,
    tone: 'warn',
  }),
  'needs-consent': (s) => ({
    text: s.error.code === 'needs_consent' ? 'Sign-in needed' : `Sign-in needed: ${ERROR_TEXT[s.error.code].title.toLowerCase()}`,
    tone: 'error',
  }),
};

export function stateWords(state: GrantState, now: number): StateWords {
  return (STATE_WORDS[state.kind] as (s: GrantState, now: number) => StateWords)(state, now);
}

const BACKEND_NAMES = { ews: 'EWS', graph: 'Microsoft Graph' } as const;

export function backendName(b: keyof typeof BACKEND_NAMES): string {
  return BACKEND_NAMES[b];
}

/** How counts arrive: "Live: …" while EWS pushes, else the daemon's own sentence. */
export function realtimeWords(r: NonNullable<AccountStatus['realtime']>): string {
  return `${r.kind === 'streaming' ? 'Live' : r.kind === 'polling' ? 'Polled' : 'On request'}: ${r.reason}`;
}

/** "fetched 12 s ago via EWS". */
export function fetchedWords(inbox: NonNullable<AccountStatus['inbox']>, now: number): string {
  return `fetched ${formatRelative(inbox.fetchedAt, now)} via ${backendName(inbox.backend)}`;
}

/**
 * The note under a count that is older than a fresh one because the mail server asked to wait
 * (`stale`, in status and inbox.count): until when. A clock time, not "in 20 s": the card is
 * redrawn when status changes, not every second. Null for a fresh count.
 */
export function staleNote(count: InboxCount): string | null {
  if (!count.stale) return null;
  return `The mail server asked to wait: no newer count before ${formatLocalTime(count.stale.retryAt).slice(11)}.`;
}

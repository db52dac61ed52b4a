import { describe, expect, it } from 'vitest';
import { T0 } from '../test-support';
import { formatLocalTime } from '../lib/format';
import { fetchedWords, staleNote, stateWords } from './state-text';

const error = { code: 'transient' as const, message: 'network down', advice: 'wait', retryable: true, at: T0 };

describe('stateWords', () => {
  it('puts each grant state in words with a tone', () => {
    expect(stateWords({ kind: 'signed-in' }, T0)).toEqual({ text: 'Signed in', tone: 'ok' });
    expect(stateWords({ kind: 'refreshing' }, T0).tone).toBe('busy');
    expect(stateWords({ kind: 'retrying', attempt: 2, nextAttemptAt: T0 + 30_000, error }, T0).text).toContain('retrying in 30 s (attempt 2)');
    expect(stateWords({ kind: 'needs-consent', error: { ...error, code: 'needs_consent' } }, T0)).toMatchObject({ text: 'Sign-in needed', tone: 'error' });
    expect(stateWords({ kind: 'needs-consent', error: { ...error, code: 'mfa_required' } }, T0).text).toBe('Sign-in needed: multi-factor sign-in is required');
  });
});

describe('fetchedWords', () => {
  it('says when and through which backend the count came', () => {
    expect(fetchedWords({ account: 'a', total: 1, unread: 0, fetchedAt: T0 - 12_000, backend: 'graph' }, T0)).toBe('fetched 12 s ago via Microsoft Graph');
  });
});

describe('staleNote', () => {
  it('says a count is older than a fresh one because the server asked to wait, and until what time', () => {
    const count = { account: 'a', total: 1, unread: 0, fetchedAt: T0 - 40_000, backend: 'ews' as const };
    expect(staleNote(count)).toBeNull();
    const retryAt = T0 + 20_000;
    expect(staleNote({ ...count, stale: { reason: 'throttled', retryAt } })).toBe(`The mail server asked to wait: no newer count before ${formatLocalTime(retryAt).slice(11)}.`);
    expect(formatLocalTime(retryAt).slice(11)).toMatch(/^\d\d:\d\d:\d\d$/);
  });
});

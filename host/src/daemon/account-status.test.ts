// Which error an account's status puts in front of a person: while the grant fails, the state's
// own (whatever else failed since); once it works, the newest failure it recovered from, a token
// renewal's or an inbox count's.
import { describe, expect, it } from 'vitest';
import type { ErrorInfo, GrantState } from '../../../shared/protocol';
import { accountStatus, type AccountParts } from './account-status';

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const ALICE = { id: 'uid.utid', username: 'alice@contoso.example', tenantId: 'utid' };
const err = (code: ErrorInfo['code'], at: number): ErrorInfo => ({ code, message: `${code} at ${at}`, advice: 'x', retryable: code === 'transient', at });

const tokenFailed = err('transient', T0);
const countFailedLater = err('mailbox_error', T0 + 1000);
const countFailedEarlier = err('mailbox_error', T0 - 1000);
const verdict = err('needs_consent', T0);

function parts(state: GrantState, refreshError: ErrorInfo | null, inboxError: ErrorInfo | null): AccountParts {
  return {
    refresh: { state, accessTokens: [], lastRefreshAt: T0 - 60_000, nextRefreshAt: T0 + 60_000, lastError: refreshError, refreshTokenLapsesAt: null },
    inboxError,
    backend: { configured: 'auto', active: 'ews', reason: 'EWS answers.', ewsDisabledAt: null, ewsRecheckAt: null },
    inbox: null,
    realtime: { kind: 'off', since: T0, reason: 'nobody listens' },
  };
}

describe('the last error an account shows', () => {
  it.each<[string, GrantState, ErrorInfo | null, ErrorInfo | null, ErrorInfo | null]>([
    ['nothing failed', { kind: 'signed-in' }, null, null, null],
    ['a renewal failed and recovered', { kind: 'signed-in' }, tokenFailed, null, tokenFailed],
    ['a count failed after a recovered renewal', { kind: 'signed-in' }, tokenFailed, countFailedLater, countFailedLater],
    ['a renewal failed after a failed count, both over', { kind: 'signed-in' }, tokenFailed, countFailedEarlier, tokenFailed],
    ['retrying, a count failed since', { kind: 'retrying', attempt: 2, nextAttemptAt: T0 + 30_000, error: tokenFailed }, tokenFailed, countFailedLater, tokenFailed],
    ['needs sign-in, a count failed since', { kind: 'needs-consent', error: verdict }, verdict, countFailedLater, verdict],
    ['renewing its first token, a count failed', { kind: 'refreshing' }, null, countFailedLater, countFailedLater],
  ])('%s', (_, state, refreshError, inboxError, shown) => {
    const status = accountStatus(ALICE, parts(state, refreshError, inboxError));
    expect(status.lastError).toEqual(shown);
    expect(status.state).toEqual(state);
  });

  it('keeps the protocol shape: the renewal times stand beside the state', () => {
    const status = accountStatus(ALICE, parts({ kind: 'signed-in' }, null, null));
    expect(status).toMatchObject({ id: ALICE.id, username: ALICE.username, lastRefreshAt: T0 - 60_000, nextRefreshAt: T0 + 60_000, inbox: null });
    expect(status).not.toHaveProperty('name');
  });
});

import { describe, expect, it } from 'vitest';
import type { AccountStatus } from '../../../shared/protocol';
import { formatAccount, formatInboxLine, formatSpan } from './format';

const now = Date.UTC(2026, 10, 24, 9, 0, 0);
const account: AccountStatus = {
  id: 'uid.utid', username: 'alice@contoso.com', tenantId: 'utid', state: { kind: 'signed-in' },
  accessTokens: [{ resource: 'ews', scopes: ['x'], expiresOn: now + 52 * 60_000 }],
  lastRefreshAt: now - 9 * 60_000, nextRefreshAt: now + 41 * 60_000, lastError: null, refreshTokenLapsesAt: now + 90 * 86400_000,
  backend: { configured: 'auto', active: 'ews', reason: 'EWS answers; Microsoft Graph stands by (backend "auto").', ewsDisabledAt: null, ewsRecheckAt: null },
  inbox: { account: 'alice@contoso.com', total: 4817, unread: 23, fetchedAt: now - 2000, backend: 'ews' },
};

describe('human output', () => {
  it('reads the inbox at a glance', () => {
    expect(formatInboxLine(account.inbox!, now, account)).toBe('alice@contoso.com  Inbox 4,817 items (23 unread) via EWS, fetched 2 s ago; token renews in 41 min');
  });

  it('gives spans at the precision a person needs', () => {
    expect([formatSpan(2000), formatSpan(41 * 60_000), formatSpan(185 * 60_000), formatSpan(12 * 86400_000)]).toEqual(['2 s', '41 min', '3 h 5 min', '12 days']);
  });

  it('says in one line which backend serves and why', () => {
    expect(formatAccount(account, now)[1]).toBe('  backend: EWS. EWS answers; Microsoft Graph stands by (backend "auto").');
  });

  it('says how counts arrive, when the daemon says it', () => {
    const realtime = { kind: 'polling' as const, since: now - 5 * 60_000, reason: 'polling every 60 s: Microsoft Graph answers' };
    expect(formatAccount({ ...account, realtime }, now)[2]).toBe('  counts: polled since 5 min ago: polling every 60 s: Microsoft Graph answers');
    expect(formatAccount(account, now).join('\n')).not.toContain('counts:');
  });

  it('says when the count shown is older than asked because the server asked to wait', () => {
    const stale = { ...account.inbox!, stale: { reason: 'throttled' as const, retryAt: Date.UTC(2026, 10, 24, 9, 4, 30) } };
    expect(formatAccount({ ...account, inbox: stale }, now)[1]).toBe('  (older than asked: the mail server asked to wait until 09:04:30 UTC; a newer count comes after that)');
    expect(formatAccount(account, now).join('\n')).not.toContain('older than asked');
  });

  it('shows the advice of an account that needs sign-in', () => {
    const error = { code: 'needs_consent' as const, message: 'The refresh token has expired.', advice: 'Sign in again.', retryable: false, aadsts: 700082, at: now };
    const lines = formatAccount({ ...account, state: { kind: 'needs-consent', error }, lastError: error }, now).join('\n');
    expect(lines).toMatch(/NEEDS SIGN-IN/);
    expect(lines).toMatch(/\(AADSTS700082\)\n\s+Sign in again\./);
  });

  it('shows the one last error the daemon names, once', () => {
    const error = { code: 'transient' as const, message: 'Could not reach Entra ID.', advice: 'Check the network.', retryable: true, at: now };
    const lines = formatAccount({ ...account, state: { kind: 'retrying', attempt: 2, nextAttemptAt: now + 30_000, error }, lastError: error }, now).join('\n');
    expect(lines).toContain('next attempt in 30 s (attempt 2)');
    expect(lines.match(/Could not reach Entra ID/g)).toHaveLength(1);
    expect(formatAccount(account, now).join('\n')).not.toContain('last error');
  });
});

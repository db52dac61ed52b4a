import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { FakeHttp, FakeLog } from '../../../test/support/fakes';
import type { HttpResponse } from '../deps';
import { fetchInboxViaGraph, graphInboxUrl, parseGraphInbox } from './graph-client';

const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-graph-token.sig';

const INBOX = { '@odata.context': "https://graph.microsoft.com/v1.0/$metadata#users('x')/mailFolders(totalItemCount,unreadItemCount,childFolderCount,displayName)/$entity", id: 'AAMkAG', displayName: 'Inbox', childFolderCount: 2, unreadItemCount: 24, totalItemCount: 4818 };
const graphError = (code: string, message: string) => JSON.stringify({ error: { code, message, innerError: { date: '2026-11-24T07:00:00', 'request-id': 'rid-1', 'client-request-id': 'cid-1' } } });

function refusal(res: HttpResponse): AppError {
  try {
    parseGraphInbox(res);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('parseGraphInbox accepted the reply');
}

describe('fetchInboxViaGraph', () => {
  it('GETs the inbox’s counts with exactly the expected headers', async () => {
    const http = new FakeHttp([{ status: 200, headers: { 'request-id': 'rid-9' }, body: JSON.stringify(INBOX) }]);
    const log = new FakeLog();
    const counts = await fetchInboxViaGraph({ http, log }, { graphUrl: 'https://graph.microsoft.com/v1.0/', accessToken: TOKEN, clientRequestId: 'cid-1' });
    expect(counts).toEqual({ total: 4818, unread: 24, childFolderCount: 2, displayName: 'Inbox' });
    expect(http.requests).toEqual([
      {
        method: 'GET',
        url: 'https://graph.microsoft.com/v1.0/me/mailFolders/inbox?$select=totalItemCount,unreadItemCount,childFolderCount,displayName',
        headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/json', 'client-request-id': 'cid-1', 'return-client-request-id': 'true' },
        timeoutMs: 60_000,
        signal: undefined,
      },
    ]);
    expect(log.lines[0]?.fields).toMatchObject({ status: 200, requestId: 'rid-9' });
    expect(JSON.stringify(log.lines)).not.toContain('secret-graph-token');
  });

  it('builds the URL from a graphUrl without a trailing slash too', () => {
    expect(graphInboxUrl('https://localhost:8443/graph/v1.0')).toBe('https://localhost:8443/graph/v1.0/me/mailFolders/inbox?$select=totalItemCount,unreadItemCount,childFolderCount,displayName');
  });
});

describe('parseGraphInbox', () => {
  it.each([
    [401, 'mailbox_unauthorized', graphError('InvalidAuthenticationToken', 'Access token has expired or is not yet valid.'), {}, false, undefined],
    [403, 'scope_missing', graphError('ErrorAccessDenied', 'Access is denied. Check credentials and try again.'), {}, false, undefined],
    [403, 'scope_missing', graphError('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'), {}, false, undefined],
    [403, 'mailbox_error', graphError('ErrorSomethingElse', 'Other.'), {}, false, undefined],
    [404, 'mailbox_error', graphError('MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'), {}, false, undefined],
    [429, 'throttled', graphError('ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'), { 'retry-after': '12' }, true, 12_000],
    [503, 'transient', '', { 'retry-after': '3' }, true, 3000],
    [500, 'transient', '<html>oops</html>', {}, true, undefined],
  ])('classifies HTTP %i as %s', (status, code, body, headers, retryable, retryAfterMs) => {
    const e = refusal({ status, headers, body });
    expect(e.data).toMatchObject({ code, retryable });
    expect(e.data.retryAfterMs).toBe(retryAfterMs);
    expect(e.message).toContain(`HTTP ${status}`);
  });

  it('reads Graph’s error code, message and request-id into the message', () => {
    expect(refusal({ status: 403, headers: {}, body: graphError('ErrorAccessDenied', 'Access is denied.') }).message).toBe('Microsoft Graph answered HTTP 403 ErrorAccessDenied: Access is denied. (request-id rid-1).');
  });

  it('tells a user without Mail.ReadBasic to consent to it', () => {
    expect(refusal({ status: 403, headers: {}, body: graphError('ErrorAccessDenied', 'x') }).data.advice).toMatch(/Mail\.ReadBasic.*sign in again/);
  });

  it.each([
    ['an empty body', '', /empty/],
    ['HTML', '<html></html>', /not JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['no totalItemCount', JSON.stringify({ ...INBOX, totalItemCount: undefined }), /no totalItemCount/],
    ['a negative unreadItemCount', JSON.stringify({ ...INBOX, unreadItemCount: -1 }), /unreadItemCount is not a whole number/],
    ['a string count', JSON.stringify({ ...INBOX, childFolderCount: '2' }), /childFolderCount is not a whole number/],
    ['no displayName', JSON.stringify({ ...INBOX, displayName: null }), /no displayName/],
  ])('reports %s in a 200 reply as malformed', (_what, body, message) => {
    const e = refusal({ status: 200, headers: {}, body });
    expect(e.code).toBe('malformed_response');
    expect(e.message).toMatch(message);
  });
});

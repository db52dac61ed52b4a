import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { FakeHttp, FakeLog } from '../../../test/support/fakes';
import { fetchInboxViaEws } from './ews-client';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'ews');
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-access-token.sig';

const REQ = { ewsUrl: 'https://outlook.office365.com/EWS/Exchange.asmx', accessToken: TOKEN, anchorMailbox: 'alice@contoso.example', clientRequestId: '0f0e0d0c-0000-4000-8000-000000000001' };

describe('fetchInboxViaEws', () => {
  it('POSTs GetFolder(inbox) with exactly the headers Exchange Online expects', async () => {
    const http = new FakeHttp([{ status: 200, headers: {}, body: fs.readFileSync(path.join(FIXTURES, 'docs-getfolder-inbox.xml'), 'utf8') }]);
    const signal = new AbortController().signal;
    const counts = await fetchInboxViaEws({ http, log: new FakeLog() }, { ...REQ, signal });
    expect(counts).toEqual({ total: 2, unread: 2, childFolderCount: 0, displayName: 'Inbox' });
    const [sent] = http.requests;
    expect(sent).toMatchObject({ method: 'POST', url: REQ.ewsUrl, signal });
    expect(sent?.headers).toEqual({
      Authorization: `Bearer ${TOKEN}`,
      'Content-Type': 'text/xml; charset=utf-8',
      'X-AnchorMailbox': 'alice@contoso.example',
      'client-request-id': REQ.clientRequestId,
      'return-client-request-id': 'true',
    });
    expect(sent?.body).toContain('<t:DistinguishedFolderId Id="inbox"/>');
  });

  it('logs the server’s request-id and diagnostics, never the token', async () => {
    const http = new FakeHttp([{ status: 401, headers: { 'request-id': 'req-42', 'x-ms-diagnostics': '2000002;reason="The token has expired.";error_category="invalid_token"' }, body: '' }]);
    const log = new FakeLog();
    const e = await fetchInboxViaEws({ http, log }, REQ).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('mailbox_unauthorized');
    expect((e as AppError).message).toContain('2000002');
    expect(log.lines).toEqual([expect.objectContaining({ level: 'debug', fields: expect.objectContaining({ status: 401, requestId: 'req-42', diagnostics: expect.objectContaining({ number: 2000002 }) }) })]);
    expect(JSON.stringify({ log: log.lines, message: (e as AppError).message, data: (e as AppError).data })).not.toContain('secret-access-token');
  });

  it('throws the classified error for a throttling fault', async () => {
    const http = new FakeHttp([{ status: 500, headers: {}, body: fs.readFileSync(path.join(FIXTURES, 'fault-server-busy.xml'), 'utf8') }]);
    await expect(fetchInboxViaEws({ http, log: new FakeLog() }, REQ)).rejects.toMatchObject({ data: { code: 'throttled', retryAfterMs: 297749 } });
  });

  it('passes on the Http’s transient error when the server cannot be reached', async () => {
    await expect(fetchInboxViaEws({ http: new FakeHttp([]), log: new FakeLog() }, REQ)).rejects.toMatchObject({ data: { code: 'transient' } });
  });
});

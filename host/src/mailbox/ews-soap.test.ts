import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { buildGetFolderInboxRequest, parseEwsDiagnostics, parseGetFolderResponse, type EwsResponse } from './ews-soap';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXTURES = path.join(REPO, 'test', 'fixtures', 'ews');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const S = 'http://schemas.xmlsoap.org/soap/envelope/';
const M = 'http://schemas.microsoft.com/exchange/services/2006/messages';
const T = 'http://schemas.microsoft.com/exchange/services/2006/types';

function refusal(res: EwsResponse): AppError {
  try {
    parseGetFolderResponse(res);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('parseGetFolderResponse accepted the reply');
}
const ok = (body: string, headers: Record<string, string> = {}): EwsResponse => ({ status: 200, headers, body });

/** A GetFolder success with the prefixes and namespace declarations a test chooses. */
function success(folderXml: string, opts: { s?: string; m?: string; t?: string } = {}): string {
  const { s = 's', m = 'm', t = 't' } = opts;
  return `<?xml version="1.0"?><${s}:Envelope xmlns:${s}="${S}"><${s}:Body><${m}:GetFolderResponse xmlns:${m}="${M}" xmlns:${t}="${T}"><${m}:ResponseMessages><${m}:GetFolderResponseMessage ResponseClass="Success"><${m}:ResponseCode>NoError</${m}:ResponseCode><${m}:Folders>${folderXml.replaceAll('t:', `${t}:`)}</${m}:Folders></${m}:GetFolderResponseMessage></${m}:ResponseMessages></${m}:GetFolderResponse></${s}:Body></${s}:Envelope>`;
}
const FOLDER = '<t:Folder><t:FolderId Id="x"/><t:DisplayName>Inbox</t:DisplayName><t:TotalCount>4817</t:TotalCount><t:ChildFolderCount>3</t:ChildFolderCount><t:UnreadCount>23</t:UnreadCount></t:Folder>';
const COUNTS = { total: 4817, unread: 23, childFolderCount: 3, displayName: 'Inbox' };

describe('buildGetFolderInboxRequest', () => {
  const xml = buildGetFolderInboxRequest();
  it('builds well-formed SOAP 1.1 asking for the inbox at Exchange2013_SP1', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain(`xmlns:soap="${S}"`);
    expect(xml).toMatch(/<soap:Header>\s*<t:RequestServerVersion Version="Exchange2013_SP1"\/>\s*<\/soap:Header>/);
    expect(xml).toContain('<t:DistinguishedFolderId Id="inbox"/>');
  });
  it('asks for exactly the four properties it reads', () => {
    expect([...xml.matchAll(/FieldURI="folder:(\w+)"/g)].map((m) => m[1]).sort()).toEqual(['ChildFolderCount', 'DisplayName', 'TotalCount', 'UnreadCount']);
  });
});

describe('parseGetFolderResponse over real servers’ replies', () => {
  it.each([
    ['docs-getfolder-inbox.xml', { total: 2, unread: 2, childFolderCount: 0, displayName: 'Inbox' }],
    ['exo-getfolder-msgfolderroot.xml', { total: 0, unread: 0, childFolderCount: 26, displayName: 'Top of Information Store' }],
  ])('reads the counts from %s', (name, counts) => {
    expect(parseGetFolderResponse(ok(fixture(name)))).toEqual(counts);
  });

  it.each([
    ['fault-server-busy.xml', 500, 'throttled', 297749, /ErrorServerBusy: The server cannot service this request right now/],
    ['message-server-busy.xml', 200, 'throttled', 297749, /ErrorServerBusy/],
    ['exchange2010-error-invalid-id.xml', 200, 'mailbox_error', undefined, /ErrorInvalidIdMalformed: Id is malformed\./],
  ])('classifies %s (HTTP %i) as %s', (name, status, code, retryAfterMs, message) => {
    const e = refusal({ status, headers: {}, body: fixture(name) });
    expect(e.code).toBe(code);
    expect(e.data.retryAfterMs).toBe(retryAfterMs);
    expect(e.message).toMatch(message);
  });

  it('covers every fixture in the folder', () => {
    expect(fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')).sort()).toEqual(['docs-getfolder-inbox.xml', 'exchange2010-error-invalid-id.xml', 'exo-getfolder-msgfolderroot.xml', 'fault-server-busy.xml', 'message-server-busy.xml']);
  });
});

describe('parseGetFolderResponse by namespace, not prefix', () => {
  it.each([
    ['soap:/m:/t:', success(FOLDER, { s: 'soap' })],
    ['a byte-order mark first', `\uFEFF${success(FOLDER)}`],
    ['swapped prefixes (m: bound to types, t: to messages)', success(FOLDER, { s: 'env', m: 't', t: 'm' })],
    ['types as the default namespace', success(`<Folder xmlns="${T}"><DisplayName>Inbox</DisplayName><TotalCount>4817</TotalCount><ChildFolderCount>3</ChildFolderCount><UnreadCount>23</UnreadCount></Folder>`)],
    ['extra elements between the counts', success(FOLDER.replace('<t:UnreadCount>', '<t:EffectiveRights><t:Read>true</t:Read></t:EffectiveRights><t:UnreadCount>'))],
  ])('reads counts with %s', (_how, body) => {
    expect(parseGetFolderResponse(ok(body))).toEqual(COUNTS);
  });

  it('does not read elements whose prefix looks right but names another namespace', () => {
    const body = success(FOLDER).replace(`xmlns:t="${T}"`, 'xmlns:t="urn:not-ews-types"');
    expect(refusal(ok(body))).toMatchObject({ data: { code: 'malformed_response' }, message: expect.stringMatching(/no Folder/) });
  });
});

describe('parseGetFolderResponse over HTTP statuses', () => {
  it.each([
    ['2000001;reason="Token is malformed";error_category="invalid_token"', 2000001, /malformed/],
    ['2000002;reason="ErrorCode: \'PP_E_RPS_CERT_EXPIRED\'. Message: The token has expired.";error_category="invalid_token"', 2000002, /expired/],
    ['2000003;reason="The audience claim value is invalid";error_category="invalid_resource"', 2000003, /wrong audience/],
    ['2000008;reason="The token has an invalid grant";error_category="invalid_grant"', 2000008, /grant/],
  ])('reports a 401 with x-ms-diagnostics %s', (header, number, meaning) => {
    const e = refusal({ status: 401, headers: { 'x-ms-diagnostics': header }, body: '' });
    expect(e.code).toBe('mailbox_unauthorized');
    expect(e.message).toContain(String(number));
    expect(e.message).toMatch(meaning);
  });

  it('reports a 401 without diagnostics', () => {
    expect(refusal({ status: 401, headers: {}, body: '' }).message).toBe('EWS refused the access token.');
  });

  it('explains a 403 as EWS turned off, with the admin’s fix and the Graph backend', () => {
    const e = refusal({ status: 403, headers: {}, body: '' });
    expect(e.code).toBe('ews_disabled');
    expect(e.data.retryable).toBe(false);
    expect(e.data.advice).toContain('Set-OrganizationConfig -EWSEnabled $true');
    expect(e.data.advice).toContain('EWSAllowedAppIDs');
    expect(e.data.advice).toContain('"backend"');
  });

  it.each([
    [503, { 'retry-after': '30' }, 'throttled', 30_000],
    [503, {}, 'transient', undefined],
    [429, { 'retry-after': '5' }, 'throttled', 5000],
    [502, {}, 'transient', undefined],
    [504, {}, 'transient', undefined],
  ])('retries HTTP %i later (headers %o) as %s', (status, headers, code, retryAfterMs) => {
    const e = refusal({ status, headers, body: '<html>Service Unavailable</html>' });
    expect(e.data).toMatchObject({ code, retryable: true });
    expect(e.data.retryAfterMs).toBe(retryAfterMs);
  });

  it.each([
    [404, false],
    [500, true],
  ])('reports HTTP %i without a SOAP fault as a mailbox error', (status, retryable) => {
    const e = refusal({ status, headers: {}, body: '<html><body>Not here</body></html>' });
    expect(e.data).toMatchObject({ code: 'mailbox_error', retryable });
    expect(e.message).toContain(`HTTP ${status}`);
  });
});

describe('parseGetFolderResponse over per-message errors and garbled replies', () => {
  const messageError = (code: string, extra = '') =>
    `<s:Envelope xmlns:s="${S}"><s:Body><GetFolderResponse xmlns="${M}"><ResponseMessages><GetFolderResponseMessage ResponseClass="Error"><MessageText>Text for ${code}.</MessageText><ResponseCode>${code}</ResponseCode>${extra}</GetFolderResponseMessage></ResponseMessages></GetFolderResponse></s:Body></s:Envelope>`;

  it.each([
    ['ErrorExceededConnectionCount', 'throttled'],
    ['ErrorMailboxStoreUnavailable', 'transient'],
    ['ErrorNonExistentMailbox', 'mailbox_error'],
  ])('classifies %s as %s', (code, expected) => {
    const e = refusal(ok(messageError(code)));
    expect(e.code).toBe(expected);
    expect(e.message).toBe(`EWS answered ${code}: Text for ${code}.`);
  });

  it('honours a back-off in any error’s MessageXml', () => {
    const e = refusal(ok(messageError('ErrorSomethingNew', `<MessageXml><Value xmlns="${T}" Name="BackOffMilliseconds">1200</Value></MessageXml>`)));
    expect(e.data).toMatchObject({ code: 'throttled', retryAfterMs: 1200 });
  });

  it.each([
    ['an empty body', '', /empty/],
    ['a truncated body', success(FOLDER).slice(0, 200), /not well-formed XML \(line 1, column \d+\)/],
    ['an HTML login page', '<html><head><title>Sign in</title></head><body><form></form></body></html>', /no SOAP 1\.1 Envelope/],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY a "aaaa">]>${success(FOLDER)}`, /DOCTYPE/],
    ['a SOAP 1.2 envelope', success(FOLDER).replaceAll(S, 'http://www.w3.org/2003/05/soap-envelope'), /no SOAP 1\.1 Envelope/],
    ['an undeclared prefix', success(FOLDER).replace('<t:Folder>', '<q:Folder>').replace('</t:Folder>', '</q:Folder>'), /undeclared namespace prefix/],
    ['no Body', `<s:Envelope xmlns:s="${S}"><s:Header/></s:Envelope>`, /no Body/],
    ['no response message', `<s:Envelope xmlns:s="${S}"><s:Body/></s:Envelope>`, /no GetFolderResponseMessage/],
    ['no TotalCount', success(FOLDER.replace('<t:TotalCount>4817</t:TotalCount>', '')), /no TotalCount/],
    ['a count that is not a number', success(FOLDER.replace('>23<', '>many<')), /UnreadCount is not a whole number \(got "many"\)/],
    ['no DisplayName', success(FOLDER.replace('<t:DisplayName>Inbox</t:DisplayName>', '')), /no DisplayName/],
  ])('reports %s as malformed, naming what is wrong', (_what, body, message) => {
    const e = refusal(ok(body));
    expect(e.code).toBe('malformed_response');
    expect(e.message).toMatch(message);
  });
});

describe('parseEwsDiagnostics', () => {
  it('reads number, reason and category', () => {
    expect(parseEwsDiagnostics('2000002;reason="The token has expired.";error_category="invalid_token"')).toEqual({ number: 2000002, meaning: 'the token has expired', reason: 'The token has expired.', category: 'invalid_token' });
  });
  it('returns null for no header or a header without a number', () => {
    expect(parseEwsDiagnostics(undefined)).toBeNull();
    expect(parseEwsDiagnostics('garbage')).toBeNull();
  });
});

// EWS as Exchange Online answers it: GetFolder counts from the token's user's mailbox, the 401
// diagnostics a client branches on, the tenant block (403), and every injected fault in the
// shape of the real samples under test/fixtures/ews/. Replies are read by local name.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index';
import { GET_INBOX, ews, httpFor, signInRaw, tokenRequest, GRAPH_SCOPE, type TestHttp } from './test-kit';

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '' });
type Xml = Record<string, unknown>;

function body(xml: string): Xml {
  return ((parser.parse(xml) as Xml).Envelope as Xml).Body as Xml;
}

function message(xml: string): Xml {
  const b = body(xml);
  return ((b.GetFolderResponse as Xml).ResponseMessages as Xml).GetFolderResponseMessage as Xml;
}

describe('EWS GetFolder', () => {
  let emulator: Emulator;
  let http: TestHttp;
  let token: string;
  let refreshToken: string;

  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
    const signed = await signInRaw(http, emulator);
    token = String(signed.body.access_token);
    refreshToken = String(signed.body.refresh_token);
  });
  afterEach(() => {
    emulator.admin.clearFaults();
    emulator.admin.setEwsDisabled(false);
  });
  afterAll(async () => {
    await http?.close();
    await emulator?.stop();
  });

  it("answers the Inbox counts of the token's user, and follows setMailbox", async () => {
    const res = await ews(http, emulator, token);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
    const m = message(res.body);
    expect(m).toMatchObject({ ResponseClass: 'Success', ResponseCode: 'NoError' });
    expect((m.Folders as Xml).Folder).toMatchObject({ DisplayName: 'Inbox', TotalCount: 4817, UnreadCount: 23, ChildFolderCount: 0 });
    emulator.admin.setMailbox('alice@contoso.example', { total: 4818, unread: 24 });
    expect(((message((await ews(http, emulator, token)).body).Folders as Xml).Folder as Xml).TotalCount).toBe(4818);
    emulator.admin.setMailbox('alice@contoso.example', { total: 4817, unread: 23 });
  });

  it('sends request-id, echoes client-request-id when asked, and records the request headers', async () => {
    const res = await ews(http, emulator, token, GET_INBOX, { 'client-request-id': 'c0ffee', 'return-client-request-id': 'true', 'x-anchormailbox': 'alice@contoso.example' });
    expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['client-request-id']).toBe('c0ffee');
    expect(emulator.admin.stats().lastEwsHeaders).toMatchObject({ 'x-anchormailbox': 'alice@contoso.example', 'content-type': 'text/xml; charset=utf-8' });
    const plain = await ews(http, emulator, token, GET_INBOX, { 'client-request-id': 'c0ffee' });
    expect(plain.headers['client-request-id']).toBeUndefined();
  });

  it('answers 401 with x-ms-diagnostics 2000001 for a missing or garbled token', async () => {
    for (const t of [undefined, 'not-a-jwt', 'eyJ4.eyJ5.c2ln']) {
      const res = await ews(http, emulator, t);
      expect(res.status).toBe(401);
      expect(res.headers['x-ms-diagnostics']).toMatch(/^2000001;reason="[^"]+";error_category="invalid_(token|signature)"$/);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers=.*error="invalid_token"$/);
    }
  });

  it('answers 401 2000002 for an expired token and 2000003 for a Graph token', async () => {
    emulator.admin.advanceTime(2 * 3600_000);
    try {
      const expired = await ews(http, emulator, token);
      expect(expired.headers['x-ms-diagnostics']).toMatch(/^2000002;reason="[^"]*expired[^"]*";error_category="invalid_token"$/);
    } finally {
      emulator.admin.advanceTime(-2 * 3600_000);
    }
    const graph = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: GRAPH_SCOPE });
    const wrongAudience = await ews(http, emulator, String(graph.body.access_token));
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers['x-ms-diagnostics']).toMatch(/^2000003;reason="The audience claim value is invalid 'https:\/\/graph\.microsoft\.com'\.";error_category="invalid_resource"$/);
  });

  it('answers 403 while EWS is turned off for the tenant', async () => {
    emulator.admin.setEwsDisabled(true);
    const res = await ews(http, emulator, token);
    expect(res.status).toBe(403);
    expect(res.headers['request-id']).toBeTruthy();
  });

  it('answers ErrorServerBusy as a SOAP fault (HTTP 500) with BackOffMilliseconds, for as many requests as asked', async () => {
    emulator.admin.failEws({ kind: 'busy-fault', backOffMs: 120_000 }, 2);
    for (let i = 0; i < 2; i++) {
      const res = await ews(http, emulator, token);
      expect(res.status).toBe(500);
      const fault = body(res.body).Fault as Xml;
      expect(fault.faultcode).toBe('a:ErrorServerBusy');
      expect((fault.detail as Xml).ResponseCode).toBe('ErrorServerBusy');
      expect(((fault.detail as Xml).MessageXml as Xml).Value).toEqual({ '#text': 120000, Name: 'BackOffMilliseconds' });
    }
    expect((await ews(http, emulator, token)).status).toBe(200);
  });

  it('answers ErrorServerBusy as a per-message error (HTTP 200) until cleared', async () => {
    emulator.admin.failEws('busy-message');
    for (let i = 0; i < 3; i++) {
      const res = await ews(http, emulator, token);
      expect(res.status).toBe(200);
      const m = message(res.body);
      expect(m).toMatchObject({ ResponseClass: 'Error', ResponseCode: 'ErrorServerBusy', MessageXml: { Value: { '#text': 297749, Name: 'BackOffMilliseconds' } } });
    }
    emulator.admin.clearFaults();
    expect(message((await ews(http, emulator, token)).body).ResponseClass).toBe('Success');
  });

  it('answers the other faults in their real shapes', async () => {
    const cases: [Parameters<Emulator['admin']['failEws']>[0], (r: { status: number; body: string }) => void][] = [
      ['http-503', (r) => expect(r.status).toBe(503)],
      ['http-403', (r) => expect(r.status).toBe(403)],
      ['malformed', (r) => expect([r.status, r.body.startsWith('<?xml'), XMLValidator.validate(r.body) === true]).toEqual([200, true, false])],
      ['error-message', (r) => expect(message(r.body)).toMatchObject({ ResponseClass: 'Error', ResponseCode: 'ErrorItemNotFound' })],
      [{ kind: 'error-message', responseCode: 'ErrorAccessDenied', messageText: 'Access is denied.' }, (r) => expect(message(r.body)).toMatchObject({ ResponseCode: 'ErrorAccessDenied', MessageText: 'Access is denied.' })],
      ['connection-count', (r) => expect([r.status, ((body(r.body).Fault as Xml).detail as Xml).ResponseCode]).toEqual([500, 'ErrorExceededConnectionCount'])],
    ];
    for (const [fault, check] of cases) {
      emulator.admin.failEws(fault, 1);
      check(await ews(http, emulator, token));
    }
  });

  it('delays a reply when asked to be slow', async () => {
    emulator.admin.failEws({ kind: 'slow', ms: 300 }, 1);
    const t = Date.now();
    expect((await ews(http, emulator, token)).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  it('answers other operations with a SOAP fault ErrorInvalidRequest, and unparsable XML with ErrorSchemaValidation', async () => {
    const findItem = GET_INBOX.replace(/GetFolder/g, 'FindItem');
    const res = await ews(http, emulator, token, findItem);
    expect(res.status).toBe(500);
    expect((body(res.body).Fault as Xml).faultcode).toBe('a:ErrorInvalidRequest');
    const broken = await ews(http, emulator, token, '<soap:Envelope><soap:Body><GetFolder>');
    expect(broken.body).toContain('ErrorSchemaValidation');
  });

  it('counts every request, including the refused ones', async () => {
    emulator.admin.resetStats();
    await ews(http, emulator, undefined);
    await ews(http, emulator, token);
    expect(emulator.admin.stats().ewsRequests).toBe(2);
  });
});

// Microsoft Graph's inbox folder as the emulator serves it: the counts with $select, Graph's
// 401/403 error JSON, injected 429 with Retry-After, and the four-request MailboxConcurrency cap.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index';
import { waitUntil } from '../support/wait';
import { EWS_SCOPE, GRAPH_SCOPE, graphInbox, httpFor, signInRaw, tokenRequest, type TestHttp } from './test-kit';

describe('Graph /me/mailFolders/inbox', () => {
  let emulator: Emulator;
  let http: TestHttp;
  let token: string;
  let refreshToken: string;

  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
    const signed = await signInRaw(http, emulator);
    refreshToken = String(signed.body.refresh_token);
    const graph = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: `${GRAPH_SCOPE} offline_access` });
    token = String(graph.body.access_token);
  });
  afterEach(() => {
    emulator.admin.clearFaults();
    emulator.admin.release();
  });
  afterAll(async () => {
    await http?.close();
    await emulator?.stop();
  });

  it('answers the counts, only the selected properties (and id), with an OData context', async () => {
    const res = await graphInbox(http, emulator, token);
    expect(res.status).toBe(200);
    const folder = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(folder).sort()).toEqual(['@odata.context', 'id', 'totalItemCount', 'unreadItemCount']);
    expect(folder).toMatchObject({ totalItemCount: 4817, unreadItemCount: 23 });
    expect(String(folder['@odata.context'])).toMatch(/\/\$metadata#users\('[0-9a-f-]+'\)\/mailFolders\(totalItemCount,unreadItemCount\)\/\$entity$/);
    const all = JSON.parse((await graphInbox(http, emulator, token, '')).body) as Record<string, unknown>;
    expect(all).toMatchObject({ displayName: 'Inbox', childFolderCount: 0, isHidden: false, totalItemCount: 4817 });
    expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a missing token and an EWS token with 401 InvalidAuthenticationToken', async () => {
    const missing = await graphInbox(http, emulator, undefined);
    expect(missing.status).toBe(401);
    const body = JSON.parse(missing.body) as { error: { code: string; message: string; innerError: Record<string, string> } };
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(Object.keys(body.error.innerError).sort()).toEqual(['client-request-id', 'date', 'request-id']);
    const ewsToken = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: EWS_SCOPE });
    const wrongAudience = await graphInbox(http, emulator, String(ewsToken.body.access_token));
    expect(JSON.parse(wrongAudience.body).error).toMatchObject({ code: 'InvalidAuthenticationToken', message: expect.stringMatching(/audience/) });
  });

  it('refuses a Graph token without a Mail permission with 403 ErrorAccessDenied', async () => {
    emulator.admin.addUser({ username: 'dave@contoso.example', name: 'Dave Example' });
    const scope = 'https://graph.microsoft.com/User.Read openid';
    const profileOnly = await signInRaw(http, emulator, { loginHint: 'dave@contoso.example', authorizeScope: scope, scope });
    expect(profileOnly.status).toBe(200);
    const res = await graphInbox(http, emulator, String(profileOnly.body.access_token));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.code).toBe('ErrorAccessDenied');
  });

  it('answers an injected 429 with Retry-After, then recovers', async () => {
    emulator.admin.failGraph({ kind: 'http', status: 429, retryAfterSeconds: 12 }, 1);
    const res = await graphInbox(http, emulator, token);
    expect([res.status, res.headers['retry-after']]).toEqual([429, '12']);
    expect(JSON.parse(res.body).error.code).toBe('TooManyRequests');
    expect((await graphInbox(http, emulator, token)).status).toBe(200);
  });

  it('answers the fifth concurrent request to one mailbox with 429 MailboxConcurrency', async () => {
    emulator.admin.hold('graph');
    const first = Array.from({ length: 4 }, () => graphInbox(http, emulator, token));
    await waitUntil('four Graph requests held open', async () => emulator.admin.heldRequests('graph'), (n) => n === 4);
    const fifth = await graphInbox(http, emulator, token);
    expect(fifth.status).toBe(429);
    expect(JSON.parse(fifth.body).error).toMatchObject({ code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' });
    expect(fifth.headers['retry-after']).toBeDefined();
    expect(emulator.admin.heldRequests('graph')).toBe(4); // refused at once, never held
    emulator.admin.release('graph');
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await graphInbox(http, emulator, token)).status).toBe(200); // the four are done: room again
  });

  it('counts requests and records their headers', async () => {
    emulator.admin.resetStats();
    await http.request({ method: 'GET', url: `${emulator.graphUrl}/me/mailFolders/inbox`, headers: { authorization: `Bearer ${token}`, 'client-request-id': 'abc' } });
    expect(emulator.admin.stats()).toMatchObject({ graphRequests: 1, lastGraphHeaders: { 'client-request-id': 'abc' } });
  });
});

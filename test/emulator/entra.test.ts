// Entra ID's authorize, consent and token endpoints as the emulator plays them, over raw HTTPS:
// the verdicts a client must handle (code reuse, PKCE mismatch, unassigned user, declined
// consent, admin-consent policy, one resource per request, rotation of refresh tokens) in
// Entra's exact error shapes, and the injected token-endpoint faults.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index';
import { ALICE, EWS_SCOPE, GRAPH_SCOPE, authorizeUrl, claimsOf, follow, httpFor, pkce, signInRaw, tokenRequest, type TestHttp } from './test-kit';

const OIDC = 'openid profile offline_access';

function expectEntraError(body: Record<string, unknown>, error: string, aadsts: number): void {
  expect(body).toMatchObject({ error, error_codes: [aadsts] });
  expect(String(body.error_description)).toMatch(new RegExp(`^AADSTS${aadsts}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`));
  expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
}

describe('authorize and token endpoints (auto consent)', () => {
  let emulator: Emulator;
  let http: TestHttp;
  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
  });
  afterEach(() => emulator.admin.clearFaults());
  afterAll(async () => {
    await http?.close();
    await emulator?.stop();
  });

  it('publishes the OpenID configuration and keys that verify its tokens', async () => {
    const res = await http.request({ method: 'GET', url: `${emulator.authority}/v2.0/.well-known/openid-configuration` });
    const config = JSON.parse(res.body) as Record<string, string>;
    expect(config).toMatchObject({ issuer: `${emulator.authority}/v2.0`, token_endpoint: `${emulator.authority}/oauth2/v2.0/token`, authorization_endpoint: `${emulator.authority}/oauth2/v2.0/authorize` });
    const keys = JSON.parse((await http.request({ method: 'GET', url: config.jwks_uri as string })).body) as { keys: { kid: string }[] };
    const signed = await signInRaw(http, emulator);
    const header = JSON.parse(Buffer.from(String(signed.body.id_token).split('.')[0] as string, 'base64url').toString()) as { kid: string };
    expect(keys.keys.map((k) => k.kid)).toContain(header.kid);
    const unknown = await http.request({ method: 'GET', url: `${emulator.url}/fabrikam.example/v2.0/.well-known/openid-configuration` });
    expect(unknown.status).toBe(400);
    expectEntraError(JSON.parse(unknown.body), 'invalid_tenant', 90002);
  });

  it('answers a code redemption like Entra: tokens, client_info, id_token with the nonce', async () => {
    const { verifier, challenge } = pkce();
    const reply = await follow(http, authorizeUrl(emulator, { challenge, nonce: 'n-123', state: 'abc' }));
    expect(reply.searchParams.get('state')).toBe('abc');
    const r = await tokenRequest(http, emulator, { grant_type: 'authorization_code', code: reply.searchParams.get('code') as string, code_verifier: verifier, redirect_uri: emulator.redirectUris[0] as string, scope: `${EWS_SCOPE} ${OIDC}` });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', scope: EWS_SCOPE });
    expect(r.body.expires_in).toBeGreaterThanOrEqual(3600);
    expect(r.body.expires_in).toBeLessThanOrEqual(5400);
    expect(r.headers['cache-control']).toContain('no-store');
    const info = JSON.parse(Buffer.from(String(r.body.client_info), 'base64url').toString()) as { uid: string; utid: string };
    const id = claimsOf(r.body.id_token);
    expect(info).toEqual({ uid: id.oid, utid: emulator.tenantId });
    expect(id).toMatchObject({ aud: emulator.clientId, iss: `${emulator.authority}/v2.0`, nonce: 'n-123', preferred_username: ALICE, ver: '2.0' });
    expect(claimsOf(r.body.access_token)).toMatchObject({ iss: `https://sts.windows.net/${emulator.tenantId}/`, ver: '1.0', upn: ALICE, unique_name: ALICE });
  });

  it('refuses a reused code (54005) and a wrong PKCE verifier (501481)', async () => {
    const { verifier, challenge } = pkce();
    const code = (await follow(http, authorizeUrl(emulator, { challenge }))).searchParams.get('code') as string;
    const form = { grant_type: 'authorization_code', code, redirect_uri: emulator.redirectUris[0] as string, scope: `${EWS_SCOPE} ${OIDC}` };
    const wrong = await tokenRequest(http, emulator, { ...form, code_verifier: pkce().verifier });
    expect(wrong.status).toBe(400);
    expectEntraError(wrong.body, 'invalid_grant', 501481);
    expect((await tokenRequest(http, emulator, { ...form, code_verifier: verifier })).status).toBe(200);
    const again = await tokenRequest(http, emulator, { ...form, code_verifier: verifier });
    expectEntraError(again.body, 'invalid_grant', 54005);
  });

  it('refuses an expired code (70008) and a redirect_uri other than the authorize one', async () => {
    const { verifier, challenge } = pkce();
    const code = (await follow(http, authorizeUrl(emulator, { challenge }))).searchParams.get('code') as string;
    const other = await tokenRequest(http, emulator, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'http://localhost:1/elsewhere', scope: EWS_SCOPE });
    expectEntraError(other.body, 'invalid_request', 50011);
    emulator.admin.advanceTime(601_000);
    try {
      const late = await tokenRequest(http, emulator, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: emulator.redirectUris[0] as string, scope: EWS_SCOPE });
      expectEntraError(late.body, 'invalid_grant', 70008);
    } finally {
      emulator.admin.advanceTime(-601_000);
    }
  });

  it('rotates refresh tokens and keeps the old one valid until its own inactivity expires', async () => {
    emulator.admin.setLifetimes({ refreshTokenInactivitySeconds: 3600 });
    try {
      const first = String((await signInRaw(http, emulator)).body.refresh_token);
      const r1 = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: first, scope: `${GRAPH_SCOPE} ${OIDC}` });
      expect(r1.status).toBe(200);
      const second = String(r1.body.refresh_token);
      expect(second).not.toBe(first);
      expect(claimsOf(r1.body.access_token)).toMatchObject({ aud: 'https://graph.microsoft.com', scp: 'Mail.ReadBasic' });
      emulator.admin.advanceTime(3000_000);
      expect((await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: first, scope: EWS_SCOPE })).status).toBe(200);
      emulator.admin.advanceTime(3601_000);
      const stale = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: second, scope: EWS_SCOPE });
      expectEntraError(stale.body, 'invalid_grant', 700082);
      emulator.admin.advanceTime(-6601_000);
    } finally {
      emulator.admin.setLifetimes({ refreshTokenInactivitySeconds: 90 * 24 * 3600 });
    }
  });

  it('grants one resource per token request (700022) and only consented ones (65001)', async () => {
    const signed = await signInRaw(http, emulator, { scope: `${EWS_SCOPE} ${OIDC}` });
    const rt = String(signed.body.refresh_token);
    const both = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: rt, scope: `${EWS_SCOPE} ${GRAPH_SCOPE}` });
    expectEntraError(both.body, 'invalid_scope', 700022);
    const notConsented = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: rt, scope: 'https://graph.microsoft.com/Mail.ReadWrite' });
    expectEntraError(notConsented.body, 'invalid_grant', 65001);
  });

  it('refuses a wrong secret with 401 invalid_client 7000215 and two credentials with invalid_request', async () => {
    const r = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: 'x', client_secret: 'nope' });
    expect(r.status).toBe(401);
    expectEntraError(r.body, 'invalid_client', 7000215);
    const two = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: 'x', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'a.b.c' });
    expect(two.body.error).toBe('invalid_request');
  });

  it('redirects an unassigned user back with access_denied AADSTS50105', async () => {
    const reply = await follow(http, authorizeUrl(emulator, { loginHint: 'bob@contoso.example', state: 's-bob' }));
    expect(reply.searchParams.get('error')).toBe('access_denied');
    expect(reply.searchParams.get('error_description')).toMatch(/^AADSTS50105: .*'bob@contoso\.example' is blocked/);
    expect(reply.searchParams.get('state')).toBe('s-bob');
    expect(reply.searchParams.get('code')).toBeNull();
  });

  it('shows an error page, never a redirect, for an unknown app (700016) or an unregistered Reply URL (50011)', async () => {
    const unknownApp = await http.request({ method: 'GET', url: authorizeUrl(emulator, { clientId: '11111111-2222-3333-4444-555555555555' }) });
    expect(unknownApp.status).toBe(400);
    expect(unknownApp.headers.location).toBeUndefined();
    expect(unknownApp.body).toContain('AADSTS700016');
    const badReply = await http.request({ method: 'GET', url: authorizeUrl(emulator, { redirectUri: 'https://evil.example/cb' }) });
    expect(badReply.headers.location).toBeUndefined();
    expect(badReply.body).toContain('AADSTS50011');
  });

  it('accepts a registered loopback Reply URL on another port, as Entra does', async () => {
    const reply = await follow(http, authorizeUrl(emulator, { redirectUri: 'http://localhost:61234/callback' }));
    expect(reply.origin).toBe('http://localhost:61234');
    expect(reply.searchParams.get('code')).toBeTruthy();
  });

  it('asks for admin consent when the tenant requires it (90094), and honours it once given', async () => {
    emulator.admin.requireAdminConsent(true);
    try {
      const denied = await follow(http, authorizeUrl(emulator));
      expect(denied.searchParams.get('error')).toBe('consent_required');
      expect(denied.searchParams.get('error_description')).toMatch(/^AADSTS90094: /);
      const consentUrl = new URL(`${emulator.authority}/v2.0/adminconsent`);
      consentUrl.search = new URLSearchParams({ client_id: emulator.clientId, scope: 'https://outlook.office365.com/.default https://graph.microsoft.com/.default', redirect_uri: emulator.redirectUris[0] as string, state: 'adm' }).toString();
      const granted = await follow(http, consentUrl.toString());
      expect(Object.fromEntries(granted.searchParams)).toMatchObject({ admin_consent: 'True', tenant: emulator.tenantId, state: 'adm' });
      expect((await follow(http, authorizeUrl(emulator))).searchParams.get('code')).toBeTruthy();
    } finally {
      emulator.admin.requireAdminConsent(false);
    }
  });

  it('fails the next token requests as injected: AADSTS body, 503 with Retry-After, a dropped connection', async () => {
    emulator.admin.failToken({ kind: 'aadsts', status: 400, error: 'invalid_grant', aadsts: 50076, description: 'Due to a configuration change made by your administrator, you must use multi-factor authentication.' });
    const mfa = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: 'x' });
    expectEntraError(mfa.body, 'invalid_grant', 50076);
    emulator.admin.failToken({ kind: 'http', status: 503, retryAfterSeconds: 7 }, 2);
    for (let i = 0; i < 2; i++) {
      const busy = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: 'x' });
      expect([busy.status, busy.headers['retry-after'], busy.body.error]).toEqual([503, '7', 'temporarily_unavailable']);
    }
    emulator.admin.failToken({ kind: 'drop' });
    await expect(tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: 'x' })).rejects.toMatchObject({ data: { code: 'transient' } });
    const after = await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: 'x' });
    expectEntraError(after.body, 'invalid_grant', 9002313);
  });

  it('counts token requests by grant type and authorize requests', async () => {
    emulator.admin.resetStats();
    await signInRaw(http, emulator);
    await tokenRequest(http, emulator, { grant_type: 'refresh_token', refresh_token: 'x' });
    expect(emulator.admin.stats()).toMatchObject({ authorizeRequests: 1, tokenRequests: { authorization_code: 1, refresh_token: 1 } });
  });
});

describe('the consent page (consentMode "page")', () => {
  let emulator: Emulator;
  let http: TestHttp;
  beforeAll(async () => {
    emulator = await startEmulator();
    http = httpFor(emulator);
  });
  afterAll(async () => {
    await http?.close();
    await emulator?.stop();
  });

  async function openPage(loginHint?: string): Promise<{ html: string; action: string; ctx: string }> {
    const res = await http.request({ method: 'GET', url: authorizeUrl(emulator, { loginHint, state: 'page-state' }) });
    expect(res.status).toBe(200);
    const action = /<form method="post" action="([^"]+)"/.exec(res.body)?.[1] as string;
    const ctx = /name="ctx" value="([^"]+)"/.exec(res.body)?.[1] as string;
    return { html: res.body, action, ctx };
  }

  const submit = (action: string, fields: Record<string, string>) =>
    http.request({ method: 'POST', url: `${emulator.url}${action}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

  it('shows the app, the permissions, a prefilled labelled username and Accept / Cancel buttons', async () => {
    const { html } = await openPage('alice@contoso.example');
    expect(html).toContain('<label for="username">');
    expect(html).toMatch(/<input id="username"[^>]*value="alice@contoso\.example"/);
    expect(html).toMatch(/<button type="submit" id="accept"[^>]*>Accept<\/button>/);
    expect(html).toMatch(/<button type="submit" id="cancel"[^>]*>Cancel<\/button>/);
    expect(html).toContain('EWS.AccessAsUser.All');
    expect(html).toContain('Mail.ReadBasic');
  });

  it('redirects with a code and the state on Accept', async () => {
    const { action, ctx } = await openPage();
    const res = await submit(action, { ctx, username: ALICE, action: 'accept' });
    expect(res.status).toBe(302);
    const reply = new URL(res.headers.location as string);
    expect(reply.searchParams.get('code')).toBeTruthy();
    expect(reply.searchParams.get('state')).toBe('page-state');
  });

  it('redirects with access_denied AADSTS65004 on Cancel, and the page cannot be replayed', async () => {
    const { action, ctx } = await openPage();
    const res = await submit(action, { ctx, username: ALICE, action: 'cancel' });
    const reply = new URL(res.headers.location as string);
    expect(reply.searchParams.get('error')).toBe('access_denied');
    expect(reply.searchParams.get('error_description')).toMatch(/^AADSTS65004: User declined to consent/);
    expect(reply.searchParams.get('state')).toBe('page-state');
    const replay = await submit(action, { ctx, username: ALICE, action: 'accept' });
    expect(replay.status).toBe(400);
  });

  it('shows the page again with an error for an unknown account', async () => {
    const { action, ctx } = await openPage();
    const res = await submit(action, { ctx, username: 'dave@contoso.example', action: 'accept' });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/role="alert"[^>]*>AADSTS50034/);
  });
});

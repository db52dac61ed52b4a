// The emulator's public-client rules, as Entra applies them: a code issued to a Reply URL of the
// "Mobile and desktop applications" platform is redeemed without client authentication
// (AADSTS700025 with a secret) and its refresh tokens too; one issued to a Web Reply URL needs a
// credential (AADSTS7000218 without).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index';
import { EWS_SCOPE, authorizeUrl, claimsOf, follow, httpFor, pkce, type TestHttp } from './test-kit';

const OIDC = 'openid profile offline_access';

describe('emulator: public-client registrations', () => {
  let emulator: Emulator;
  let http: TestHttp;
  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
  });
  afterAll(async () => {
    await http.close();
    await emulator.stop();
  });

  /** A token request with exactly the given form: no client authentication unless it holds one. */
  async function token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = new URLSearchParams({ client_id: emulator.clientId, ...form }).toString();
    const res = await http.request({ method: 'POST', url: `${emulator.authority}/oauth2/v2.0/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
  }

  async function codeFor(redirectUri: string): Promise<{ form: Record<string, string> }> {
    const { verifier, challenge } = pkce();
    const code = (await follow(http, authorizeUrl(emulator, { challenge, redirectUri }))).searchParams.get('code') as string;
    return { form: { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, scope: `${EWS_SCOPE} ${OIDC}` } };
  }

  it('redeems a Mobile-and-desktop code and its refresh token without a credential (appidacr 0)', async () => {
    const { form } = await codeFor('http://localhost:49152');
    const redeemed = await token(form);
    expect(redeemed.status).toBe(200);
    expect(claimsOf(redeemed.body.access_token).appidacr).toBe('0');
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(redeemed.body.refresh_token), scope: EWS_SCOPE });
    expect(refreshed.status).toBe(200);
    const withSecret = await token({ grant_type: 'refresh_token', refresh_token: String(redeemed.body.refresh_token), scope: EWS_SCOPE, client_secret: emulator.clientSecret });
    expect(withSecret).toMatchObject({ status: 401, body: { error: 'invalid_client', error_codes: [700025] } });
  });

  it('answers AADSTS700025 to a public client that sends a secret', async () => {
    const { form } = await codeFor('http://localhost:49153');
    const answer = await token({ ...form, client_secret: emulator.clientSecret });
    expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_client', error_codes: [700025] } });
    expect(String(answer.body.error_description)).toMatch(/^AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented\./);
  });

  it('answers AADSTS7000218 to a Web-app code redeemed without a credential', async () => {
    const { form } = await codeFor(emulator.redirectUris[0] as string);
    const answer = await token(form);
    expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_client', error_codes: [7000218] } });
    expect((await token({ ...form, client_secret: emulator.clientSecret })).status).toBe(200);
  });

  it('shows AADSTS50011 for a Reply URL registered on no platform', async () => {
    const res = await http.request({ method: 'GET', url: authorizeUrl(emulator, { redirectUri: 'http://localhost:49154/elsewhere' }) });
    expect(res.status).toBe(400);
    expect(res.body).toContain('AADSTS50011');
  });
});

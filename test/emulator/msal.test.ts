// The emulator against the REAL @azure/msal-node: auth code with PKCE, silent refresh for EWS
// and for Graph from the same grant, Entra's verdicts on stale grants surfacing as MSAL
// ServerErrors with the AADSTS number, and the certificate credential.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CryptoProvider, ServerError, type AccountInfo, type ConfidentialClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientCertificate } from './certs';
import { startEmulator, type Emulator } from './index';
import { ALICE, EWS_SCOPE, GRAPH_SCOPE, claimsOf, ews, follow, graphInbox, httpFor, msalApp, type TestHttp } from './test-kit';

const DAY_MS = 24 * 3600_000;

async function signIn(app: ConfidentialClientApplication, emulator: Emulator, http: TestHttp, loginHint = ALICE): Promise<AccountInfo> {
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const state = `state-${Math.random()}`;
  const redirectUri = emulator.redirectUris[0] as string;
  const authUrl = await app.getAuthCodeUrl({ scopes: [EWS_SCOPE], extraScopesToConsent: [GRAPH_SCOPE], redirectUri, state, codeChallenge: challenge, codeChallengeMethod: 'S256', loginHint });
  const reply = await follow(http, authUrl);
  expect(`${reply.origin}${reply.pathname}`).toBe(redirectUri);
  expect(reply.searchParams.get('state')).toBe(state);
  const code = reply.searchParams.get('code') as string;
  const result = await app.acquireTokenByCode({ code, codeVerifier: verifier, redirectUri, scopes: [EWS_SCOPE], state }, { code, state });
  expect(result.account).not.toBeNull();
  return result.account as AccountInfo;
}

async function serverError(p: Promise<unknown>): Promise<ServerError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ServerError);
  return e as ServerError;
}

describe('the emulator with the real MSAL (client secret)', () => {
  let emulator: Emulator;
  let http: TestHttp;
  let app: ConfidentialClientApplication;
  let account: AccountInfo;

  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
    app = msalApp(emulator, { clientSecret: emulator.clientSecret }, http);
    account = await signIn(app, emulator, http);
  });
  afterAll(async () => {
    await http?.close();
    await emulator?.stop();
  });

  it('signs alice in through getAuthCodeUrl and acquireTokenByCode, with an EWS token', async () => {
    expect(account.username).toBe(ALICE);
    expect(account.name).toBe('Alice Example');
    expect(account.tenantId).toBe(emulator.tenantId);
    const silent = await app.acquireTokenSilent({ account, scopes: [EWS_SCOPE] });
    expect(silent.fromCache).toBe(true);
    expect(claimsOf(silent.accessToken)).toMatchObject({ aud: 'https://outlook.office365.com', upn: ALICE, scp: 'EWS.AccessAsUser.All', appid: emulator.clientId });
    expect(emulator.admin.stats().tokenRequests.authorization_code).toBe(1);
  });

  it('refreshes for EWS and for Graph from the same grant, and both backends answer the counts', async () => {
    const before = emulator.admin.stats().tokenRequests.refresh_token;
    const ewsToken = await app.acquireTokenSilent({ account, scopes: [EWS_SCOPE], forceRefresh: true });
    const graphToken = await app.acquireTokenSilent({ account, scopes: [GRAPH_SCOPE], forceRefresh: true });
    expect(emulator.admin.stats().tokenRequests.refresh_token).toBe(before + 2);
    expect(ewsToken.fromCache).toBe(false);
    expect(claimsOf(graphToken.accessToken).aud).toBe('https://graph.microsoft.com');
    const soap = await ews(http, emulator, ewsToken.accessToken);
    expect(soap.body).toMatch(/<t:TotalCount>4817<\/t:TotalCount>/);
    const graph = await graphInbox(http, emulator, graphToken.accessToken);
    expect(JSON.parse(graph.body)).toMatchObject({ totalItemCount: 4817, unreadItemCount: 23 });
  });

  it('surfaces a refresh token gone stale by inactivity as ServerError invalid_grant 700082', async () => {
    emulator.admin.advanceTime(91 * DAY_MS);
    try {
      const e = await serverError(app.acquireTokenSilent({ account, scopes: [EWS_SCOPE], forceRefresh: true }));
      expect(e.errorCode).toBe('invalid_grant');
      expect(String(e.errorNo)).toBe('700082');
      expect(e.errorMessage).toContain('Description: AADSTS700082: The refresh token has expired due to inactivity.');
    } finally {
      emulator.admin.advanceTime(-91 * DAY_MS);
    }
  });

  it('surfaces revoked refresh tokens as invalid_grant 50173, and a new sign-in recovers', async () => {
    emulator.admin.revokeRefreshTokens(ALICE);
    const e = await serverError(app.acquireTokenSilent({ account, scopes: [GRAPH_SCOPE], forceRefresh: true }));
    expect([e.errorCode, String(e.errorNo)]).toEqual(['invalid_grant', '50173']);
    account = await signIn(app, emulator, http);
    await expect(app.acquireTokenSilent({ account, scopes: [GRAPH_SCOPE], forceRefresh: true })).resolves.toMatchObject({ fromCache: false });
  });

  it('refuses a wrong client secret with invalid_client 7000215', async () => {
    const wrong = msalApp(emulator, { clientSecret: 'not-the-secret' }, http);
    const { challenge } = await new CryptoProvider().generatePkceCodes();
    const reply = await follow(http, await wrong.getAuthCodeUrl({ scopes: [EWS_SCOPE], redirectUri: emulator.redirectUris[0] as string, codeChallenge: challenge, codeChallengeMethod: 'S256' }));
    const code = reply.searchParams.get('code') as string;
    const e = await serverError(wrong.acquireTokenByCode({ code, codeVerifier: 'x'.repeat(43), redirectUri: emulator.redirectUris[0] as string, scopes: [EWS_SCOPE] }));
    expect([e.errorCode, String(e.errorNo)]).toEqual(['invalid_client', '7000215']);
  });
});

describe('the emulator with the real MSAL (certificate credential)', () => {
  let emulator: Emulator;
  let http: TestHttp;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'emu-cert-'));
  });
  afterAll(async () => {
    await http?.close();
    await emulator?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes a private client certificate and accepts assertions signed with it', async () => {
    const files = await emulator.admin.addClientCertificate(dir);
    expect((await fs.stat(files.privateKeyPath)).mode & 0o777).toBe(0o600);
    const privateKey = await fs.readFile(files.privateKeyPath, 'utf8');
    const app = msalApp(emulator, { clientCertificate: { thumbprintSha256: files.thumbprintSha256, privateKey } }, http);
    const account = await signIn(app, emulator, http);
    const token = await app.acquireTokenSilent({ account, scopes: [GRAPH_SCOPE], forceRefresh: true });
    expect(claimsOf(token.accessToken)).toMatchObject({ aud: 'https://graph.microsoft.com', appidacr: '2' });
  });

  it('refuses an assertion signed by a certificate the app does not know (700027)', async () => {
    const stranger = createClientCertificate(Date.now());
    const app = msalApp(emulator, { clientCertificate: { thumbprintSha256: stranger.thumbprintSha256, privateKey: stranger.keyPem } }, http);
    const e = await serverError(signIn(app, emulator, http));
    expect([e.errorCode, String(e.errorNo)]).toEqual(['invalid_client', '700027']);
    expect(e.errorMessage).toContain(stranger.thumbprintSha256);
  });

  it('refuses a registered thumbprint with another key (signature check, 700027)', async () => {
    const files = await emulator.admin.addClientCertificate(dir);
    const other = createClientCertificate(Date.now());
    const app = msalApp(emulator, { clientCertificate: { thumbprintSha256: files.thumbprintSha256, privateKey: other.keyPem } }, http);
    const e = await serverError(signIn(app, emulator, http));
    expect(e.errorMessage).toMatch(/AADSTS700027: .*signature/);
  });
});

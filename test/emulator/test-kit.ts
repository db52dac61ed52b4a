// Helpers for the emulator's own tests: an HTTPS client trusting its CA, PKCE pairs, raw
// authorize / token requests, and a real MSAL ConfidentialClientApplication wired to it.
import crypto from 'node:crypto';
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { MsalNetwork } from '../../host/src/auth/msal-network';
import { createHttp } from '../../host/src/io/http';
import type { HttpResponse } from '../../host/src/deps';
import type { Emulator } from './index';

export const EWS_SCOPE = 'https://outlook.office365.com/EWS.AccessAsUser.All';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/Mail.ReadBasic';
export const ALICE = 'alice@contoso.example';

export type TestHttp = ReturnType<typeof createHttp>;

export function httpFor(emulator: Emulator): TestHttp {
  return createHttp({ userAgent: 'emulator-tests', extraCaPem: emulator.caPem });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

export function msalApp(emulator: Emulator, credential: Pick<Configuration['auth'], 'clientSecret' | 'clientCertificate'>, http: TestHttp): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { clientId: emulator.clientId, authority: emulator.authority, knownAuthorities: [new URL(emulator.url).host], ...credential },
    system: { networkClient: new MsalNetwork(http) },
  });
}

export interface AuthorizeParams {
  scope?: string;
  state?: string;
  challenge?: string;
  loginHint?: string;
  redirectUri?: string;
  clientId?: string;
  nonce?: string;
  extra?: Record<string, string>;
}

export function authorizeUrl(emulator: Emulator, p: AuthorizeParams = {}): string {
  const url = new URL(`${emulator.authority}/oauth2/v2.0/authorize`);
  const params: Record<string, string | undefined> = {
    client_id: p.clientId ?? emulator.clientId,
    response_type: 'code',
    redirect_uri: p.redirectUri ?? emulator.redirectUris[0],
    scope: p.scope ?? `${EWS_SCOPE} ${GRAPH_SCOPE} openid profile offline_access`,
    state: p.state ?? 'st-1',
    code_challenge: p.challenge,
    code_challenge_method: p.challenge ? 'S256' : undefined,
    login_hint: p.loginHint,
    nonce: p.nonce,
    ...p.extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** GETs an authorize URL and returns the Reply URL it redirects to (auto consent mode). */
export async function follow(http: TestHttp, url: string): Promise<URL> {
  const res = await http.request({ method: 'GET', url });
  if (res.status !== 302 || !res.headers.location) throw new Error(`expected a redirect, got ${res.status}: ${res.body.slice(0, 300)}`);
  return new URL(res.headers.location);
}

export interface TokenAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export async function tokenRequest(http: TestHttp, emulator: Emulator, form: Record<string, string>): Promise<TokenAnswer> {
  const body = new URLSearchParams({ client_id: emulator.clientId, client_secret: emulator.clientSecret, ...form }).toString();
  const res = await http.request({ method: 'POST', url: `${emulator.authority}/oauth2/v2.0/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: res.status, headers: res.headers, body: JSON.parse(res.body) as Record<string, unknown> };
}

/** A whole sign-in without MSAL: authorize (auto mode), then redeem the code. */
export async function signInRaw(http: TestHttp, emulator: Emulator, opts: { loginHint?: string; scope?: string; authorizeScope?: string } = {}): Promise<TokenAnswer> {
  const { verifier, challenge } = pkce();
  const reply = await follow(http, authorizeUrl(emulator, { challenge, loginHint: opts.loginHint, scope: opts.authorizeScope }));
  const code = reply.searchParams.get('code');
  if (!code) throw new Error(`no code in ${reply.toString()}`);
  return tokenRequest(http, emulator, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: emulator.redirectUris[0] as string,
    scope: opts.scope ?? `${EWS_SCOPE} openid profile offline_access`,
  });
}

export function claimsOf(jwt: unknown): Record<string, unknown> {
  const part = String(jwt).split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export const GET_INBOX = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></soap:Header>
  <soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body>
</soap:Envelope>`;

export function ews(http: TestHttp, emulator: Emulator, token: string | undefined, body = GET_INBOX, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return http.request({ method: 'POST', url: emulator.ewsUrl, headers: { 'content-type': 'text/xml; charset=utf-8', ...auth, ...headers }, body });
}

export function graphInbox(http: TestHttp, emulator: Emulator, token: string | undefined, query = '?$select=totalItemCount,unreadItemCount'): Promise<HttpResponse> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return http.request({ method: 'GET', url: `${emulator.graphUrl}/me/mailFolders/inbox${query}`, headers });
}

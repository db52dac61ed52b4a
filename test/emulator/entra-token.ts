// POST /{tenant}/oauth2/v2.0/token: injected faults first, then client authentication, then the
// grant; success answers {token_type, scope, expires_in, ext_expires_in, access_token,
// refresh_token, id_token, client_info}, every failure Entra's error body (400; 401 for
// invalid_client) with the headers Entra sends.
import type { Ctx } from './context';
import { clientRequestId, isKnownTenant } from './context';
import { authenticateClient } from './client-auth';
import { errorBody, newErrorIds, type EntraError } from './entra-errors';
import { tokenEndpoint } from './entra-metadata';
import type { TokenFault } from './faults';
import { parseForm, readBody, sendJson, sleep, type Headers } from './http-util';
import { fullScopes } from './scopes';
import { TENANT_DOMAIN, TENANT_ID, type ClientAuthRule, type EmulatorState } from './state';
import { isPublicClientRedirect } from './authorize-response';
import { mintTokens, type ClientAuthMethod } from './token-mint';
import { redeemDeviceCode } from './device-code';
import { DEVICE_CODE_GRANT, DEVICE_CODE_GRANT_SHORT, isDeviceCodeGrant, isGrantError, redeemCode, redeemRefreshToken, type GrantResult } from './token-grants';

const GRANTS: Record<string, typeof redeemCode> = {
  authorization_code: redeemCode,
  refresh_token: redeemRefreshToken,
  [DEVICE_CODE_GRANT]: redeemDeviceCode,
  [DEVICE_CODE_GRANT_SHORT]: redeemDeviceCode,
};

function entraHeaders(ctx: Ctx, traceId: string): Headers {
  const headers: Headers = {
    'cache-control': 'no-store, no-cache',
    pragma: 'no-cache',
    'x-ms-request-id': traceId,
    'x-ms-ests-server': '2.1.emulator',
  };
  const cid = clientRequestId(ctx);
  if (cid) headers['client-request-id'] = cid;
  return headers;
}

export function sendEntraError(ctx: Ctx, e: EntraError, extraHeaders: Headers = {}): void {
  const ids = newErrorIds(ctx.state.clock.now(), clientRequestId(ctx));
  sendJson(ctx.res, e.status, errorBody(e, ids, ctx.baseUrl), { ...entraHeaders(ctx, ids.traceId), ...extraHeaders });
}

/** Plausible values for the placeholders of an injected AADSTS text. */
function faultVars(ctx: Ctx): Record<string, string> {
  const { app } = ctx.state;
  const when = new Date(ctx.state.clock.now()).toISOString();
  return { clientId: app.clientId, appName: app.displayName, tenant: TENANT_DOMAIN, user: 'alice@contoso.example', issued: when, validFrom: when, inactive: '90.00:00:00', redirectUri: app.redirectUris[0] ?? '', scope: '', param: 'scope', reason: '' };
}

/** Answers the request with an injected fault; false when the request should go on (slow). */
async function applyFault(ctx: Ctx, fault: TokenFault): Promise<boolean> {
  switch (fault.kind) {
    case 'slow':
      await sleep(fault.ms);
      return false;
    case 'drop':
      ctx.req.socket.destroy();
      return true;
    case 'aadsts':
      sendEntraError(ctx, { status: fault.status, error: fault.error, aadsts: fault.aadsts, text: fault.description, vars: faultVars(ctx) });
      return true;
    case 'http': {
      const retry: Headers = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      const throttled = fault.status === 429;
      sendEntraError(ctx, { status: fault.status, error: 'temporarily_unavailable', aadsts: throttled ? 90055 : 90033 }, retry);
      return true;
    }
  }
}

export async function handleToken(ctx: Ctx, tenantSegment: string): Promise<void> {
  const { state } = ctx;
  const form = parseForm(await readBody(ctx.req));
  const grantType = form.grant_type;
  if (grantType === 'authorization_code' || grantType === 'refresh_token') state.stats.tokenRequests[grantType] += 1;
  if (isDeviceCodeGrant(grantType)) state.stats.tokenRequests.device_code += 1;
  await state.holds.pass('token', ctx.res);
  const fault = state.faults.token.take();
  if (fault && (await applyFault(ctx, fault))) return;
  if (!isKnownTenant(tenantSegment)) return sendEntraError(ctx, { status: 400, error: 'invalid_request', aadsts: 90002, vars: { tenant: tenantSegment } });
  const audiences = ['common', 'organizations', TENANT_ID, TENANT_DOMAIN].map((t) => `${ctx.baseUrl}/${t}/oauth2/v2.0/token`);
  audiences.push(tokenEndpoint(ctx.baseUrl, tenantSegment), `${ctx.baseUrl}${ctx.url.pathname}`);
  const rule = clientAuthRule(state, form);
  const auth = authenticateClient(state.app, { form, authorization: ctx.req.headers.authorization, audiences, now: state.clock.wallNow(), rule });
  if (!auth.ok) return sendEntraError(ctx, auth.error);
  if (!grantType) return sendEntraError(ctx, { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'grant_type' } });
  const grant = GRANTS[grantType];
  if (!grant) return sendEntraError(ctx, { status: 400, error: 'unsupported_grant_type', aadsts: 70003, vars: { grantType } });
  const result = grant(state, form);
  if (isGrantError(result)) return sendEntraError(ctx, result);
  sendTokens(ctx, result, auth.method, rule);
}

/** Whether this grant's request must, may or must not authenticate the client (state.ts). */
function clientAuthRule(state: EmulatorState, form: Record<string, string>): ClientAuthRule {
  switch (form.grant_type) {
    case 'authorization_code': {
      const rec = form.code ? state.codes.get(form.code) : undefined;
      return rec && isPublicClientRedirect(state.app, rec.request.redirectUri) ? 'forbidden' : 'required';
    }
    case 'refresh_token':
      return (form.refresh_token ? state.refreshTokens.get(form.refresh_token)?.clientAuth : undefined) ?? 'required';
    default:
      return isDeviceCodeGrant(form.grant_type) ? 'optional' : 'required';
  }
}

function sendTokens(ctx: Ctx, g: GrantResult, clientAuth: ClientAuthMethod, rule: ClientAuthRule): void {
  const { state } = ctx;
  const minted = mintTokens(state, ctx.baseUrl, { user: g.user, resourceUri: g.resourceUri, permissions: g.permissions, nonce: g.nonce, clientAuth, authTime: g.grantIssuedAt });
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: fullScopes(g.resourceUri, g.permissions).join(' '),
    expires_in: minted.expiresIn,
    ext_expires_in: minted.expiresIn,
    access_token: minted.accessToken,
  };
  if (g.oidc.has('offline_access')) body.refresh_token = state.issueRefreshToken(g.user.username, g.grantIssuedAt, g.defaultScope, rule);
  if (g.oidc.has('openid')) body.id_token = minted.idToken;
  body.client_info = minted.clientInfo;
  sendJson(ctx.res, 200, body, entraHeaders(ctx, newErrorIds(state.clock.now()).traceId));
}

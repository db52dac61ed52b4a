// GET /{tenant}/v2.0/adminconsent: tenant-wide consent by an administrator. Answers the Reply
// URL with admin_consent=True&tenant=…&scope=…&state=… (no code), or error=access_denied when
// the administrator cancels or the account is not an administrator.
import type { Ctx } from './context';
import { clientProblem, redirectWithError, redirectWithParams, showConsentPage, showErrorPage, signIn, signInFailed } from './authorize-response';
import { queryRecord } from './http-util';
import { fullScopes, isScopeProblem, parseScopes } from './scopes';
import { TENANT_ID, type AuthorizeRequest } from './state';

/** The administrator an 'auto' admin consent signs in as. */
export const DEFAULT_ADMIN = 'admin@contoso.example';

export function handleAdminConsent(ctx: Ctx, tenantSegment: string): void {
  ctx.state.stats.authorizeRequests += 1;
  const q = queryRecord(ctx.url);
  const problem = clientProblem(ctx, tenantSegment, q);
  if (problem) return showErrorPage(ctx, problem);
  const target = { redirectUri: q.redirect_uri as string, responseMode: 'query' as const };
  if (!q.scope) return redirectWithError(ctx, target, { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'scope' } }, q.state);
  const scopes = parseScopes(q.scope);
  if (isScopeProblem(scopes) || scopes.byResource.size === 0) {
    return redirectWithError(ctx, target, { status: 400, error: 'invalid_scope', aadsts: 70011, vars: { scope: q.scope } }, q.state);
  }
  const request: AuthorizeRequest = { ...target, tenantSegment, state: q.state, scope: q.scope, scopes, loginHint: q.login_hint };
  const username = q.login_hint ?? DEFAULT_ADMIN;
  if (ctx.state.consentMode === 'auto') return handleAdminDecision(ctx, request, { username, action: 'accept' });
  showConsentPage(ctx, request, { admin: true, username });
}

export function handleAdminDecision(ctx: Ctx, request: AuthorizeRequest, d: { username: string; password?: string; action: 'accept' | 'cancel'; pendingId?: string }): void {
  const { state } = ctx;
  if (d.action === 'cancel') return redirectWithError(ctx, request, { status: 400, error: 'access_denied', aadsts: 65004 }, request.state);
  const user = signIn(state, d.username, d.password);
  if ('error' in user) return signInFailed(ctx, request, user, { admin: true, username: d.username, pendingId: d.pendingId });
  if (!user.admin) return redirectWithError(ctx, request, { status: 400, error: 'access_denied', aadsts: 90094 }, request.state);
  for (const [uri, names] of request.scopes.byResource) for (const s of fullScopes(uri, names)) state.adminGrants.add(s);
  const params: Record<string, string> = { admin_consent: 'True', tenant: TENANT_ID, scope: request.scope };
  if (request.state !== undefined) params.state = request.state;
  redirectWithParams(ctx, request, params);
}

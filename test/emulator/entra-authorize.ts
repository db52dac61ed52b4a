// GET /{tenant}/oauth2/v2.0/authorize and the sign-in form it leads to (POST /{tenant}/login).
// Checks the client and Reply URL first (errors there get a page, never a redirect), then the
// request (errors redirect back with `error`), then signs the user in: at once in consent mode
// 'auto', through the consent page in mode 'page'. Success redirects with `code` and `state`.
import crypto from 'node:crypto';
import type { Ctx } from './context';
import { handleAdminDecision } from './admin-consent';
import { clientProblem, redirectWithError, redirectWithParams, showConsentPage, showErrorPage, signIn, signInFailed } from './authorize-response';
import type { EntraError } from './entra-errors';
import { parseForm, queryRecord, readBody } from './http-util';
import { fullScopes, isScopeProblem, parseScopes } from './scopes';
import { TENANT_DOMAIN, type AuthorizeRequest } from './state';

/** Who an 'auto' sign-in picks when the request names nobody. */
export const DEFAULT_USER = 'alice@contoso.example';
/** RFC 7636: a code challenge is 43 to 128 characters of the unreserved set. */
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;

type Query = Record<string, string>;

function parseResponseMode(value: string | undefined): AuthorizeRequest['responseMode'] | null {
  const mode = value ?? 'query';
  return mode === 'query' || mode === 'fragment' || mode === 'form_post' ? mode : null;
}

function challengeProblem(q: Query): EntraError | null {
  if (q.code_challenge === undefined) {
    return q.code_challenge_method ? { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'code_challenge' } } : null;
  }
  const method = q.code_challenge_method ?? 'plain';
  if ((method !== 'S256' && method !== 'plain') || !CODE_CHALLENGE.test(q.code_challenge)) {
    return { status: 400, error: 'invalid_request', aadsts: 501491, vars: { method } };
  }
  return null;
}

/** Validates everything after the client; an error here goes back to the (registered) Reply URL. */
export function parseAuthorizeRequest(tenantSegment: string, q: Query): AuthorizeRequest | EntraError {
  if (!q.response_type) return { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'response_type' } };
  if (q.response_type !== 'code') return { status: 400, error: 'unsupported_response_type', aadsts: 700054, vars: { responseType: q.response_type } };
  if (!q.scope) return { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'scope' } };
  const scopes = parseScopes(q.scope);
  if (isScopeProblem(scopes)) {
    return scopes.kind === 'unknown-resource'
      ? { status: 400, error: 'invalid_resource', aadsts: 500011, vars: { resource: scopes.resource, tenant: TENANT_DOMAIN } }
      : { status: 400, error: 'invalid_scope', aadsts: 70011, vars: { scope: scopes.scope } };
  }
  // The emulator insists on a resource scope (Entra would default to Graph's User.Read).
  if (scopes.byResource.size === 0) return { status: 400, error: 'invalid_scope', aadsts: 70011, vars: { scope: q.scope } };
  const challenge = challengeProblem(q);
  if (challenge) return challenge;
  return {
    tenantSegment,
    redirectUri: q.redirect_uri as string,
    responseMode: parseResponseMode(q.response_mode) ?? 'query',
    state: q.state,
    nonce: q.nonce,
    scope: q.scope,
    scopes,
    codeChallenge: q.code_challenge,
    codeChallengeMethod: q.code_challenge ? ((q.code_challenge_method ?? 'plain') as 'S256' | 'plain') : undefined,
    loginHint: q.login_hint,
    prompt: q.prompt,
  };
}

export function handleAuthorize(ctx: Ctx, tenantSegment: string): void {
  ctx.state.stats.authorizeRequests += 1;
  const q = queryRecord(ctx.url);
  const problem = clientProblem(ctx, tenantSegment, q);
  if (problem) return showErrorPage(ctx, problem);
  const target = { redirectUri: q.redirect_uri as string, responseMode: parseResponseMode(q.response_mode) ?? 'query' };
  if (!parseResponseMode(q.response_mode)) {
    return redirectWithError(ctx, target, { status: 400, error: 'invalid_request', aadsts: 9002313 }, q.state);
  }
  const request = parseAuthorizeRequest(tenantSegment, q);
  if ('error' in request) return redirectWithError(ctx, target, request, q.state);
  const username = request.loginHint ?? DEFAULT_USER;
  if (ctx.state.consentMode === 'auto') return decide(ctx, request, { username, action: 'accept' });
  if (request.prompt === 'none') return redirectWithError(ctx, request, { status: 400, error: 'login_required', aadsts: 50058 }, request.state);
  showConsentPage(ctx, request, { admin: false, username });
}

interface Decision {
  username: string;
  password?: string;
  action: 'accept' | 'cancel';
  pendingId?: string;
}

/** The user's answer: sign in, check assignment and admin-consent policy, consent, redirect. */
function decide(ctx: Ctx, request: AuthorizeRequest, d: Decision): void {
  const { state } = ctx;
  if (d.action === 'cancel') return redirectWithError(ctx, request, { status: 400, error: 'access_denied', aadsts: 65004 }, request.state);
  const user = signIn(state, d.username, d.password);
  if ('error' in user) return signInFailed(ctx, request, user, { admin: false, username: d.username, pendingId: d.pendingId });
  const vars = { appName: state.app.displayName, clientId: state.app.clientId, user: user.username };
  if (!user.assigned) return redirectWithError(ctx, request, { status: 400, error: 'access_denied', aadsts: 50105, vars }, request.state);
  const wanted = [...request.scopes.byResource].flatMap(([uri, names]) => fullScopes(uri, names));
  // Policy choice (documented): with user consent turned off, Entra answers 90094.
  if (state.requireAdminConsent && !wanted.every((s) => state.adminGrants.has(s))) {
    return redirectWithError(ctx, request, { status: 400, error: 'consent_required', aadsts: 90094, vars }, request.state);
  }
  for (const s of wanted) user.grants.add(s);
  const code = state.issueCode(request, user.username);
  const params: Record<string, string> = { code };
  if (request.state !== undefined) params.state = request.state;
  params.session_state = crypto.randomUUID();
  redirectWithParams(ctx, request, params);
}

/** POST /{tenant}/login: the consent page's Accept or Cancel. */
export async function handleLogin(ctx: Ctx): Promise<void> {
  const form = parseForm(await readBody(ctx.req));
  const pendingId = form.ctx ?? '';
  const pending = ctx.state.pending.get(pendingId);
  if (!pending) {
    return showErrorPage(ctx, { status: 400, error: 'invalid_request', aadsts: 9002313, text: 'The sign-in page has expired or is unknown. Go back to the application and sign in again.' });
  }
  ctx.state.pending.delete(pendingId);
  const decision: Decision = { username: form.username ?? '', password: form.password || undefined, action: form.action === 'accept' ? 'accept' : 'cancel', pendingId };
  if (pending.admin) return handleAdminDecision(ctx, pending.request, decision);
  decide(ctx, pending.request, decision);
}

// How the authorize and admin-consent endpoints answer: a redirect to the Reply URL carrying
// the result in the requested response mode, an Entra error page when the Reply URL cannot be
// trusted, or the consent page for a pending sign-in.
import crypto from 'node:crypto';
import type { Ctx } from './context';
import { isKnownTenant } from './context';
import { consentPage } from './consent-page';
import { errorPage, errorText, newErrorIds, redirectErrorParams, type EntraError } from './entra-errors';
import { escapeHtml, redirect, sendHtml } from './http-util';
import { TENANT_DOMAIN, type AppRegistration, type AuthorizeRequest, type EmulatorState, type User } from './state';

type Query = Record<string, string>;

export type ReplyTarget = Pick<AuthorizeRequest, 'redirectUri' | 'responseMode'>;

/** Sends the browser back to the Reply URL with `params` (query, fragment or a self-posting form). */
export function redirectWithParams(ctx: Ctx, target: ReplyTarget, params: Record<string, string>): void {
  if (target.responseMode === 'form_post') {
    const fields = Object.entries(params)
      .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
      .join('');
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Working…</title></head><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(target.redirectUri)}">${fields}<noscript><button type="submit">Continue</button></noscript></form></body></html>`;
    sendHtml(ctx.res, 200, html);
    return;
  }
  const url = new URL(target.redirectUri);
  const encoded = new URLSearchParams(params);
  if (target.responseMode === 'fragment') url.hash = encoded.toString();
  else for (const [k, v] of encoded) url.searchParams.append(k, v);
  redirect(ctx.res, url.toString());
}

export function redirectWithError(ctx: Ctx, target: ReplyTarget, error: EntraError, state: string | undefined): void {
  const ids = newErrorIds(ctx.state.clock.now());
  redirectWithParams(ctx, target, redirectErrorParams(error, ids, state));
}

/** For errors that must not go back to the app (unknown client, unregistered Reply URL…). */
export function showErrorPage(ctx: Ctx, error: EntraError): void {
  sendHtml(ctx.res, error.status, errorPage(error, newErrorIds(ctx.state.clock.now())));
}

/** Remembers the request and shows the sign-in / consent page for it. */
export function showConsentPage(ctx: Ctx, request: AuthorizeRequest, opts: { admin: boolean; username: string; error?: string; pendingId?: string }): void {
  const id = opts.pendingId ?? crypto.randomBytes(24).toString('base64url');
  ctx.state.sweepPending();
  ctx.state.pending.set(id, { request, createdAt: ctx.state.clock.now(), admin: opts.admin });
  const scopes = [...request.scopes.byResource].flatMap(([uri, names]) => [...names].map((n) => `${uri}/${n}`));
  if (!opts.admin) scopes.push(...request.scopes.oidc);
  const html = consentPage({
    action: `/${request.tenantSegment}/login`,
    ctx: id,
    appName: ctx.state.app.displayName,
    tenantDomain: TENANT_DOMAIN,
    scopes,
    username: opts.username,
    admin: opts.admin,
    error: opts.error,
  });
  sendHtml(ctx.res, 200, html);
}

/**
 * Entra matches Reply URLs exactly, except that the port of an http://localhost or
 * http://127.0.0.1 URI is ignored (RFC 8252 §7.3; Entra's "localhost exceptions").
 */
export function isRegisteredRedirect(registered: readonly string[], candidate: string): boolean {
  return registered.some((r) => r === candidate || sameIgnoringLoopbackPort(r, candidate));
}

function sameIgnoringLoopbackPort(a: string, b: string): boolean {
  let ua: URL;
  let ub: URL;
  try {
    ua = new URL(a);
    ub = new URL(b);
  } catch {
    return false;
  }
  const loopback = (u: URL) => u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1');
  if (!loopback(ua) || !loopback(ub)) return false;
  return ua.hostname === ub.hostname && ua.pathname === ub.pathname && ua.search === ub.search;
}

/** Reply URLs of every platform of the app. */
export function allRedirectUris(app: AppRegistration): string[] {
  return [...app.redirectUris, ...app.publicClientRedirectUris];
}

/** A code for this Reply URL belongs to a public client: it is on the Mobile-and-desktop platform and not on Web. */
export function isPublicClientRedirect(app: AppRegistration, uri: string): boolean {
  return isRegisteredRedirect(app.publicClientRedirectUris, uri) && !isRegisteredRedirect(app.redirectUris, uri);
}

/** Errors about who is asking; shown as a page because the Reply URL cannot be trusted yet. */
export function clientProblem(ctx: Ctx, tenantSegment: string, q: Query): EntraError | null {
  const vars = { tenant: tenantSegment, clientId: q.client_id ?? '', redirectUri: q.redirect_uri ?? '' };
  if (!isKnownTenant(tenantSegment)) return { status: 400, error: 'invalid_tenant', aadsts: 90002, vars };
  if (!q.client_id) return { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'client_id' } };
  if (q.client_id !== ctx.state.app.clientId) return { status: 400, error: 'unauthorized_client', aadsts: 700016, vars: { ...vars, tenant: TENANT_DOMAIN } };
  if (!q.redirect_uri) return { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'redirect_uri' } };
  if (!isRegisteredRedirect(allRedirectUris(ctx.state.app), q.redirect_uri)) return { status: 400, error: 'invalid_request', aadsts: 50011, vars };
  return null;
}

/** The account named on the sign-in form (or by login_hint), if it exists and the password fits. */
export function signIn(state: EmulatorState, username: string, password: string | undefined): User | EntraError {
  const user = state.findUser(username);
  if (!user) return { status: 400, error: 'invalid_request', aadsts: 50034, vars: { user: username, tenant: TENANT_DOMAIN } };
  if (user.password !== undefined && user.password !== password) return { status: 400, error: 'invalid_grant', aadsts: 50126 };
  return user;
}

/** A failed sign-in: the page again with the error, or (no page: auto consent) Entra's error page. */
export function signInFailed(ctx: Ctx, request: AuthorizeRequest, e: EntraError, opts: { admin: boolean; username: string; pendingId?: string }): void {
  if (opts.pendingId === undefined) return showErrorPage(ctx, e);
  showConsentPage(ctx, request, { ...opts, error: `AADSTS${e.aadsts}: ${errorText(e)}` });
}

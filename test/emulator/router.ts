// The route table: which handler answers which method and path. Tenant-scoped Entra paths take
// the tenant segment (id, domain, common, organizations); EWS paths are case-insensitive like
// IIS; anything else is a 404 in JSON. A handler that throws answers 500 instead of hanging.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorAdmin } from './admin';
import { handleAdmin } from './admin-http';
import { handleAdminConsent } from './admin-consent';
import { isKnownTenant, type Ctx } from './context';
import { handleAuthorize, handleLogin } from './entra-authorize';
import { errorLookupPage } from './entra-errors';
import { serveInstanceDiscovery, serveKeys, serveOpenIdConfiguration } from './entra-metadata';
import { sendEntraError } from './entra-token';
import { handleToken } from './entra-token';
import { handleDeviceCode } from './device-code';
import { handleDevicePage, showDevicePage } from './device-page';
import { handleEws } from './ews';
import { handleGraph } from './graph';
import { sendHtml, sendJson } from './http-util';
import type { EmulatorState } from './state';

type Handler = (ctx: Ctx, groups: string[]) => void | Promise<void>;

interface Route {
  method: 'GET' | 'POST' | '*';
  path: RegExp;
  handle: Handler;
}

/** Entra answers discovery for an unknown tenant with AADSTS90002. */
const tenantScoped =
  (fn: (ctx: Ctx, tenant: string) => void | Promise<void>): Handler =>
  (ctx, [tenant = '']) =>
    isKnownTenant(tenant) ? fn(ctx, tenant) : sendEntraError(ctx, { status: 400, error: 'invalid_tenant', aadsts: 90002, vars: { tenant } });

function routes(admin: EmulatorAdmin): Route[] {
  return [
    { method: 'GET', path: /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/, handle: tenantScoped(serveOpenIdConfiguration) },
    { method: 'GET', path: /^\/([^/]+)\/discovery\/v2\.0\/keys$/, handle: tenantScoped(serveKeys) },
    { method: 'GET', path: /^\/common\/discovery\/instance$/, handle: serveInstanceDiscovery },
    { method: 'GET', path: /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/, handle: (ctx, [t = '']) => handleAuthorize(ctx, t) },
    { method: 'POST', path: /^\/([^/]+)\/login$/, handle: (ctx) => handleLogin(ctx) },
    { method: 'POST', path: /^\/([^/]+)\/oauth2\/v2\.0\/token$/, handle: (ctx, [t = '']) => handleToken(ctx, t) },
    { method: 'POST', path: /^\/([^/]+)\/oauth2\/v2\.0\/devicecode$/, handle: tenantScoped((ctx) => handleDeviceCode(ctx)) },
    { method: 'GET', path: /^\/common\/oauth2\/deviceauth$/, handle: (ctx) => showDevicePage(ctx) },
    { method: 'POST', path: /^\/common\/oauth2\/deviceauth$/, handle: (ctx) => handleDevicePage(ctx) },
    { method: 'GET', path: /^\/([^/]+)\/v2\.0\/adminconsent$/, handle: (ctx, [t = '']) => handleAdminConsent(ctx, t) },
    { method: 'GET', path: /^\/([^/]+)\/oauth2\/v2\.0\/logout$/, handle: (ctx) => sendHtml(ctx.res, 200, '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><main><h1>You signed out of your account</h1></main></body></html>') },
    { method: 'GET', path: /^\/error$/, handle: (ctx) => sendHtml(ctx.res, 200, errorLookupPage(ctx.url.searchParams.get('code') ?? '')) },
    { method: 'POST', path: /^\/ews\/exchange\.asmx$/i, handle: (ctx) => handleEws(ctx) },
    { method: '*', path: /^\/v1\.0\//, handle: (ctx) => handleGraph(ctx) },
    { method: '*', path: /^\/_admin\/?([^/]*)$/, handle: (ctx, [op = '']) => handleAdmin(ctx, admin, op) },
  ];
}

export function createListener(state: EmulatorState, admin: EmulatorAdmin, baseUrl: () => string) {
  const table = routes(admin);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', baseUrl());
    const ctx: Ctx = { state, baseUrl: baseUrl(), req, res, url };
    const route = table.find((r) => (r.method === '*' || r.method === req.method) && r.path.test(url.pathname));
    if (!route) {
      sendJson(res, 404, { error: 'not_found', error_description: `The emulator has nothing at ${req.method} ${url.pathname}.` });
      return;
    }
    const groups = (route.path.exec(url.pathname) ?? []).slice(1);
    Promise.resolve()
      .then(() => route.handle(ctx, groups))
      .catch((e: unknown) => sendJson(res, 500, { error: 'emulator_error', error_description: e instanceof Error ? e.message : String(e) }));
  };
}

// Microsoft Graph's GET /v1.0/me/mailFolders/inbox as Graph answers it: Bearer checks
// (401 InvalidAuthenticationToken, 403 ErrorAccessDenied without a Mail permission), at most
// four concurrent requests per mailbox (the fifth: 429 MailboxConcurrency), $select, injected
// faults, and Graph's error JSON {error: {code, message, innerError}}.
import crypto from 'node:crypto';
import type { Ctx } from './context';
import { validateBearer, permissionsOf, type BearerFailure } from './bearer';
import type { GraphFault } from './faults';
import { headerRecord, sendJson, sleep, type Headers } from './http-util';
import { GRAPH } from './scopes';
import type { User } from './state';

/** Outlook's limit on concurrent Graph requests per app to one mailbox (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits). */
export const MAILBOX_CONCURRENCY = 4;
/** Retry-After Graph gives with a MailboxConcurrency 429, in seconds. */
const CONCURRENCY_RETRY_AFTER_S = 1;
const MAIL_PERMISSIONS = ['Mail.ReadBasic', 'Mail.Read', 'Mail.ReadWrite'];
const FOLDER_PROPERTIES = ['id', 'displayName', 'parentFolderId', 'childFolderCount', 'unreadItemCount', 'totalItemCount', 'sizeInBytes', 'isHidden'];
/** A plausible average message size, for sizeInBytes. */
const AVERAGE_MESSAGE_BYTES = 48_213;

interface GraphError {
  status: number;
  code: string;
  message: string;
  headers?: Headers;
}

function graphHeaders(ctx: Ctx, requestId: string): Headers {
  const cid = ctx.req.headers['client-request-id'];
  return {
    'request-id': requestId,
    'client-request-id': typeof cid === 'string' ? cid : requestId,
    'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'West Europe', Slice: 'E', Ring: '5', ScaleUnit: '000', RoleInstance: 'AM2PEPF0001EMU' } }),
    'strict-transport-security': 'max-age=31536000',
    'cache-control': 'private',
  };
}

function sendGraph(ctx: Ctx, status: number, body: unknown, extra: Headers = {}): void {
  const requestId = crypto.randomUUID();
  const type = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
  sendJson(ctx.res, status, body, { ...graphHeaders(ctx, requestId), 'content-type': type, ...extra });
}

function sendGraphError(ctx: Ctx, e: GraphError): void {
  const cid = ctx.req.headers['client-request-id'];
  const requestId = crypto.randomUUID();
  const innerError = { date: new Date(ctx.state.clock.now()).toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': typeof cid === 'string' ? cid : requestId };
  sendGraph(ctx, e.status, { error: { code: e.code, message: e.message, innerError } }, e.headers);
}

const AUTH_MESSAGES: Record<BearerFailure['kind'], string> = {
  missing: 'Access token is empty.',
  malformed: 'IDX14100: JWT is not well formed, there are no dots (.).',
  signature: 'Access token validation failure. Invalid signature.',
  audience: 'Access token validation failure. Invalid audience.',
  expired: 'Lifetime validation failed, the token is expired.',
  'unknown-user': 'Access token validation failure. The user does not exist in the tenant.',
};

function unauthorized(ctx: Ctx, message: string): GraphError {
  const challenge = `Bearer realm="", authorization_uri="${ctx.baseUrl}/common/oauth2/authorize", client_id="${GRAPH.appId}"`;
  return { status: 401, code: 'InvalidAuthenticationToken', message, headers: { 'www-authenticate': challenge } };
}

function faultError(ctx: Ctx, f: Extract<GraphFault, { kind: 'http' }>): GraphError {
  const retry: Headers = f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {};
  if (f.status === 401) return unauthorized(ctx, 'Access token has expired or is not yet valid.');
  if (f.status === 429) return { status: 429, code: 'TooManyRequests', message: 'Too many requests. Retry after the time the Retry-After header gives.', headers: retry };
  if (f.status === 503) return { status: 503, code: 'serviceNotAvailable', message: 'Service Unavailable, try again later.', headers: retry };
  return { status: f.status, code: 'UnknownError', message: '', headers: retry };
}

export async function handleGraph(ctx: Ctx): Promise<void> {
  const { state } = ctx;
  state.stats.graphRequests += 1;
  state.stats.lastGraphHeaders = headerRecord(ctx.req);
  const auth = validateBearer(state, ctx.req.headers.authorization, GRAPH.uri);
  if (!auth.ok) return sendGraphError(ctx, unauthorized(ctx, AUTH_MESSAGES[auth.failure.kind]));
  if (!permissionsOf(auth.claims).some((p) => MAIL_PERMISSIONS.includes(p))) {
    return sendGraphError(ctx, { status: 403, code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' });
  }
  const route = routeProblem(ctx);
  if (route) return sendGraphError(ctx, route);
  const inFlight = state.graphInFlight.get(auth.user.oid) ?? 0;
  if (inFlight >= MAILBOX_CONCURRENCY) {
    return sendGraphError(ctx, { status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', headers: { 'retry-after': String(CONCURRENCY_RETRY_AFTER_S) } });
  }
  state.graphInFlight.set(auth.user.oid, inFlight + 1);
  try {
    await state.holds.pass('graph', ctx.res);
    const fault = state.faults.graph.take();
    if (fault?.kind === 'slow') await sleep(fault.ms);
    else if (fault) return sendGraphError(ctx, faultError(ctx, fault));
    answerInbox(ctx, auth.user);
  } finally {
    state.graphInFlight.set(auth.user.oid, (state.graphInFlight.get(auth.user.oid) ?? 1) - 1);
  }
}

function routeProblem(ctx: Ctx): GraphError | null {
  if (ctx.req.method !== 'GET') return { status: 405, code: 'BadRequest', message: `The HTTP method '${ctx.req.method}' is not allowed on this resource.` };
  const segments = ctx.url.pathname.split('/').filter(Boolean).slice(1);
  const expected = ['me', 'mailfolders', 'inbox'];
  for (let i = 0; i < Math.max(segments.length, expected.length); i++) {
    if (segments[i]?.toLowerCase() !== expected[i]) {
      return { status: 400, code: 'BadRequest', message: `Resource not found for the segment '${segments[i] ?? segments.at(-1) ?? 'v1.0'}'.` };
    }
  }
  return null;
}

function answerInbox(ctx: Ctx, user: User): void {
  const select = ctx.url.searchParams.get('$select');
  const wanted = select ? select.split(',').map((s) => s.trim()).filter(Boolean) : FOLDER_PROPERTIES;
  const unknown = wanted.find((p) => !FOLDER_PROPERTIES.includes(p));
  if (unknown) return sendGraphError(ctx, { status: 400, code: 'RequestBroker--ParseUri', message: `Could not find a property named '${unknown}' on type 'microsoft.graph.mailFolder'.` });
  const id = Buffer.from(`AAMkAD/${user.oid}/inbox`).toString('base64url');
  const folder: Record<string, unknown> = {
    id,
    displayName: 'Inbox',
    parentFolderId: Buffer.from(`AAMkAD/${user.oid}/msgfolderroot`).toString('base64url'),
    childFolderCount: 0,
    unreadItemCount: user.mailbox.unread,
    totalItemCount: user.mailbox.total,
    sizeInBytes: user.mailbox.total * AVERAGE_MESSAGE_BYTES,
    isHidden: false,
  };
  const context = `${ctx.baseUrl}/v1.0/$metadata#users('${user.oid}')/mailFolders${select ? `(${wanted.join(',')})` : ''}/$entity`;
  const body: Record<string, unknown> = { '@odata.context': context };
  for (const p of ['id', ...wanted]) body[p] = folder[p];
  sendGraph(ctx, 200, body);
}

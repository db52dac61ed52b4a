// POST /EWS/Exchange.asmx as Exchange Online answers it: Bearer checks with x-ms-diagnostics on
// 401, the tenant's EWS block (HTTP 403), injected faults, then GetFolder on the Inbox from the
// token's user's mailbox; Subscribe / GetStreamingEvents / Unsubscribe go to the streaming hub
// (ews-streaming.ts). Other operations get a SOAP fault ErrorInvalidRequest.
//
// The 403 for a tenant where EWS is turned off: Exchange Online has been seen to answer a bare
// "403 Forbidden" with an empty body (clients report "(403) Forbidden" and nothing more), so the
// emulator sends 403 with the usual front-end headers and a short text/plain body naming the
// settings; a client must decide on the status alone.
import crypto from 'node:crypto';
import type { Ctx } from './context';
import { validateBearer, permissionsOf, type BearerFailure } from './bearer';
import { xmlSender } from './ews-streaming';
import { parseStreamingRequest } from './ews-streaming-soap';
import { EWS_TEXT, getFolderResponse, type EwsRequest, inboxView, malformedResponse, parseEwsRequest, soapFault, type FolderMessage, type FolderRef } from './ews-soap';
import type { EwsFaultSpec } from './faults';
import { headerRecord, readBody, send, sleep, type Headers } from './http-util';
import { EXCHANGE } from './scopes';
import type { User } from './state';

/** What Exchange Online advises before retrying ErrorServerBusy (the fixture's value, ~5 min). */
export const DEFAULT_BACKOFF_MS = 297749;
/** Delegated permissions that let a token use EWS. */
const EWS_PERMISSIONS = ['EWS.AccessAsUser.All', 'full_access_as_user'];

function ewsHeaders(ctx: Ctx, status: number): Headers {
  const h: Headers = {
    'request-id': crypto.randomUUID(),
    'x-feserver': 'AM0PR01CA0001',
    'x-backendhttpstatus': String(status),
    'x-powered-by': 'ASP.NET',
    'cache-control': 'private',
  };
  const cid = ctx.req.headers['client-request-id'];
  if (typeof cid === 'string' && String(ctx.req.headers['return-client-request-id']).toLowerCase() === 'true') h['client-request-id'] = cid;
  return h;
}

function sendXml(ctx: Ctx, status: number, xml: string): void {
  send(ctx.res, status, xml, { ...ewsHeaders(ctx, status), 'content-type': 'text/xml; charset=utf-8' });
}

const DIAGNOSTICS: Record<BearerFailure['kind'] | 'permission', (f: BearerFailure | null) => string> = {
  missing: () => '2000001;reason="The Authorization header is missing or is not a Bearer token.";error_category="invalid_token"',
  malformed: () => '2000001;reason="OAuth token submitted with the request cannot be parsed.";error_category="invalid_token"',
  signature: () => '2000001;reason="The token has an invalid signature.";error_category="invalid_signature"',
  'unknown-user': () => '2000001;reason="The user specified by the user-context in the token does not exist.";error_category="invalid_user"',
  expired: (f) => `2000002;reason="The access token has expired. ValidTo '${f?.kind === 'expired' ? new Date(f.exp * 1000).toISOString() : ''}'.";error_category="invalid_token"`,
  audience: (f) => `2000003;reason="The audience claim value is invalid '${f?.kind === 'audience' ? f.aud : ''}'.";error_category="invalid_resource"`,
  permission: () => '2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"',
};

function unauthorized(ctx: Ctx, diagnostics: string): void {
  const challenge = `Bearer client_id="${EXCHANGE.appId}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="${ctx.baseUrl}/common/oauth2/authorize", error="invalid_token"`;
  send(ctx.res, 401, '', { ...ewsHeaders(ctx, 401), 'www-authenticate': challenge, 'x-ms-diagnostics': diagnostics });
}

export function sendEwsBlocked(ctx: Ctx): void {
  const text = 'EWS access is blocked for this organization or application (EWSEnabled / EWSAllowedAppIDs). Ask your Exchange administrator, or use Microsoft Graph.';
  send(ctx.res, 403, text, { ...ewsHeaders(ctx, 403), 'content-type': 'text/plain; charset=utf-8' });
}

/** Faults a Subscribe may meet (admin.failSubscribe). */
export const SUBSCRIBE_FAULT_KINDS = ['busy-fault', 'http-503', 'connection-count'];

const FAULTS: Record<Exclude<EwsFaultSpec['kind'], 'slow'>, (ctx: Ctx, f: EwsFaultSpec) => void> = {
  'busy-fault': (ctx, f) => sendXml(ctx, 500, soapFault('ErrorServerBusy', EWS_TEXT.busy, backOff(f))),
  'busy-message': (ctx, f) => sendXml(ctx, 200, getFolderResponse([{ kind: 'error', code: 'ErrorServerBusy', text: EWS_TEXT.busy, backOffMs: backOff(f) }])),
  'error-message': (ctx, f) => {
    const code = f.kind === 'error-message' ? f.responseCode : undefined;
    const text = f.kind === 'error-message' ? f.messageText : undefined;
    sendXml(ctx, 200, getFolderResponse([{ kind: 'error', code: code ?? 'ErrorItemNotFound', text: text ?? EWS_TEXT.notFound }]));
  },
  'connection-count': (ctx) => sendXml(ctx, 500, soapFault('ErrorExceededConnectionCount', EWS_TEXT.connections)),
  'http-503': (ctx) => send(ctx.res, 503, '<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD><BODY><h2>Service Unavailable</h2><hr><p>HTTP Error 503. The service is unavailable.</p></BODY></HTML>', { ...ewsHeaders(ctx, 503), 'content-type': 'text/html; charset=us-ascii' }),
  'http-403': (ctx) => sendEwsBlocked(ctx),
  malformed: (ctx) => sendXml(ctx, 200, malformedResponse()),
};

function backOff(f: EwsFaultSpec): number {
  return (f.kind === 'busy-fault' || f.kind === 'busy-message') && f.backOffMs !== undefined ? f.backOffMs : DEFAULT_BACKOFF_MS;
}

export async function handleEws(ctx: Ctx): Promise<void> {
  const { state } = ctx;
  const body = await readBody(ctx.req);
  state.stats.ewsRequests += 1;
  const request = parseEwsRequest(body);
  const op = request.kind === 'ok' ? request.operation : 'malformed';
  state.stats.ewsOperations[op] = (state.stats.ewsOperations[op] ?? 0) + 1;
  state.stats.lastEwsHeaders = headerRecord(ctx.req);
  const auth = validateBearer(state, ctx.req.headers.authorization, EXCHANGE.uri);
  if (!auth.ok) return unauthorized(ctx, DIAGNOSTICS[auth.failure.kind](auth.failure));
  if (!permissionsOf(auth.claims).some((p) => EWS_PERMISSIONS.includes(p))) return unauthorized(ctx, DIAGNOSTICS.permission(null));
  if (state.ewsDisabled) return sendEwsBlocked(ctx);
  await state.holds.pass('ews', ctx.res);
  if (request.kind === 'malformed') return sendXml(ctx, 500, soapFault('ErrorSchemaValidation', `${EWS_TEXT.schema} ${request.reason}`));
  // Streaming requests have their own faults (failSubscribe, dropStreams): the EWS faults a test
  // injects are for the next count, never taken by a Subscribe or GetStreamingEvents in between.
  const streaming = parseStreamingRequest(request.body, request.operation);
  if (streaming) {
    if (streaming.operation === 'Subscribe') state.streaming.counters.subscribes += 1; // faults included
    const fault = streaming.operation === 'Subscribe' ? state.faults.subscribe.take() : undefined;
    if (fault && fault.kind !== 'slow') return FAULTS[fault.kind](ctx, fault);
    return state.streaming.handle(ctx, auth.user, streaming, xmlSender(ctx, ewsHeaders(ctx, 200)));
  }
  const fault = state.faults.ews.take();
  if (fault?.kind === 'slow') await sleep(fault.ms);
  else if (fault) return FAULTS[fault.kind](ctx, fault);
  answer(ctx, auth.user, request);
}

function answer(ctx: Ctx, user: User, request: Extract<EwsRequest, { kind: 'ok' }>): void {
  if (request.operation !== 'GetFolder') return sendXml(ctx, 500, soapFault('ErrorInvalidRequest', EWS_TEXT.invalidRequest));
  if (request.folders.length === 0) return sendXml(ctx, 500, soapFault('ErrorSchemaValidation', `${EWS_TEXT.schema} GetFolder needs FolderIds.`));
  const inbox = inboxView(user.oid, user.mailbox.total, user.mailbox.unread);
  const messages = request.folders.map((f): FolderMessage => (isInbox(f, inbox.id) ? { kind: 'folder', folder: inbox } : { kind: 'error', code: 'ErrorFolderNotFound', text: EWS_TEXT.folderNotFound }));
  sendXml(ctx, 200, getFolderResponse(messages));
}

function isInbox(f: FolderRef, inboxId: string): boolean {
  return f.kind === 'distinguished' ? f.id.toLowerCase() === 'inbox' : f.id === inboxId;
}

// Counts the inbox over Microsoft Graph (the EWS successor): one GET of the Inbox folder's
// counts, the reply read into counts or one classified AppError. Parsing is pure; the token
// goes only into the Authorization header, never into a log line or an error.
import { AppError } from '../../../shared/errors';
import type { Http, HttpResponse, Log } from '../deps';
import { parseRetryAfterMs, type InboxCounts } from './ews-soap';

export interface GraphRequest {
  /** e.g. https://graph.microsoft.com/v1.0 (a trailing slash is tolerated). */
  graphUrl: string;
  accessToken: string;
  clientRequestId: string;
  signal?: AbortSignal;
}

/** Graph answers a folder read in well under a second; a minute means a stuck service. */
const GRAPH_TIMEOUT_MS = 60_000;
const SELECT = 'totalItemCount,unreadItemCount,childFolderCount,displayName';

export function graphInboxUrl(graphUrl: string): string {
  return `${graphUrl.replace(/\/+$/, '')}/me/mailFolders/inbox?$select=${SELECT}`;
}

export async function fetchInboxViaGraph(deps: { http: Http; log: Log }, req: GraphRequest): Promise<InboxCounts> {
  const res = await deps.http.request({
    method: 'GET',
    url: graphInboxUrl(req.graphUrl),
    headers: {
      Authorization: `Bearer ${req.accessToken}`,
      Accept: 'application/json',
      'client-request-id': req.clientRequestId,
      'return-client-request-id': 'true',
    },
    timeoutMs: GRAPH_TIMEOUT_MS,
    signal: req.signal,
  });
  deps.log.debug('Graph inbox answered', { status: res.status, requestId: res.headers['request-id'], clientRequestId: res.headers['client-request-id'] ?? req.clientRequestId });
  return parseGraphInbox(res);
}

export function parseGraphInbox(res: HttpResponse): InboxCounts {
  if (res.status === 200) return readCounts(res.body);
  const err = graphError(res);
  const message = `Microsoft Graph answered HTTP ${res.status}${err.code ? ` ${err.code}` : ''}${err.message ? `: ${clip(err.message)}` : ''}${err.requestId ? ` (request-id ${err.requestId})` : ''}.`;
  const retryAfterMs = parseRetryAfterMs(res.headers['retry-after']);
  if (res.status === 401) {
    throw failure('mailbox_unauthorized', message, 'Sign in again (the popup or `ews-daemon consent`); if it persists, check that `graphScope` in config.json is a Microsoft Graph scope.', false);
  }
  if (res.status === 403 && SCOPE_DENIED.has(err.code)) {
    throw failure('scope_missing', message, 'The sign-in lacks Microsoft Graph’s Mail.ReadBasic permission: sign in again (the popup or `ews-daemon consent`) and consent to it; if consent is blocked, an administrator can grant it.', false);
  }
  if (res.status === 429) throw failure('throttled', message, WAIT, true, retryAfterMs);
  if (res.status >= 500) throw failure('transient', message, WAIT, true, retryAfterMs);
  if (res.status === 404) {
    throw failure('mailbox_error', message, 'Microsoft Graph finds no Exchange Online mailbox for this account (on-premises or unlicensed?): try "backend": "ews" in config.json.', false);
  }
  throw failure('mailbox_error', message, 'The daemon log has the detail; if it persists, ask the mailbox administrator.', false);
}

/** Graph's codes for "this token may not read mail" (Exchange's and Entra's spelling). */
const SCOPE_DENIED = new Set(['ErrorAccessDenied', 'Authorization_RequestDenied', 'AccessDenied']);
const WAIT = 'Nothing to do: the daemon waits as long as Microsoft Graph asks and tries again.';

function readCounts(body: string): InboxCounts {
  const json = parseJson(body);
  if (!isRecord(json)) throw malformed('the reply is not a JSON object');
  const counts = {
    total: whole(json, 'totalItemCount'),
    unread: whole(json, 'unreadItemCount'),
    childFolderCount: whole(json, 'childFolderCount'),
    displayName: json.displayName,
  };
  if (typeof counts.displayName !== 'string') throw malformed('the reply has no displayName');
  return { ...counts, displayName: counts.displayName };
}

function whole(json: Record<string, unknown>, name: string): number {
  const value = json[name];
  if (value === undefined) throw malformed(`the reply has no ${name}`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw malformed(`${name} is not a whole number`);
  return value;
}

/** Graph's error body: {error: {code, message, innerError: {"request-id", …}}}, if it is one. */
function graphError(res: HttpResponse): { code: string; message: string; requestId: string } {
  let json: unknown;
  try {
    json = parseJson(res.body);
  } catch {
    json = undefined;
  }
  const error = isRecord(json) && isRecord(json.error) ? json.error : {};
  const inner = isRecord(error.innerError) ? error.innerError : {};
  return {
    code: typeof error.code === 'string' ? error.code : '',
    message: typeof error.message === 'string' ? error.message : '',
    requestId: typeof inner['request-id'] === 'string' ? inner['request-id'] : (res.headers['request-id'] ?? ''),
  };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    // Not the parser's message: it would quote the body.
    throw malformed(body.trim() === '' ? 'the reply is empty' : 'the reply is not JSON');
  }
}

function failure(code: 'mailbox_unauthorized' | 'scope_missing' | 'throttled' | 'transient' | 'mailbox_error', message: string, advice: string, retryable: boolean, retryAfterMs?: number): AppError {
  return new AppError(code, message, { advice, retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
}

function malformed(what: string): AppError {
  return new AppError('malformed_response', `Microsoft Graph sent a reply ews-daemon cannot read: ${what}.`, {
    advice: 'Check that `graphUrl` in config.json is the Microsoft Graph endpoint (https://graph.microsoft.com/v1.0); the daemon tries again later.',
    retryable: true,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Graph's messages are one sentence; longer ones are cut so a status line stays readable. */
function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

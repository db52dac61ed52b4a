// Counts the inbox over EWS: one GetFolder POST with the headers Exchange Online expects
// (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/instrumenting-client-requests-for-ews-and-rest-in-exchange;
// X-AnchorMailbox: docs/platform-notes.md), the reply read by ews-soap.ts. Guarantees: the bearer token goes only into
// the Authorization header, never into a log line or an error.
import type { Http, Log } from '../deps';
import { buildGetFolderInboxRequest, parseEwsDiagnostics, parseGetFolderResponse, type InboxCounts } from './ews-soap';

export interface EwsRequest {
  ewsUrl: string;
  accessToken: string;
  /** The mailbox's SMTP address: routes the request to its server in Exchange Online. */
  anchorMailbox: string;
  /** A GUID of ours, echoed back by the server and shown in its logs: quote it to an admin. */
  clientRequestId: string;
  signal?: AbortSignal;
}

/** A GetFolder on one folder answers in well under a second; a minute means a stuck server. */
const EWS_TIMEOUT_MS = 60_000;

export async function fetchInboxViaEws(deps: { http: Http; log: Log }, req: EwsRequest): Promise<InboxCounts> {
  const res = await deps.http.request({
    method: 'POST',
    url: req.ewsUrl,
    headers: {
      Authorization: `Bearer ${req.accessToken}`,
      'Content-Type': 'text/xml; charset=utf-8',
      'X-AnchorMailbox': req.anchorMailbox,
      'client-request-id': req.clientRequestId,
      'return-client-request-id': 'true',
    },
    body: buildGetFolderInboxRequest(),
    timeoutMs: EWS_TIMEOUT_MS,
    signal: req.signal,
  });
  deps.log.debug('EWS GetFolder answered', {
    status: res.status,
    requestId: res.headers['request-id'],
    clientRequestId: res.headers['client-request-id'] ?? req.clientRequestId,
    diagnostics: parseEwsDiagnostics(res.headers['x-ms-diagnostics']) ?? res.headers['x-ms-diagnostics'],
  });
  return parseGetFolderResponse(res);
}

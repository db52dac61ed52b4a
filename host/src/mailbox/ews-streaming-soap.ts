// EWS streaming notifications in SOAP, pure: the Subscribe (StreamingSubscriptionRequest on the
// inbox), GetStreamingEvents and Unsubscribe requests; the Subscribe reply read into a
// subscription id or one classified AppError; and the body of GetStreamingEvents, one chunked
// response carrying many envelopes, cut into envelopes as bytes arrive and each read into what
// the daemon acts on. Microsoft Learn: "Subscribe operation", "GetStreamingEvents operation",
// "Unsubscribe operation", "ConnectionStatus"
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/getstreamingevents-operation).
// Guarantees: elements matched by namespace and local name; nothing we sent is echoed.
import { AppError } from '../../../shared/errors';
import { NS, child, malformed, messageError, responseMessage, textOf, type EwsResponse } from './ews-soap';

/** The events that change an inbox's counts (Types.xsd NotificationEventTypeType). */
export const COUNT_EVENTS = ['NewMailEvent', 'CreatedEvent', 'DeletedEvent', 'MovedEvent', 'CopiedEvent', 'ModifiedEvent'] as const;
/** An envelope larger than this is not one Exchange sends (its notifications carry ids only): 1 MiB. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

const request = (body: string) => `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.types}" xmlns:m="${NS.messages}">
  <soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></soap:Header>
  <soap:Body>${body}</soap:Body>
</soap:Envelope>
`;

export function buildSubscribeRequest(): string {
  const types = COUNT_EVENTS.map((t) => `<t:EventType>${t}</t:EventType>`).join('');
  return request(`<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds><t:EventTypes>${types}</t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>`);
}

/** ConnectionTimeout is a whole number of minutes from 1 to 30 (the ConnectionTimeout element). */
export function buildGetStreamingEventsRequest(subscriptionId: string, minutes: number): string {
  const m = Math.min(30, Math.max(1, Math.floor(minutes)));
  return request(`<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>${escape(subscriptionId)}</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>${m}</m:ConnectionTimeout></m:GetStreamingEvents>`);
}

export function buildUnsubscribeRequest(subscriptionId: string): string {
  return request(`<m:Unsubscribe><m:SubscriptionId>${escape(subscriptionId)}</m:SubscriptionId></m:Unsubscribe>`);
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The SubscriptionId, or the AppError for the reply (401, 403, ErrorServerBusy with its back-off, …). */
export function parseSubscribeResponse(res: EwsResponse): string {
  const message = responseMessage(res, 'SubscribeResponseMessage');
  if (message instanceof AppError) throw message;
  const id = textOf(child(message, NS.messages, 'SubscriptionId'));
  if (!id) throw malformed('the SubscribeResponseMessage has no SubscriptionId');
  return id;
}

/** What one envelope of a GetStreamingEvents stream says. */
export interface StreamingMessage {
  /** Notification events in it (any of them means the counts may have moved). */
  events: number;
  status: 'OK' | 'Closed' | null;
  /** An error message: its ResponseCode, and as an AppError. */
  error: { code: string; error: AppError } | null;
}

export function parseStreamingEnvelope(xml: string): StreamingMessage {
  const message = responseMessage({ status: 200, headers: {}, body: xml }, 'GetStreamingEventsResponseMessage');
  if (message instanceof AppError) return { events: 0, status: null, error: { code: 'malformed', error: message } };
  const status = textOf(child(message, NS.messages, 'ConnectionStatus'));
  const notifications = child(message, NS.messages, 'Notifications')?.children ?? [];
  const events = notifications.flatMap((n) => n.children).filter((e) => e.ns === NS.types && e.local.endsWith('Event')).length;
  return { events, status: status === 'OK' || status === 'Closed' ? status : null, error: messageError(message) };
}

/**
 * Cuts a byte stream into whole SOAP envelopes: each ends at its closing Envelope tag, whatever
 * its prefix. Bytes are decoded as UTF-8 across chunk boundaries. More than MAX_ENVELOPE_BYTES
 * without an end is an error (the stream cannot be trusted any more).
 */
export class EnvelopeSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';

  push(chunk: Uint8Array): string[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const out: string[] = [];
    const end = /<\/(?:[A-Za-z_][\w.-]*:)?Envelope\s*>/g;
    let from = 0;
    for (let m = end.exec(this.buffer); m; m = end.exec(this.buffer)) {
      out.push(this.buffer.slice(from, m.index + m[0].length).trim());
      from = m.index + m[0].length;
    }
    this.buffer = this.buffer.slice(from);
    if (this.buffer.length > MAX_ENVELOPE_BYTES) throw malformed(`the stream sent more than ${MAX_ENVELOPE_BYTES} bytes without ending an envelope`);
    return out;
  }

  /** Text after the last whole envelope (a cut-off stream leaves some). */
  get rest(): string {
    return this.buffer.trim();
  }
}

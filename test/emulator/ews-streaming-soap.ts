// EWS streaming notifications in SOAP, pure: reads Subscribe (StreamingSubscriptionRequest),
// GetStreamingEvents and Unsubscribe requests by local name, and builds Exchange's replies: the
// SubscribeResponse, the envelopes of one GetStreamingEvents response (Notifications,
// ConnectionStatus OK / Closed, an error with ErrorSubscriptionIds) and the UnsubscribeResponse.
// Shapes follow Microsoft Learn: "Subscribe operation", "GetStreamingEvents operation",
// "Unsubscribe operation" and "Stream notifications about mailbox events by using EWS in Exchange"
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/getstreamingevents-operation).
import crypto from 'node:crypto';
import { asNode, envelope, NS_M, NS_T, type Node } from './ews-soap';
import { escapeXml } from './http-util';

/** The event types a StreamingSubscriptionRequest may name (Types.xsd NotificationEventTypeType). */
export const EVENT_TYPES = ['CopiedEvent', 'CreatedEvent', 'DeletedEvent', 'ModifiedEvent', 'MovedEvent', 'NewMailEvent', 'FreeBusyChangedEvent'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type StreamingRequest =
  | { operation: 'Subscribe'; streaming: boolean; folders: string[]; eventTypes: string[] }
  | { operation: 'GetStreamingEvents'; subscriptionIds: string[]; connectionTimeout: number }
  | { operation: 'Unsubscribe'; subscriptionId: string };

const texts = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : String(asNode(x)?.['#text'] ?? ''))) : []);

/** The streaming fields of a request already read (parseEwsRequest: its operation's element), when it is one of the three. */
export function parseStreamingRequest(op: Node, operation: string): StreamingRequest | null {
  if (operation === 'Subscribe') {
    const req = asNode(op.StreamingSubscriptionRequest);
    const ids = asNode(req?.FolderIds);
    const distinguished = Array.isArray(ids?.DistinguishedFolderId) ? (ids.DistinguishedFolderId as unknown[]).map((n) => String(asNode(n)?.['@_Id'] ?? '')) : [];
    return { operation, streaming: req !== undefined, folders: distinguished, eventTypes: texts(asNode(req?.EventTypes)?.EventType) };
  }
  if (operation === 'GetStreamingEvents') {
    const timeout = Number(String(op.ConnectionTimeout ?? '').trim());
    return { operation, subscriptionIds: texts(asNode(op.SubscriptionIds)?.SubscriptionId), connectionTimeout: timeout };
  }
  if (operation === 'Unsubscribe') return { operation, subscriptionId: (texts(op.SubscriptionId)[0] ?? '').trim() };
  return null;
}

type Message = { ok: true; inner: string } | { ok: false; code: string; text: string; inner?: string };

function message(tag: string, m: Message): string {
  if (m.ok) return `<m:${tag} ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>${m.inner}</m:${tag}>`;
  return `<m:${tag} ResponseClass="Error"><m:MessageText>${escapeXml(m.text)}</m:MessageText><m:ResponseCode>${m.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>${m.inner ?? ''}</m:${tag}>`;
}

function response(op: string, tag: string, m: Message): string {
  return envelope(`<m:${op} xmlns:m="${NS_M}" xmlns:t="${NS_T}"><m:ResponseMessages>${message(tag, m)}</m:ResponseMessages></m:${op}>`);
}

export function subscribeResponse(subscriptionId: string): string {
  return response('SubscribeResponse', 'SubscribeResponseMessage', { ok: true, inner: `<m:SubscriptionId>${escapeXml(subscriptionId)}</m:SubscriptionId>` });
}

export function subscribeError(code: string, text: string): string {
  return response('SubscribeResponse', 'SubscribeResponseMessage', { ok: false, code, text });
}

export function unsubscribeResponse(m: { ok: true } | { ok: false; code: string; text: string }): string {
  return response('UnsubscribeResponse', 'UnsubscribeResponseMessage', m.ok ? { ok: true, inner: '' } : m);
}

/** One ConnectionStatus envelope: OK while the connection stays open, Closed as its last. */
export function connectionStatus(status: 'OK' | 'Closed'): string {
  return response('GetStreamingEventsResponse', 'GetStreamingEventsResponseMessage', { ok: true, inner: `<m:ConnectionStatus>${status}</m:ConnectionStatus>` });
}

export interface StreamEvent {
  type: EventType;
  itemId?: string;
  parentFolderId: string;
}

/** A Notifications envelope: the subscription's events since the last one, each with a watermark. */
export function notificationEnvelope(subscriptionId: string, events: StreamEvent[], at: Date): string {
  const body = events
    .map((e) => {
      const watermark = crypto.randomBytes(24).toString('base64');
      const item = e.itemId ? `<t:ItemId Id="${escapeXml(e.itemId)}" ChangeKey="CQAAAA=="/>` : '';
      return `<t:${e.type}><t:Watermark>${watermark}</t:Watermark><t:TimeStamp>${at.toISOString().slice(0, 19)}Z</t:TimeStamp>${item}<t:ParentFolderId Id="${escapeXml(e.parentFolderId)}" ChangeKey="AQAAAA=="/></t:${e.type}>`;
    })
    .join('');
  const inner = `<m:Notifications><m:Notification><t:SubscriptionId>${escapeXml(subscriptionId)}</t:SubscriptionId><t:PreviousWatermark>${crypto.randomBytes(24).toString('base64')}</t:PreviousWatermark><t:MoreEvents>false</t:MoreEvents>${body}</m:Notification></m:Notifications>`;
  return response('GetStreamingEventsResponse', 'GetStreamingEventsResponseMessage', { ok: true, inner });
}

/** The answer for subscriptions that are unknown or expired: an error naming them, then the stream ends. */
export function streamingError(code: string, text: string, subscriptionIds: string[]): string {
  const ids = subscriptionIds.map((id) => `<t:SubscriptionId>${escapeXml(id)}</t:SubscriptionId>`).join('');
  const inner = ids ? `<m:ErrorSubscriptionIds>${ids}</m:ErrorSubscriptionIds>` : '';
  return response('GetStreamingEventsResponse', 'GetStreamingEventsResponseMessage', { ok: false, code, text, inner });
}

export const STREAMING_TEXT = {
  notFound: 'The specified subscription was not found.',
  streamingOnly: 'The emulator supports streaming subscriptions only (StreamingSubscriptionRequest).',
  folders: 'A streaming subscription needs FolderIds naming the inbox, and at least one EventType.',
  timeout: 'ConnectionTimeout must be a whole number of minutes from 1 to 30.',
  tooMany: 'You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed.',
} as const;

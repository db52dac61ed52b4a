// EWS SOAP, pure: reads a request by local name (prefixes and default namespaces vary between
// clients) and builds Exchange Online's replies: GetFolder success (shaped like
// test/fixtures/ews/docs-getfolder-inbox.xml), per-message errors (message-server-busy.xml) and SOAP
// faults (fault-server-busy.xml).
import crypto from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { escapeXml } from './http-util';

export const NS_SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
export const NS_M = 'http://schemas.microsoft.com/exchange/services/2006/messages';
export const NS_T = 'http://schemas.microsoft.com/exchange/services/2006/types';
const NS_E = 'http://schemas.microsoft.com/exchange/services/2006/errors';

/** Exchange Online's version header, as a 2026 server sends it. */
const SERVER_VERSION = `<h:ServerVersionInfo MajorVersion="15" MinorVersion="20" MajorBuildNumber="8989" MinorBuildNumber="17" Version="V2018_01_08" xmlns:h="${NS_T}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`;

export type FolderRef = { kind: 'distinguished'; id: string } | { kind: 'id'; id: string };

export type Node = Record<string, unknown>;

/** A request read once: its operation, the folders it names, and the operation's element (for the streaming operations). */
export type EwsRequest = { kind: 'ok'; operation: string; folders: FolderRef[]; body: Node } | { kind: 'malformed'; reason: string };

/** Elements that may repeat are always lists, whichever operation names them. */
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => ['DistinguishedFolderId', 'FolderId', 'EventType', 'SubscriptionId'].includes(name),
});

export const asNode = (v: unknown): Node | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Node) : undefined);
const asList = (v: unknown): Node[] => (Array.isArray(v) ? v.map(asNode).filter((n): n is Node => n !== undefined) : []);

export function parseEwsRequest(xml: string): EwsRequest {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { kind: 'malformed', reason: valid.err.msg };
  const body = asNode(asNode(asNode(parser.parse(xml))?.Envelope)?.Body);
  const operation = body ? Object.keys(body).find((k) => !k.startsWith('@_')) : undefined;
  if (!body || !operation) return { kind: 'malformed', reason: 'no SOAP Body or no operation in it' };
  const ids = asNode(asNode(body[operation])?.FolderIds);
  const folders: FolderRef[] = [
    ...asList(ids?.DistinguishedFolderId).map((n): FolderRef => ({ kind: 'distinguished', id: String(n['@_Id'] ?? '') })),
    ...asList(ids?.FolderId).map((n): FolderRef => ({ kind: 'id', id: String(n['@_Id'] ?? '') })),
  ];
  return { kind: 'ok', operation, folders, body: asNode(body[operation]) ?? {} };
}

/** An Exchange Online reply: its version header, then `body`. */
export function envelope(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS_SOAP}"><s:Header>${SERVER_VERSION}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

export interface FolderView {
  id: string;
  changeKey: string;
  displayName: string;
  total: number;
  unread: number;
  childFolderCount: number;
}

/** Stable ids for a user's Inbox; the change key moves when the counts do, as Exchange's does. */
export function inboxView(oid: string, total: number, unread: number): FolderView {
  const id = Buffer.from(`AAMkAD/${oid}/inbox`).toString('base64');
  const changeKey = `AQAAAB${crypto.createHash('sha1').update(`${oid}/${total}/${unread}`).digest('base64').slice(0, 22)}`;
  return { id, changeKey, displayName: 'Inbox', total, unread, childFolderCount: 0 };
}

export type FolderMessage = { kind: 'folder'; folder: FolderView } | { kind: 'error'; code: string; text: string; backOffMs?: number };

function folderMessage(m: FolderMessage): string {
  if (m.kind === 'error') {
    const xml = m.backOffMs !== undefined ? `<m:MessageXml><t:Value Name="BackOffMilliseconds">${m.backOffMs}</t:Value></m:MessageXml>` : '';
    return `<m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>${escapeXml(m.text)}</m:MessageText><m:ResponseCode>${m.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>${xml}<m:Folders/></m:GetFolderResponseMessage>`;
  }
  const f = m.folder;
  return `<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Folders><t:Folder><t:FolderId Id="${escapeXml(f.id)}" ChangeKey="${escapeXml(f.changeKey)}"/><t:DisplayName>${escapeXml(f.displayName)}</t:DisplayName><t:TotalCount>${f.total}</t:TotalCount><t:ChildFolderCount>${f.childFolderCount}</t:ChildFolderCount><t:UnreadCount>${f.unread}</t:UnreadCount></t:Folder></m:Folders></m:GetFolderResponseMessage>`;
}

/** A GetFolderResponse with one message per requested folder (default namespace, like the docs sample). */
export function getFolderResponse(messages: FolderMessage[]): string {
  return envelope(
    `<GetFolderResponse xmlns:m="${NS_M}" xmlns:t="${NS_T}" xmlns="${NS_M}"><m:ResponseMessages>${messages.map(folderMessage).join('')}</m:ResponseMessages></GetFolderResponse>`,
  );
}

/** A SOAP fault (HTTP 500), with BackOffMilliseconds in MessageXml when given. */
export function soapFault(code: string, text: string, backOffMs?: number): string {
  const xml = backOffMs !== undefined ? `<t:MessageXml xmlns:t="${NS_T}"><t:Value Name="BackOffMilliseconds">${backOffMs}</t:Value></t:MessageXml>` : '';
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS_SOAP}"><s:Body><s:Fault><faultcode xmlns:a="${NS_T}">a:${code}</faultcode><faultstring xml:lang="en-US">${escapeXml(text)}</faultstring><detail><e:ResponseCode xmlns:e="${NS_E}">${code}</e:ResponseCode><e:Message xmlns:e="${NS_E}">${escapeXml(text)}</e:Message>${xml}</detail></s:Fault></s:Body></s:Envelope>`;
}

/** A reply cut off mid-element, as a broken proxy or a dropped connection leaves it. */
export function malformedResponse(): string {
  return getFolderResponse([{ kind: 'error', code: 'NoError', text: '' }]).slice(0, 260) + '<t:Folder><t:TotalCount>4</';
}

export const EWS_TEXT = {
  busy: 'The server cannot service this request right now. Try again later.',
  connections: 'You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed.',
  notFound: 'The specified object was not found in the store., The process failed to get the correct properties.',
  folderNotFound: 'The specified folder could not be found in the store.',
  invalidRequest: 'The request is invalid.',
  schema: 'The request failed schema validation.',
} as const;

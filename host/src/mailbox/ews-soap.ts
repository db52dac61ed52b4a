// EWS GetFolder(inbox): the SOAP request, and the reply read into counts or one classified
// AppError (HTTP status, SOAP fault, per-message error, garbled XML). Pure. Guarantees: elements
// are matched by namespace URI and local name, never by prefix; no header or body we were
// sent is echoed, so the bearer token cannot reach an error. The envelope reader and error
// verdicts are exported for the streaming operations (ews-streaming-soap.ts).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError } from '../../../shared/errors';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  messages: 'http://schemas.microsoft.com/exchange/services/2006/messages',
  types: 'http://schemas.microsoft.com/exchange/services/2006/types',
  errors: 'http://schemas.microsoft.com/exchange/services/2006/errors',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

export interface InboxCounts {
  total: number;
  unread: number;
  childFolderCount: number;
  displayName: string;
}

export interface EwsResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * IdOnly plus the four properties we read, rather than AllProperties: the reply is smaller, the
 * server fetches less (AllProperties adds EffectiveRights, PermissionSet, …), and what we parse
 * does not change with what a server version adds. Exchange2013_SP1 is understood by Exchange
 * Online and by every on-premises server since Exchange 2013 SP1
 * (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/requestserverversion).
 */
export function buildGetFolderInboxRequest(): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.types}" xmlns:m="${NS.messages}">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2013_SP1"/>
  </soap:Header>
  <soap:Body>
    <m:GetFolder>
      <m:FolderShape>
        <t:BaseShape>IdOnly</t:BaseShape>
        <t:AdditionalProperties>
          <t:FieldURI FieldURI="folder:DisplayName"/>
          <t:FieldURI FieldURI="folder:TotalCount"/>
          <t:FieldURI FieldURI="folder:UnreadCount"/>
          <t:FieldURI FieldURI="folder:ChildFolderCount"/>
        </t:AdditionalProperties>
      </m:FolderShape>
      <m:FolderIds>
        <t:DistinguishedFolderId Id="inbox"/>
      </m:FolderIds>
    </m:GetFolder>
  </soap:Body>
</soap:Envelope>
`;
}

export function parseGetFolderResponse(res: EwsResponse): InboxCounts {
  const message = responseMessage(res, 'GetFolderResponseMessage');
  if (message instanceof AppError) throw message;
  return readCounts(message);
}

/** The first response message of a reply (`tag` names the one expected), or the AppError its status, fault or shape means. */
export function responseMessage(res: EwsResponse, tag: string): XmlElement | AppError {
  if (res.status === 401) return unauthorized(res.headers['x-ms-diagnostics']);
  if (res.status === 403) return ewsDisabled();
  const body = parseEnvelopeBody(res.body);
  const fault = body instanceof AppError ? undefined : child(body, NS.soap, 'Fault');
  if (fault) return faultError(fault);
  const byStatus = statusError(res);
  if (byStatus) return byStatus;
  if (body instanceof AppError) return body;
  // The first message of ResponseMessages, by its shape: every operation's message carries
  // ResponseClass, ResponseCode and MessageText alike (Messages.xsd ResponseMessageType), so one
  // reader serves GetFolder, Subscribe and GetStreamingEvents.
  const response = body.children.find((c) => c.ns === NS.messages && c.local.endsWith('Response'));
  const message = response && child(response, NS.messages, 'ResponseMessages')?.children.find((c) => c.ns === NS.messages && c.local.endsWith('ResponseMessage'));
  return message ?? malformed(`the SOAP Body holds no ${tag}`);
}

/** A response message with ResponseClass="Error": its ResponseCode and what it means; null for success. */
export function messageError(message: XmlElement): { code: string; error: AppError } | null {
  if (message.attrs.ResponseClass !== 'Error') return null;
  // Exchange always sends a ResponseCode with an error; without one, treat it as the server's own failure.
  const code = textOf(child(message, NS.messages, 'ResponseCode')) || 'ErrorInternalServerError';
  return { code, error: ewsCodeError(code, textOf(child(message, NS.messages, 'MessageText')), backOff(child(message, NS.messages, 'MessageXml'))) };
}

/** What x-ms-diagnostics says about a refused token (HTTP 401; the numbers: docs/platform-notes.md). */
export interface EwsDiagnostic {
  number: number;
  meaning: string;
  reason?: string;
  category?: string;
}
const DIAGNOSTICS: Record<number, string> = {
  2000001: 'the token is malformed or its signature is not valid',
  2000002: 'the token has expired',
  2000003: 'the token is for another resource (wrong audience)',
  2000008: 'the grant behind the token is no longer valid',
};

export function parseEwsDiagnostics(header: string | undefined): EwsDiagnostic | null {
  const m = header ? /^\s*(\d+)\s*(?:;\s*reason="([^"]*)")?(?:\s*;\s*error_category="([^"]*)")?/.exec(header) : null;
  if (!m) return null;
  const number = Number(m[1]);
  return { number, meaning: DIAGNOSTICS[number] ?? 'see the reason', ...(m[2] ? { reason: clip(m[2]) } : {}), ...(m[3] ? { category: m[3] } : {}) };
}

/** Retry-After in seconds (the HTTP-date form needs a clock, so it is left to the default). */
export function parseRetryAfterMs(value: string | undefined): number | undefined {
  return value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : undefined;
}

export function unauthorized(diagnostics: string | undefined): AppError {
  const d = parseEwsDiagnostics(diagnostics);
  const why = d ? ` (x-ms-diagnostics ${d.number}: ${d.meaning}${d.reason ? `; reason: ${d.reason}` : ''})` : '';
  return new AppError('mailbox_unauthorized', `EWS refused the access token${why}.`, {
    advice: 'Sign in again (the popup or `ews-daemon consent`); if it persists, check that `ewsScope` in config.json is the EWS scope of `ewsUrl`.',
    retryable: false,
  });
}

export function ewsDisabled(): AppError {
  return new AppError('ews_disabled', 'EWS answered HTTP 403: the server does not allow EWS for this tenant or app.', {
    advice:
      'Exchange Online is blocking EWS for this tenant or app (retirement since 2026-10-01). An Exchange administrator can allow it with Set-OrganizationConfig -EWSEnabled $true and add this app\'s id to EWSAllowedAppIDs, until EWS is turned off on 2027-04-01; Microsoft Graph works meanwhile: set "backend" to "graph" (or "auto") in config.json.',
    retryable: false,
  });
}

/** An error for a non-200 status that carried no SOAP fault; undefined for 200. */
export function statusError(res: EwsResponse): AppError | undefined {
  if (res.status === 200) return undefined;
  const retryAfterMs = parseRetryAfterMs(res.headers['retry-after']);
  if (res.status === 503 || res.status === 429) {
    return busy(retryAfterMs !== undefined ? 'throttled' : 'transient', `EWS answered HTTP ${res.status}: the server is busy or unavailable.`, retryAfterMs);
  }
  if (res.status === 502 || res.status === 504) return busy('transient', `EWS answered HTTP ${res.status}: a gateway could not reach the mailbox server.`, retryAfterMs);
  return new AppError('mailbox_error', `EWS answered HTTP ${res.status} without a SOAP fault.`, {
    advice: res.status >= 500 ? 'The daemon tries again later; if it persists, the mailbox server has a problem.' : 'Check `ewsUrl` in config.json: it should end in /EWS/Exchange.asmx.',
    retryable: res.status >= 500,
  });
}

const THROTTLE_CODES = new Set(['ErrorServerBusy', 'ErrorExceededConnectionCount']);
const TRANSIENT_CODES = new Set(['ErrorInternalServerTransientError', 'ErrorMailboxStoreUnavailable', 'ErrorMailboxMoveInProgress']);

/** One verdict for a ResponseCode, wherever it came from (fault detail or response message). */
export function ewsCodeError(responseCode: string, text: string, backOffMs: number | undefined): AppError {
  const message = `EWS answered ${responseCode}${text ? `: ${clip(text)}` : '.'}`;
  if (THROTTLE_CODES.has(responseCode) || backOffMs !== undefined) return busy('throttled', message, backOffMs);
  if (TRANSIENT_CODES.has(responseCode)) return busy('transient', message, undefined);
  return new AppError('mailbox_error', message, { advice: 'The daemon log has the detail; if it persists, ask the mailbox administrator.', retryable: false });
}

function busy(code: 'throttled' | 'transient', message: string, retryAfterMs: number | undefined): AppError {
  return new AppError(code, message, {
    advice: 'Nothing to do: the daemon waits as long as the server asks and tries again.',
    retryable: true,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

export function faultError(fault: XmlElement): AppError {
  const detail = child(fault, '', 'detail');
  const faultCode = child(fault, '', 'faultcode');
  const responseCode = textOf(detail && (child(detail, NS.errors, 'ResponseCode') ?? child(detail, NS.types, 'ResponseCode'))) || qnameLocal(faultCode);
  const text = textOf(child(fault, '', 'faultstring')) || textOf(detail && child(detail, NS.errors, 'Message'));
  return ewsCodeError(responseCode || 'a SOAP fault', text, backOff(detail && child(detail, NS.types, 'MessageXml')));
}

function readCounts(message: XmlElement): InboxCounts {
  const failed = messageError(message);
  if (failed) throw failed.error;
  const folders = child(message, NS.messages, 'Folders');
  const folder = folders?.children.find((c) => c.ns === NS.types);
  if (!folder) throw malformed('the GetFolderResponseMessage holds no Folder');
  const displayName = child(folder, NS.types, 'DisplayName');
  if (!displayName) throw malformed('the Folder has no DisplayName');
  return { total: count(folder, 'TotalCount'), unread: count(folder, 'UnreadCount'), childFolderCount: count(folder, 'ChildFolderCount'), displayName: displayName.text };
}

function count(folder: XmlElement, name: string): number {
  const el = child(folder, NS.types, name);
  if (!el) throw malformed(`the Folder has no ${name}`);
  if (!/^\d+$/.test(el.text)) throw malformed(`the Folder's ${name} is not a whole number (got "${clip(el.text, 40)}")`);
  return Number(el.text);
}

/** MessageXml's <Value Name="BackOffMilliseconds">, in whichever namespace-qualified form. */
export function backOff(messageXml: XmlElement | undefined): number | undefined {
  const value = messageXml?.children.find((c) => c.local === 'Value' && c.ns === NS.types && c.attrs.Name === 'BackOffMilliseconds');
  return value && /^\d+$/.test(value.text) ? Number(value.text) : undefined;
}

// ---- XML with namespaces resolved ----------------------------------------------------------

export interface XmlElement {
  ns: string;
  local: string;
  /** Attributes by local name (EWS's are unqualified); xmlns declarations left out. */
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const PARSER = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  htmlEntities: false,
});

/** The Envelope's Body, or the malformed_response error saying what was wrong. */
export function parseEnvelopeBody(xml: string): XmlElement | AppError {
  if (xml.trim() === '') return malformed('the reply is empty');
  // SOAP 1.1 §3 forbids a DTD; refusing one also keeps entity expansion out of the parser.
  if (/<!DOCTYPE/i.test(xml)) return malformed('the reply has a DOCTYPE, which SOAP forbids');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return malformed(`the reply is not well-formed XML (line ${valid.err.line}, column ${valid.err.col})`);
  let roots: XmlElement[];
  try {
    roots = toElements(PARSER.parse(xml) as unknown, new Map([['xml', NS.xml]])).children;
  } catch (e) {
    return e instanceof AppError ? e : malformed('the reply could not be parsed as XML');
  }
  const envelope = roots.find((r) => r.ns === NS.soap && r.local === 'Envelope');
  if (!envelope) return malformed('the reply has no SOAP 1.1 Envelope');
  return child(envelope, NS.soap, 'Body') ?? malformed('the SOAP Envelope has no Body');
}

function toElements(nodes: unknown, parentScope: Map<string, string>): { children: XmlElement[]; text: string } {
  const out = { children: [] as XmlElement[], text: '' };
  for (const node of Array.isArray(nodes) ? (nodes as Record<string, unknown>[]) : []) {
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined) continue;
    if (name === '#text') out.text += String(node[name]);
    else out.children.push(toElement(name, node[name], (node[':@'] ?? {}) as Record<string, unknown>, parentScope));
  }
  return out;
}

function toElement(name: string, content: unknown, rawAttrs: Record<string, unknown>, parentScope: Map<string, string>): XmlElement {
  const scope = new Map(parentScope);
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === 'xmlns') scope.set('', String(value));
    else if (key.startsWith('xmlns:')) scope.set(key.slice(6), String(value));
    else attrs[key.slice(key.indexOf(':') + 1)] = String(value);
  }
  const [prefix, local] = name.includes(':') ? [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)] : ['', name];
  const ns = scope.get(prefix);
  if (ns === undefined && prefix !== '') throw malformed(`the element <${clip(name, 60)}> uses an undeclared namespace prefix`);
  return { ns: ns ?? '', local, attrs, ...toElements(content, scope) };
}

export function child(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  return el.children.find((c) => c.ns === ns && c.local === local);
}

export function textOf(el: XmlElement | undefined): string {
  return el?.text ?? '';
}

/** The local part of a QName-valued element such as <faultcode>a:ErrorServerBusy</faultcode>. */
function qnameLocal(el: XmlElement | undefined): string {
  return el ? el.text.slice(el.text.indexOf(':') + 1) : '';
}

export function malformed(what: string): AppError {
  return new AppError('malformed_response', `EWS sent a reply ews-daemon cannot read: ${what}.`, {
    advice: 'Check that `ewsUrl` in config.json points at an Exchange EWS endpoint (…/EWS/Exchange.asmx); the daemon tries again later.',
    retryable: true,
  });
}

/** Server texts are one sentence; longer ones are cut so a status line stays readable. */
function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

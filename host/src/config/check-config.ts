// Checks config.json's parsed value key by key and resolves defaults, collecting every problem
// (not just the first). Pure: files named by the config (secret file, certificate) are only
// resolved to absolute paths here; load-config.ts reads them. No secret value is ever quoted.
import path from 'node:path';
import type { BackendSetting } from '../../../shared/protocol';
import { DEFAULTS, type Config } from './config';

export type CredentialSpec =
  | { kind: 'none' }
  | { kind: 'secret'; secret: string }
  | { kind: 'secretFile'; path: string }
  /** "clientSecretFrom": "keyring": the secret `ews-daemon secret set` stored in the OS keyring. */
  | { kind: 'keyring' }
  | { kind: 'certificate'; privateKeyPath: string; certificatePath: string };

export type ConfigDraft = Omit<Config, 'file' | 'credential'> & { credential: CredentialSpec | null };

export const KNOWN_KEYS = [
  'clientId', 'tenant', 'authority', 'clientSecret', 'clientSecretFile', 'certificate', 'redirectUri',
  'ewsUrl', 'ewsScope', 'graphUrl', 'graphScope', 'backend', 'extensionIds', 'pollIntervalSeconds',
  'realtime', 'notifyCommand', 'clientSecretFrom', 'cacheKeyFile',
] as const;

/** Entra ID's sign-in hosts in every national cloud: MSAL knows these without being told. */
const MICROSOFT_LOGIN_HOSTS = new Set([
  'login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn',
  'login.microsoftonline.de', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net',
]);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const CHROMIUM_ID = /^[a-p]{32}$/;
/** Firefox add-on ids: an e-mail-like name or a GUID in braces (extensionworkshop.com). */
const FIREFOX_ID = /^(?:\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}|[a-z0-9._-]*@[a-z0-9._-]+)$/i;
/** Lower bound: a count every few seconds is plenty for a badge; upper: once a day. */
const POLL_MIN_S = 5;
const POLL_MAX_S = 86_400;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

type Obj = Record<string, unknown>;

export function checkConfig(json: unknown, configDir: string): { draft: ConfigDraft; problems: string[] } {
  const problems: string[] = [];
  const o: Obj = isObject(json) ? json : {};
  if (!isObject(json)) problems.push(`must hold a JSON object ({ … }), got ${describe(json)}`);
  for (const key of Object.keys(o)) if (!(KNOWN_KEYS as readonly string[]).includes(key)) problems.push(unknownKey(key));
  const authority = checkAuthority(o, problems);
  const credential = checkCredential(o, configDir, problems);
  const draft: ConfigDraft = {
    clientId: checkClientId(o.clientId, authority !== null && isMicrosoftHost(authority), problems),
    authority: authority ?? '',
    knownAuthorityHost: authority && !isMicrosoftHost(authority) ? new URL(authority).host : null,
    credential,
    redirectUri: checkRedirectUri(o.redirectUri, credential?.kind === 'none' ? DEFAULTS.publicRedirectUri : DEFAULTS.redirectUri, problems),
    ewsUrl: optional(o.ewsUrl, DEFAULTS.ewsUrl, (v) => httpsUrl('ewsUrl', v, problems)),
    ewsScope: optional(o.ewsScope, DEFAULTS.ewsScope, (v) => scopes('ewsScope', v, problems)),
    graphUrl: optional(o.graphUrl, DEFAULTS.graphUrl, (v) => httpsUrl('graphUrl', v, problems)).replace(/\/+$/, ''),
    graphScope: optional(o.graphScope, DEFAULTS.graphScope, (v) => scopes('graphScope', v, problems)),
    backend: optional(o.backend, DEFAULTS.backend, (v) => checkBackend(v, problems)),
    extensionIds: optional(o.extensionIds, [], (v) => checkExtensionIds(v, problems)),
    pollIntervalSeconds: optional(o.pollIntervalSeconds, DEFAULTS.pollIntervalSeconds, (v) => checkPoll(v, problems)),
    realtime: optional(o.realtime, DEFAULTS.realtime, (v) => checkBoolean('realtime', v, problems)),
    notifyCommand: optional(o.notifyCommand, null, (v) => checkArgv('notifyCommand', v, problems)),
    cacheKeyFile: o.cacheKeyFile === undefined ? null : filePath('cacheKeyFile', o.cacheKeyFile, configDir, problems),
  };
  return { draft, problems };
}

/** The Entra-style suggestion for a mistyped key: same letters in another case, or ≤ 2 edits. */
export function closestKey(key: string): string | undefined {
  const exact = KNOWN_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
  if (exact) return exact;
  const scored = KNOWN_KEYS.map((k) => ({ k, d: editDistance(k.toLowerCase(), key.toLowerCase()) })).sort((a, b) => a.d - b.d);
  return scored[0] && scored[0].d <= 2 ? scored[0].k : undefined;
}

function unknownKey(key: string): string {
  const near = closestKey(key);
  return `unknown key "${clip(key)}"${near ? ` (did you mean "${near}"?)` : ''}; known keys: ${KNOWN_KEYS.join(', ')}`;
}

function checkAuthority(o: Obj, problems: string[]): string | null {
  if (o.tenant !== undefined && o.authority !== undefined) {
    problems.push('give "tenant" or "authority", not both');
    return null;
  }
  if (o.tenant !== undefined) {
    const ok = typeof o.tenant === 'string' && (GUID.test(o.tenant) || DOMAIN.test(o.tenant) || ['common', 'organizations', 'consumers'].includes(o.tenant));
    if (ok) return `${DEFAULTS.authorityHost}/${o.tenant}`;
    problems.push(`"tenant" must be the tenant's id (a GUID) or a domain such as contoso.onmicrosoft.com (got ${describe(o.tenant)})`);
    return null;
  }
  if (o.authority === undefined) {
    problems.push('"tenant" (the tenant\'s id or domain) or "authority" (an https URL) is required');
    return null;
  }
  const url = httpsUrl('authority', o.authority, problems);
  if (!url) return null;
  const parsed = new URL(url);
  if (parsed.pathname.replace(/\/+$/, '') === '' || parsed.search) {
    problems.push(`"authority" must be an https URL ending in the tenant, without a query, e.g. "https://login.microsoftonline.com/contoso.com" (got ${describe(o.authority)})`);
    return null;
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

function isMicrosoftHost(authority: string): boolean {
  return MICROSOFT_LOGIN_HOSTS.has(new URL(authority).hostname.toLowerCase());
}

/** Entra app ids are GUIDs; another authority (an emulator, AD FS) may use any id. */
function checkClientId(value: unknown, mustBeGuid: boolean, problems: string[]): string {
  if (value === undefined) problems.push('"clientId" (the app registration\'s Application (client) ID) is required');
  else if (typeof value !== 'string' || value.trim() === '' || /\s/.test(value)) problems.push(`"clientId" must be a non-empty string without spaces (got ${describe(value)})`);
  else if (mustBeGuid && !GUID.test(value)) problems.push(`"clientId" must be the Application (client) ID, a GUID like 00000000-0000-0000-0000-000000000000 (got ${describe(value)})`);
  else return value;
  return '';
}

function checkCredential(o: Obj, configDir: string, problems: string[]): CredentialSpec | null {
  const given = (['clientSecret', 'clientSecretFile', 'clientSecretFrom', 'certificate'] as const).filter((k) => o[k] !== undefined);
  // None at all: a public client (Mobile and desktop applications), signed in with PKCE alone.
  // The keyring's secret is used only when "clientSecretFrom" says so, never for want of one.
  if (given.length === 0) return { kind: 'none' };
  if (given.length > 1) {
    problems.push(`give one credential, not several (found ${given.map((k) => `"${k}"`).join(' and ')})`);
    return null;
  }
  if (o.clientSecret !== undefined) {
    if (typeof o.clientSecret === 'string' && o.clientSecret.trim() !== '') return { kind: 'secret', secret: o.clientSecret.trim() };
    problems.push(`"clientSecret" must be a non-empty string (got ${describeType(o.clientSecret)})`);
    return null;
  }
  if (o.clientSecretFile !== undefined) {
    const file = filePath('clientSecretFile', o.clientSecretFile, configDir, problems);
    return file ? { kind: 'secretFile', path: file } : null;
  }
  if (o.clientSecretFrom !== undefined) {
    if (o.clientSecretFrom === 'keyring') return { kind: 'keyring' };
    problems.push(`"clientSecretFrom" must be "keyring" (the secret \`ews-daemon secret set\` stored; got ${describe(o.clientSecretFrom)})`);
    return null;
  }
  return checkCertificate(o.certificate, configDir, problems);
}

function checkCertificate(value: unknown, configDir: string, problems: string[]): CredentialSpec | null {
  if (!isObject(value)) {
    problems.push(`"certificate" must be an object { "privateKeyPath": …, "certificatePath": … } (got ${describe(value)})`);
    return null;
  }
  for (const key of Object.keys(value)) {
    if (key !== 'privateKeyPath' && key !== 'certificatePath') problems.push(`unknown key "certificate.${clip(key)}"; known keys: privateKeyPath, certificatePath`);
  }
  const privateKeyPath = filePath('certificate.privateKeyPath', value.privateKeyPath, configDir, problems);
  const certificatePath = filePath('certificate.certificatePath', value.certificatePath, configDir, problems);
  return privateKeyPath && certificatePath ? { kind: 'certificate', privateKeyPath, certificatePath } : null;
}

function filePath(key: string, value: unknown, configDir: string, problems: string[]): string | null {
  if (typeof value === 'string' && value.trim() !== '') return path.resolve(configDir, value);
  problems.push(`"${key}" must be a file path, absolute or relative to the config file's folder (got ${describe(value)})`);
  return null;
}

/** Entra allows http Reply URLs only on the loopback host; anything else must be https. */
function checkRedirectUri(value: unknown, fallback: string, problems: string[]): string {
  if (value === undefined) return fallback;
  const url = typeof value === 'string' ? safeUrl(value) : null;
  const loopback = url !== null && LOOPBACK_HOSTS.has(url.hostname);
  if (url && !url.hash && !url.username && (url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) return value as string;
  problems.push(`"redirectUri" must be an https URL, or http on localhost, 127.0.0.1 or [::1], without a #fragment (got ${describe(value)})`);
  return DEFAULTS.redirectUri;
}

function httpsUrl(key: string, value: unknown, problems: string[]): string {
  const url = typeof value === 'string' ? safeUrl(value) : null;
  if (url && url.protocol === 'https:' && !url.username && !url.password && !url.hash) return value as string;
  problems.push(`"${key}" must be an https URL (got ${describe(value)})`);
  return '';
}

/** Space-separated https scopes of ONE resource: a token request may not mix (AADSTS70011). */
function scopes(key: string, value: unknown, problems: string[]): string {
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
  const urls = list.map(safeUrl);
  const origins = new Set(urls.map((u) => u?.origin));
  if (list.length > 0 && urls.every((u) => u?.protocol === 'https:') && origins.size === 1) return list.join(' ');
  problems.push(`"${key}" must be one resource's https scope(s), e.g. "https://outlook.office365.com/EWS.AccessAsUser.All" (got ${describe(value)})`);
  return '';
}

function checkBackend(value: unknown, problems: string[]): BackendSetting {
  if (value === 'ews' || value === 'graph' || value === 'auto') return value;
  problems.push(`"backend" must be one of "ews", "graph", "auto" (got ${describe(value)})`);
  return DEFAULTS.backend;
}

function checkExtensionIds(value: unknown, problems: string[]): string[] {
  if (!Array.isArray(value)) {
    problems.push(`"extensionIds" must be an array of extension ids (got ${describe(value)})`);
    return [];
  }
  const ids: string[] = [];
  value.forEach((id: unknown, i) => {
    if (typeof id === 'string' && (CHROMIUM_ID.test(id) || FIREFOX_ID.test(id))) ids.push(id);
    else problems.push(`"extensionIds[${i}]" must be a Chromium extension id (32 letters a–p) or a Firefox add-on id (name@domain or {GUID}) (got ${describe(id)})`);
  });
  return ids;
}

function checkPoll(value: unknown, problems: string[]): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= POLL_MIN_S && value <= POLL_MAX_S) return value;
  problems.push(`"pollIntervalSeconds" must be a whole number of seconds from ${POLL_MIN_S} to ${POLL_MAX_S} (got ${describe(value)})`);
  return DEFAULTS.pollIntervalSeconds;
}

function checkBoolean(key: string, value: unknown, problems: string[]): boolean {
  if (typeof value === 'boolean') return value;
  problems.push(`"${key}" must be true or false (got ${describe(value)})`);
  return true;
}

/** A program and its arguments, run without a shell: ["notify-send", "ews-daemon"]. */
function checkArgv(key: string, value: unknown, problems: string[]): string[] | null {
  if (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string') && (value[0] as string).length > 0) return value as string[];
  problems.push(`"${key}" must be an array of strings: the program, then its arguments, e.g. ["notify-send", "ews-daemon"] (got ${describe(value)})`);
  return null;
}

function optional<T>(value: unknown, fallback: T, check: (v: unknown) => T): T {
  return value === undefined ? fallback : check(value);
}

function safeUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** A value as the user wrote it (JSON, cut short) for "got …"; never used for secrets. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return 'an object';
  return clip(JSON.stringify(value));
}

/** Only the JSON type: for values that may be secrets. */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'an empty string' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Enough to recognise a value, short enough for one line of an error. */
function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length] ?? 0;
}

// One token-cache entry in the viewer: what it is, its dates in local time, its scopes, and,
// for JWTs, the header and claims as JSON with a copy button each. The daemon sends decoded
// parts only: no raw token string exists here to show.
import type { TokenEntry } from '../../../shared/protocol';
import { copyText, h } from '../lib/dom';
import { formatLocalTime, formatRelative } from '../lib/format';
import { annotatedJson, jsonText } from './jwt-text';

const KIND_TITLES: Record<TokenEntry['kind'], string> = {
  account: 'Account',
  'id-token': 'ID token',
  'access-token': 'Access token',
  'refresh-token': 'Refresh token',
  'app-metadata': 'App metadata',
};

const DATE_FIELDS: ReadonlyArray<[keyof TokenEntry, string]> = [
  ['cachedAt', 'Cached'],
  ['expiresOn', 'Expires'],
  ['extendedExpiresOn', 'Extended expiry'],
  ['refreshOn', 'Refresh due'],
  ['lapsesAt', 'Lapses if unused'],
];

export function tokenEntry(e: TokenEntry, now: number): HTMLElement {
  const title = e.kind === 'access-token' && e.scopes?.length ? `${KIND_TITLES[e.kind]}: ${e.scopes.join(' ')}` : KIND_TITLES[e.kind];
  return h(
    'article',
    { class: `entry kind-${e.kind}`, 'data-testid': `entry-${e.kind}` },
    h('h3', {}, title),
    facts(e, now),
    e.note ? h('p', { class: 'muted' }, e.note) : null,
    e.jwt ? jsonBlock('Header', e.jwt.header) : null,
    e.jwt ? jsonBlock('Claims', e.jwt.claims) : null,
  );
}

function facts(e: TokenEntry, now: number): HTMLElement {
  const rows: Array<[string, Node | string]> = [];
  if (e.username) rows.push(['User', e.username]);
  if (e.realm) rows.push(['Tenant', e.realm]);
  if (e.environment) rows.push(['Authority host', e.environment]);
  if (e.clientId) rows.push(['Client id', e.clientId]);
  if (e.kind === 'refresh-token') rows.push(['Present', 'yes (kept by the daemon, never shown)']);
  for (const [field, label] of DATE_FIELDS) {
    const at = e[field];
    if (typeof at === 'number') rows.push([label, h('time', { datetime: new Date(at).toISOString() }, `${formatLocalTime(at)} (${formatRelative(at, now)})`)]);
  }
  rows.push(['Cache key', h('code', {}, e.key)]);
  return h('dl', { class: 'facts' }, ...rows.map(([k, v]) => h('div', { class: 'row' }, h('dt', {}, k), h('dd', {}, v))));
}

function jsonBlock(label: string, value: Record<string, unknown>): HTMLElement {
  const status = h('span', { class: 'copied', role: 'status', 'aria-live': 'polite' });
  const copy = async () => {
    status.textContent = (await copyText(jsonText(value))) ? 'Copied.' : 'Copy failed; select the text instead.';
  };
  return h(
    'section',
    { class: 'json' },
    h('div', { class: 'json-head' }, h('h4', {}, label), h('button', { type: 'button', 'data-testid': 'copy-json', 'aria-label': `Copy the ${label.toLowerCase()} as JSON`, onclick: copy }, 'Copy'), status),
    h('pre', { 'data-testid': `json-${label.toLowerCase()}` }, annotatedJson(value)),
  );
}

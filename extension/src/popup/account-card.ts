// One account in the popup: who, the grant state in words, the Inbox counts with where and when
// they came from, the token clock (access-token countdowns, refreshes, refresh-token lapse), the
// last error with its advice, and the account's own buttons. Times that move are marked with
// data-countdown / data-relative so the popup's one-second tick can redraw just them.
import type { AccountStatus } from '../../../shared/protocol';
import { h } from '../lib/dom';
import { formatCount, formatCountdown, formatLocalDate, formatLocalTime, formatRelative } from '../lib/format';
import { errorBox } from './error-box';
import { backendName, fetchedWords, realtimeWords, staleNote, stateWords } from './state-text';

export interface CardActions {
  refresh(account: string): void;
  signOut(account: string): void;
  signIn(loginHint: string): void;
}

export function accountCard(a: AccountStatus, now: number, act: CardActions): HTMLElement {
  const state = stateWords(a.state, now);
  const label = a.name ? `${a.name} (${a.username})` : a.username;
  return h(
    'article',
    { class: 'account', 'data-account': a.username, 'aria-label': `Account ${label}` },
    h('h2', { class: 'username' }, a.username, a.name ? h('span', { class: 'name' }, ` ${a.name}`) : null),
    h('p', { class: `state tone-${state.tone}`, 'data-testid': 'state', 'data-state': a.state.kind }, state.text),
    inboxBlock(a, now),
    tokenClock(a, now),
    // lastError is the state's own while it fails (PROTOCOL.md): needing sign-in, it is the heading.
    a.lastError ? errorBox(a.lastError, 'last-error', a.state.kind === 'needs-consent' ? undefined : 'Last error') : null,
    h(
      'div',
      { class: 'buttons' },
      a.state.kind === 'needs-consent'
        ? h('button', { type: 'button', class: 'primary', 'data-testid': 'sign-in-again', 'data-key': `again:${a.username}`, onclick: () => act.signIn(a.username) }, 'Sign in again')
        : null,
      h('button', { type: 'button', 'data-testid': 'refresh', 'data-key': `refresh:${a.username}`, 'aria-label': `Refresh the Inbox count of ${a.username} now`, onclick: () => act.refresh(a.username) }, 'Refresh now'),
      h('button', { type: 'button', 'data-testid': 'sign-out', 'data-key': `out:${a.username}`, 'aria-label': `Sign out ${a.username}`, onclick: () => act.signOut(a.username) }, 'Sign out'),
    ),
  );
}

function inboxBlock(a: AccountStatus, now: number): HTMLElement {
  if (!a.inbox) return h('p', { class: 'inbox muted', 'data-testid': 'inbox-none' }, 'Inbox: not fetched yet');
  return h(
    'div',
    { class: 'inbox' },
    h(
      'p',
      { class: 'counts' },
      h('span', { class: 'count', 'data-testid': 'inbox-total' }, formatCount(a.inbox.total)),
      h('span', { class: 'count-label' }, ' in the Inbox, '),
      h('span', { class: 'count', 'data-testid': 'inbox-unread' }, formatCount(a.inbox.unread)),
      h('span', { class: 'count-label' }, ' unread'),
    ),
    h('p', { class: 'muted', 'data-testid': 'inbox-fetched', 'data-relative': a.inbox.fetchedAt, 'data-template': `fetched {} via ${backendName(a.inbox.backend)}` }, fetchedWords(a.inbox, now)),
    a.inbox.stale ? h('p', { class: 'muted', 'data-testid': 'inbox-stale' }, staleNote(a.inbox)) : null,
    h('p', { class: 'muted', 'data-testid': 'backend-reason' }, a.backend.reason),
    a.realtime ? h('p', { class: 'muted', 'data-testid': 'realtime', 'data-kind': a.realtime.kind }, realtimeWords(a.realtime)) : null,
  );
}

function tokenClock(a: AccountStatus, now: number): HTMLElement {
  const rows: HTMLElement[] = a.accessTokens.map((t) =>
    row(
      `${backendName(t.resource)} access token`,
      h('span', {}, 'expires in ', h('time', { 'data-countdown': t.expiresOn, datetime: new Date(t.expiresOn).toISOString(), 'data-testid': `expiry-${t.resource}` }, formatCountdown(t.expiresOn - now))),
    ),
  );
  if (a.lastRefreshAt) rows.push(row('Last refresh', moment(a.lastRefreshAt, now)));
  if (a.nextRefreshAt) rows.push(row('Next refresh', moment(a.nextRefreshAt, now)));
  if (a.refreshTokenLapsesAt && a.state.kind !== 'needs-consent') {
    rows.push(row('Sign-in lasts until', h('time', { datetime: new Date(a.refreshTokenLapsesAt).toISOString(), 'data-testid': 'lapses' }, `${formatLocalDate(a.refreshTokenLapsesAt)} if unused`)));
  }
  return h('dl', { class: 'clock' }, ...rows);
}

function row(term: string, value: Node): HTMLElement {
  return h('div', { class: 'row' }, h('dt', {}, term), h('dd', {}, value));
}

function moment(at: number, now: number): HTMLElement {
  return h('time', { datetime: new Date(at).toISOString(), title: formatLocalTime(at), 'data-relative': at, 'data-template': '{}' }, formatRelative(at, now));
}

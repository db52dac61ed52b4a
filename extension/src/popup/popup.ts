// The popup: draws the service worker's snapshot at once, then every update it pushes; a
// one-second tick moves countdowns and "N s ago"; buttons ask the service worker and show
// any failure with its advice. Keyboard focus survives redraws (elements carry data-key).
import browser from 'webextension-polyfill';
import type { AccountStatus, ClientInfo } from '../../../shared/protocol';
import { ask } from '../lib/ask';
import { h } from '../lib/dom';
import { formatCount, formatCountdown, formatRelative } from '../lib/format';
import { toWireError, VIEW_PORT, type View, type ViewMessage } from '../lib/messages';
import { VIEWER_PAGE } from '../lib/pages';
import { accountCard, type CardActions } from './account-card';
import { companionPanel } from './companion-panel';
import { errorBox } from './error-box';

const $ = (id: string) => document.getElementById(id)!;
let current: View | null = null;

const actions: CardActions = {
  // A count older than asked (the server's back-off) says so in its card: status marks it stale.
  refresh: (account) => void run(`refresh:${account}`, 'Fetching the Inbox count…', () => ask({ type: 'refresh', account })),
  signOut: (account) => void run(`out:${account}`, `Signing out ${account}…`, () => ask({ type: 'signOut', account })),
  signIn: (loginHint) => void run(`again:${loginHint}`, 'Opening the sign-in page…', () => ask({ type: 'signIn', loginHint })),
};

/** Runs one button's request: disables the button, says what is happening, shows a failure. */
async function run(key: string, busyText: string, work: () => Promise<unknown>): Promise<void> {
  const button = document.querySelector<HTMLButtonElement>(`[data-key="${key}"]`);
  if (button) button.disabled = true;
  $('action-error').replaceChildren();
  $('busy').textContent = busyText;
  try {
    await work();
    $('busy').textContent = '';
  } catch (e) {
    $('busy').textContent = '';
    $('action-error').replaceChildren(errorBox(toWireError(e), 'action-error'));
  } finally {
    const again = document.querySelector<HTMLButtonElement>(`[data-key="${key}"]`);
    if (again) again.disabled = false;
  }
}

function render(view: View): void {
  const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
  const now = Date.now();
  announce(current, view);
  // The benchmark (test/bench/popup.bench.ts) times the popup from navigation to this mark.
  if (!current?.status?.accounts.some((a) => a.inbox) && view.status?.accounts.some((a) => a.inbox)) performance.mark('ews-daemon:counts-drawn');
  current = view;
  $('connection').replaceChildren(connectionPart(view));
  $('consent-notice').replaceChildren(consentPart(view) ?? '');
  const accounts = view.status?.accounts ?? [];
  $('accounts').replaceChildren(...accounts.map((a) => accountCard(a, now, actions)));
  $('no-account').hidden = !(view.status && accounts.length === 0);
  $('client-kind').textContent = view.status?.client ? clientWords(view.status.client) : '';
  $('sign-in').textContent = accounts.length > 0 ? 'Sign in another account' : 'Sign in';
  $('actions').hidden = view.connection.kind === 'failed' && view.connection.error.code === 'companion_missing';
  $('app').setAttribute('aria-busy', String(view.connection.kind === 'connecting' && !view.status));
  if (focusKey) document.querySelector<HTMLElement>(`[data-key="${focusKey}"]`)?.focus();
}

/** Which kind of app registration the daemon signs in with, in a person's words. */
function clientWords(c: ClientInfo): string {
  return c.kind === 'public' ? 'App: a public client (no secret; sign-in protected by PKCE).' : `App: a confidential client (with a ${c.credential === 'certificate' ? 'certificate' : 'client secret'}).`;
}

function connectionPart(view: View): Node {
  const c = view.connection;
  if (c.kind === 'connecting') return h('p', { class: 'muted', 'data-testid': 'connecting' }, 'Connecting to the companion…');
  if (c.kind === 'connected') return h('p', { class: 'muted', 'data-testid': 'connected' }, view.pendingConsents > 0 ? 'Waiting for you to finish signing in in the other tab.' : '');
  if (c.error.code === 'companion_missing') return companionPanel(view.install, c.error);
  const retry = c.nextAttemptAt ? h('p', { class: 'muted', 'data-relative': c.nextAttemptAt, 'data-clamp': true, 'data-template': 'Trying again {}.' }, `Trying again ${relative(c.nextAttemptAt, Date.now(), true)}.`) : '';
  return h('div', {}, errorBox(c.error, 'connection-error'), retry);
}

/** How long the outcome of the last sign-in stays in the popup, in ms: success briefly, failure long enough to come back to. */
const NOTICE_MS = { ok: 60_000, failed: 30 * 60_000 };

function consentPart(view: View): Node | null {
  const n = view.consent;
  if (!n || Date.now() - n.at > (n.kind === 'failed' ? NOTICE_MS.failed : NOTICE_MS.ok)) return null;
  if (n.kind === 'failed') return errorBox(n.error, 'consent-error', 'Sign-in did not finish');
  // A success that no longer holds (the grant lapsed since) would contradict the card below.
  if (n.kind === 'signed-in' && view.status?.accounts.find((a) => a.username === n.account)?.state.kind === 'needs-consent') return null;
  const text = n.kind === 'signed-in' ? `Signed in as ${n.account}.` : `An administrator approved the app for tenant ${n.tenant}.`;
  return h('p', { class: 'notice', 'data-testid': 'consent-ok' }, text);
}

/** Says new counts out loud (screen readers) when they change while the popup is open. */
function announce(before: View | null, after: View): void {
  if (!before) return;
  const said = (after.status?.accounts ?? []).filter((a) => a.inbox && countsChanged(before, a)).map((a) => `${a.username}: ${formatCount(a.inbox!.unread)} unread of ${formatCount(a.inbox!.total)}`);
  if (said.length > 0) $('announce').textContent = said.join('. ');
}

function countsChanged(before: View, a: AccountStatus): boolean {
  const old = before.status?.accounts.find((b) => b.username === a.username)?.inbox;
  return !old || old.total !== a.inbox!.total || old.unread !== a.inbox!.unread;
}

/** Moves countdowns and relative times without redrawing anything else. */
function tick(): void {
  const now = Date.now();
  for (const el of document.querySelectorAll<HTMLElement>('[data-countdown]')) el.textContent = formatCountdown(Number(el.dataset.countdown) - now);
  for (const el of document.querySelectorAll<HTMLElement>('[data-relative]')) {
    el.textContent = (el.dataset.template ?? '{}').replace('{}', relative(Number(el.dataset.relative), now, el.dataset.clamp !== undefined));
  }
}

/** formatRelative, or "now" for a moment already past when only the future makes sense. */
function relative(at: number, now: number, futureOnly: boolean): string {
  return futureOnly && at <= now ? 'now' : formatRelative(at, now);
}

$('sign-in').addEventListener('click', () => void run('sign-in', 'Opening the sign-in page…', () => ask({ type: 'signIn' })));
$('sign-in-admin').addEventListener('click', () => void run('sign-in-admin', 'Opening the administrator consent page…', () => ask({ type: 'signInAdmin' })));
$('open-viewer').addEventListener('click', () => void browser.tabs.create({ url: browser.runtime.getURL(VIEWER_PAGE) }));

const port = browser.runtime.connect({ name: VIEW_PORT });
port.onMessage.addListener((m: unknown) => {
  const message = m as ViewMessage;
  if (message?.type === 'view') render(message.view);
});
setInterval(tick, 1000);

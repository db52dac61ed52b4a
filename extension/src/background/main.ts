// The service worker's wiring: the companion client, the view store, the badge, the sign-in
// capture and the request table, joined to the browser's events. Listeners are added at the top
// level, as MV3 requires for events that wake a stopped worker; no dynamic import() here.
import browser from 'webextension-polyfill';
import { NATIVE_HOST_NAME } from '../../../shared/constants';
import { installHint } from '../lib/install-hint';
import { isRequest, toWireError, VIEW_PORT, type ViewMessage } from '../lib/messages';
import { CALLBACK_PAGE } from '../lib/pages';
import { badgeFor, badgePainter } from './badge';
import { ConsentCapture } from './consent-capture';
import { hostPermissionPattern } from './dnr-rule';
import { dispatch, makeHandlers } from './message-handlers';
import { NativeClient, type ClientEvent, type NativePort } from './native-port';
import { SignInNotice, type NotificationsApi } from './sign-in-notice';
import { ViewStore } from './view-store';

const log = (message: string, detail?: unknown) => console.info(`[ews-daemon] ${message}`, detail ?? '');
const timers = {
  setTimer: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimer: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};
const brands = (navigator as Navigator & { userAgentData?: { brands: Array<{ brand: string }> } }).userAgentData?.brands.map((b) => b.brand) ?? [];
const hint = installHint(brands, navigator.userAgent);

/** Chromium reports why a native port closed in runtime.lastError; Firefox in port.error. */
function disconnectReason(port: NativePort): string | undefined {
  const chromeGlobal = (globalThis as { chrome?: { runtime?: { lastError?: { message?: string } } } }).chrome;
  return (port as { error?: { message?: string } | null }).error?.message ?? chromeGlobal?.runtime?.lastError?.message;
}

const client = new NativeClient({ connect: () => browser.runtime.connectNative(NATIVE_HOST_NAME), disconnectReason, hint, log, ...timers });
const store = new ViewStore(browser.storage.session, hint);
const capture = new ConsentCapture({
  rpc: client,
  dnr: browser.declarativeNetRequest,
  tabs: browser.tabs as unknown as ConstructorParameters<typeof ConsentCapture>[0]['tabs'],
  hasHostPermission: (origin) => browser.permissions.contains({ origins: [hostPermissionPattern(origin)] }),
  storage: browser.storage.session,
  store,
  callbackPageUrl: browser.runtime.getURL(CALLBACK_PAGE),
  log,
  ...timers,
});
const handlers = makeHandlers({ client, capture, store, now: timers.now });
const paint = badgePainter(browser.action);

const notice = new SignInNotice({
  notifications: browser.notifications as unknown as NotificationsApi,
  iconUrl: browser.runtime.getURL('icons/icon-128.png'),
  signIn: (loginHint) => {
    store.setConsent(null);
    capture.begin({ loginHint, prompt: 'select_account' }).catch((e) => log('sign-in from the notification failed', String(e)));
  },
  log,
});

store.subscribe((view) => void paint(badgeFor(view)).catch((e) => log('painting the badge failed', String(e))));
store.subscribe((view) => view.status && notice.update(view.status));
client.on(onClientEvent);

function onClientEvent(e: ClientEvent): void {
  if (e.kind === 'connecting') {
    // Keep showing a failure (e.g. the install guidance) until a port really answers.
    if (store.current.connection.kind !== 'failed') store.setConnection({ kind: 'connecting' });
  } else if (e.kind === 'ready') {
    store.setConnection({ kind: 'connected' });
    store.setStatus(e.status, timers.now());
  } else if (e.kind === 'failed') {
    store.setConnection({ kind: 'failed', error: toWireError(e.error), nextAttemptAt: e.nextAttemptAt });
  } else if (e.notification.method === 'status.changed') {
    store.setStatus(e.notification.params, timers.now());
  } else {
    store.applyInbox(e.notification.params);
  }
}

/** Restores the last snapshot (badge and popup draw at once), then opens the companion link. */
const ready = (async () => {
  await store.restore().catch((e) => log('restoring the view failed', String(e)));
  await paint(badgeFor(store.current)).catch(() => undefined);
  client.ensureOpen();
  await capture.restore().catch((e) => log('restoring pending sign-ins failed', String(e)));
})();

browser.runtime.onMessage.addListener((message: unknown, sender: browser.Runtime.MessageSender) => {
  if (!isRequest(message)) return undefined;
  return ready.then(() => dispatch(handlers, message, sender));
});

/** Open popups (and viewers): while any is open, the daemon is told someone watches. */
let views = 0;

browser.runtime.onConnect.addListener((port) => {
  if (port.name !== VIEW_PORT) return;
  let unsubscribe: () => unknown = () => undefined;
  let closed = false;
  client.setWatching(++views > 0);
  port.onDisconnect.addListener(() => {
    closed = true;
    unsubscribe();
    client.setWatching(--views > 0);
  });
  const post = (view: ViewMessage['view']) => port.postMessage({ type: 'view', view } satisfies ViewMessage);
  void ready.then(() => {
    if (closed) return;
    post(store.current);
    unsubscribe = store.subscribe(post);
    client.ensureOpen();
    if (store.current.connection.kind === 'connected') {
      client.call('status').then((s) => store.setStatus(s, timers.now()), (e) => log('status on popup open failed', String(e)));
    }
  });
});

browser.tabs.onRemoved.addListener((tabId) => void capture.tabClosed(tabId));
// Waking the worker is enough: `ready` above runs on every start.
browser.runtime.onStartup.addListener(() => undefined);
browser.runtime.onInstalled.addListener(() => undefined);

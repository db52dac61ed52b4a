// Counts in real time in Chromium: with polling made as slow as it gets, a mailbox change still
// reaches the toolbar badge within seconds (EWS streaming → daemon → native host → badge), with
// no popup open; and an account that needs sign-in gets one desktop notification, cleared when
// it is signed in again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { NO_CHROMIUM, CHROMIUM, signInThroughPopup, startBrowserStack, type BrowserStack } from './harness';
import { waitForText, waitUntil } from './wait';

const ALICE = 'alice@contoso.example';
const NOTICE = `needs-sign-in:${ALICE}`;

describe.skipIf(!CHROMIUM)(`counts in real time, and the sign-in notification, in Chromium${NO_CHROMIUM && ` (${NO_CHROMIUM})`}`, () => {
  let b: BrowserStack;
  let popup: Page;

  const notifications = async () => (await b.serviceWorker()).evaluate(async () => Object.keys(await (globalThis as unknown as { chrome: { notifications: { getAll(): Promise<Record<string, boolean>> } } }).chrome.notifications.getAll()));

  beforeAll(async () => {
    // A day between polls: only a push can move the badge in this test.
    b = await startBrowserStack({ config: { pollIntervalSeconds: 86_400 } });
    popup = await b.openPopup();
    await signInThroughPopup(popup);
    await waitUntil('badge', () => b.badge(), (x) => x.text === '23');
  }, 90_000);
  afterAll(async () => b?.close());

  it('moves the badge on a mailbox change without the popup open and without polling', async () => {
    await popup.close();
    await waitUntil('one stream', async () => b.stack.emulator.admin.openStreams(ALICE), (n) => n === 1, 20_000);
    const status = await b.stack.json<{ accounts: { realtime: { kind: string } }[] }>(['status']);
    expect(status.accounts[0]?.realtime.kind).toBe('streaming');
    const started = Date.now();
    b.stack.emulator.admin.setMailbox(ALICE, { total: 4_820, unread: 26 });
    await waitUntil('badge', () => b.badge(), (x) => x.text === '26', 20_000);
    console.info(`mailbox change → badge: ${Date.now() - started} ms`);
  }, 60_000);

  it('shows one notification when the account needs sign-in, and clears it after signing in again', async () => {
    b.stack.emulator.admin.expireRefreshTokens(ALICE);
    await b.stack.cli(['token', '--force-refresh']);
    await waitUntil('badge', () => b.badge(), (x) => x.text === '!', 20_000);
    await waitUntil('the notification', notifications, (ids) => ids.includes(NOTICE), 20_000);
    expect(await notifications()).toEqual([NOTICE]);
    popup = await b.openPopup();
    const [tab] = await Promise.all([b.ctx.waitForEvent('page'), popup.click(`[data-account="${ALICE}"] [data-testid=sign-in-again]`)]);
    await tab.click('#accept');
    await waitForText(popup, `[data-account="${ALICE}"] [data-testid=state]`, 'Signed in', 20_000);
    await waitUntil('no notification', notifications, (ids) => ids.length === 0, 20_000);
  }, 90_000);
});

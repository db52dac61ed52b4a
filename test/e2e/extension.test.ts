// End to end in real Chromium: the built extension, the real native host and daemon (started
// by the browser through native messaging) and the Entra/EWS emulator with its consent page.
// One browser for the whole file, in the order a user meets things: no companion yet, install,
// sign in, live counts, the token viewer, a daemon restart, forged and refused sign-ins, a
// lapsed grant. Screenshots go to test-artifacts/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { alive } from '../support/stack';
import { CALLBACK_URL, CHROMIUM, NO_CHROMIUM, install, screenshot, signInThroughPopup, startBrowserStack, type BrowserStack } from './harness';
import { waitForText, waitUntil } from './wait';

const ALICE = 'alice@contoso.example';
const card = (user: string) => `[data-account="${user}"]`;

describe.skipIf(!CHROMIUM)(`the extension in Chromium with the real companion and the emulator${NO_CHROMIUM && ` (${NO_CHROMIUM})`}`, () => {
  let b: BrowserStack;
  let popup: Page;

  beforeAll(async () => {
    b = await startBrowserStack({ installCompanion: false });
  }, 90_000);
  afterAll(async () => {
    await b?.close();
  });

  it('shows the exact install command, and a red !, when the companion is not installed', async () => {
    popup = await b.openPopup();
    await waitForText(popup, '#install-command', 'ews-daemon install --browser chromium');
    expect(await popup.locator('#sign-in').isVisible()).toBe(false);
    await waitUntil('badge', () => b.badge(), (x) => x.text === '!');
    await screenshot(popup, 'popup-companion-missing');
  });

  it('connects once the companion is installed and the popup is reopened', async () => {
    await install(b.stack, b.profile);
    await popup.reload();
    await popup.locator('#sign-in').waitFor({ state: 'visible', timeout: 15_000 });
    await waitUntil('no-account note', () => popup.locator('#no-account').isVisible(), (v) => v);
  });

  it('signs in through the consent page, closes the tab, and shows the Inbox counts and the badge', async () => {
    const pagesBefore = b.ctx.pages().length;
    await signInThroughPopup(popup);
    expect(b.ctx.pages().length).toBe(pagesBefore);
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-total]`, '4,817');
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-unread]`, '23');
    await waitForText(popup, `${card(ALICE)} [data-testid=state]`, 'Signed in');
    await waitUntil('badge', () => b.badge(), (x) => x.text === '23');
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-fetched]`, /via EWS$/);
    await screenshot(popup, 'popup-signed-in');
    await popup.emulateMedia({ colorScheme: 'dark' });
    await screenshot(popup, 'popup-signed-in-dark');
    await popup.emulateMedia({ colorScheme: 'light' });
  });

  it('follows the mailbox when its counts change, without reopening the popup', async () => {
    await b.stack.emulator.admin.setMailbox(ALICE, { total: 4_820, unread: 26 });
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-unread]`, '26', 20_000);
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-total]`, '4,820');
    await waitUntil('badge', () => b.badge(), (x) => x.text === '26');
  });

  it('fetches the count at once on Refresh now', async () => {
    await b.stack.emulator.admin.setMailbox(ALICE, { total: 4_821, unread: 27 });
    await popup.click(`${card(ALICE)} [data-testid=refresh]`);
    // Well inside the daemon's 5 s poll: the click fetched it.
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-unread]`, '27', 2_500);
    await b.stack.emulator.admin.setMailbox(ALICE, { total: 4_820, unread: 26 });
    await popup.click(`${card(ALICE)} [data-testid=refresh]`);
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-unread]`, '26', 2_500);
  });

  it('says in the card when the mail server asks to wait, until a fresh count comes', async () => {
    b.stack.emulator.admin.failEws({ kind: 'busy-fault', backOffMs: 3_000 }, 1);
    const stale = `${card(ALICE)} [data-testid=inbox-stale]`;
    await popup.click(`${card(ALICE)} [data-testid=refresh]`);
    await waitForText(popup, stale, /^The mail server asked to wait: no newer count before \d\d:\d\d:\d\d\.$/);
    expect(await popup.locator(`${card(ALICE)} [data-testid=inbox-unread]`).textContent()).toBe('26'); // the last count, still shown
    // Refresh again until the wait is over: the fresh count takes the note away.
    await waitUntil('a fresh count', async () => {
      await popup.click(`${card(ALICE)} [data-testid=refresh]`);
      return popup.locator(stale).count();
    }, (n) => n === 0, 20_000);
  });

  it('can be used with the keyboard alone, with the focus visible', async () => {
    // A fresh popup, as when it is opened from the toolbar: Tab starts from the top.
    await popup.reload();
    await popup.locator(`${card(ALICE)} [data-testid=refresh]`).waitFor();
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      await popup.keyboard.press('Tab');
      order.push(await popup.evaluate(() => document.activeElement?.textContent ?? ''));
    }
    expect(order).toEqual(['Refresh now', 'Sign out', 'Sign in another account', 'Sign in as administrator', 'Token viewer']);
    expect(await popup.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    const [viewer] = await Promise.all([b.ctx.waitForEvent('page'), popup.keyboard.press('Enter')]);
    expect(viewer.url()).toContain('/src/viewer/index.html');
    await viewer.close();
  });

  it('shows decoded tokens in the viewer and never a token string', async () => {
    const [viewer] = await Promise.all([b.ctx.waitForEvent('page'), popup.click('#open-viewer')]);
    await viewer.locator('[data-testid=entry-access-token]').first().waitFor({ timeout: 15_000 });
    const text = await viewer.locator('body').innerText();
    expect(text).toContain('"aud"');
    expect(text).toContain('Refresh token');
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/);
    await screenshot(viewer, 'viewer', { viewport: true });
    await viewer.close();
  });

  it('stays signed in across a daemon restart, without a new sign-in', async () => {
    const before = await b.stack.daemonPid();
    await b.stack.stopDaemon('SIGTERM');
    const exited = !alive(before!);
    // Kill a daemon that hangs, so that one failure here does not fail the tests after it.
    if (!exited) await b.stack.stopDaemon('SIGKILL');
    expect(exited, 'the daemon should exit on SIGTERM even while the browser\'s native host is connected').toBe(true);
    const pagesBefore = b.ctx.pages().length;
    const again = await b.openPopup();
    await waitForText(again, `${card(ALICE)} [data-testid=state]`, 'Signed in', 20_000);
    await waitUntil('a new daemon', () => b.stack.daemonPid(), (pid) => pid !== null && pid !== before);
    await waitForText(again, `${card(ALICE)} [data-testid=inbox-unread]`, '26');
    expect(b.ctx.pages().length).toBe(pagesBefore + 1);
    await again.close();
  });

  it('refuses a forged callback and changes nothing', async () => {
    type Status = { accounts: Array<{ username: string; state: { kind: string }; lastRefreshAt: number | null }>; pendingConsents: number };
    const before = await b.stack.json<Status>(['status']);
    const forged = await b.ctx.newPage();
    await forged.goto(`${CALLBACK_URL}?code=forged&state=forged`);
    await waitForText(forged, '[data-testid=callback-error] .error-title', /unexpected address/);
    const after = await b.stack.json<Status>(['status']);
    expect(after.accounts.map((a) => a.username)).toEqual([ALICE]);
    expect(after.accounts[0]!.state.kind).not.toBe('needs-consent');
    expect(after.accounts[0]!.lastRefreshAt).toBe(before.accounts[0]!.lastRefreshAt);
    expect(after.pendingConsents).toBe(0);
    await forged.close();
  });

  it('leaves the Reply URL alone in a tab the extension did not open', async () => {
    const tab = await b.ctx.newPage();
    const requests: Request[] = [];
    tab.on('request', (r) => requests.push(r));
    // Whether or not anything listens on the Reply URL's port, the request must go there as it is.
    await tab.goto('http://localhost:53100/callback?code=x&state=y').catch(() => undefined);
    const reply = requests.find((r) => r.url().startsWith('http://localhost:53100/callback'));
    expect(reply, 'the tab asked for the Reply URL').toBeDefined();
    expect(reply!.redirectedTo()).toBeNull();
    expect(tab.url()).not.toMatch(/^chrome-extension:/);
    await tab.close();
  });

  it('explains a declined consent', async () => {
    await signInThroughPopup(popup, { action: 'cancel' });
    const box = `[data-testid=consent-error]`;
    await popup.locator(box).waitFor({ timeout: 15_000 });
    expect(await popup.locator(box).getAttribute('data-code')).toBe('consent_denied');
    expect((await popup.locator(`${box} [data-testid=error-advice]`).textContent())!.length).toBeGreaterThan(10);
  });

  it('explains a user who is not assigned to the app', async () => {
    await signInThroughPopup(popup, { user: 'bob@contoso.example' });
    const box = `[data-testid=consent-error]`;
    await waitUntil('consent error code', () => popup.locator(box).getAttribute('data-code'), (c) => c === 'user_not_assigned');
    await waitForText(popup, `${box} [data-testid=aadsts]`, 'AADSTS50105');
    await screenshot(popup, 'popup-user-not-assigned');
  });

  it('asks for sign-in when the refresh token lapses, and Sign in recovers', async () => {
    const { admin } = b.stack.emulator;
    await admin.setLifetimes({ accessTokenSeconds: 8 });
    await signInThroughPopup(popup);
    await admin.expireRefreshTokens(ALICE);
    // The refresher finds it at its next renewal (30 s at the soonest after a sign-in): with EWS
    // streaming, no 5 s poll asks for a token earlier.
    await waitForText(popup, `${card(ALICE)} [data-testid=state]`, /^Sign-in needed/, 60_000);
    await waitUntil('badge', () => b.badge(), (x) => x.text === '!');
    // One error box, Entra's reason, with its advice: not the same error twice.
    const boxes = () => popup.locator(`${card(ALICE)} [data-testid=last-error]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-code')));
    await waitUntil('the reason shown once', boxes, (codes) => codes.length === 1 && codes[0] === 'needs_consent');
    await screenshot(popup, 'popup-needs-consent');
    await admin.setLifetimes({ accessTokenSeconds: 3_600 });
    const [tab] = await Promise.all([b.ctx.waitForEvent('page'), popup.click(`${card(ALICE)} [data-testid=sign-in-again]`)]);
    await tab.click('#accept');
    await waitForText(popup, `${card(ALICE)} [data-testid=state]`, 'Signed in', 20_000);
    await waitUntil('badge', () => b.badge(), (x) => x.text === '26');
  }, 120_000);

  it('lets an administrator approve the app for the whole tenant', async () => {
    await signInThroughPopup(popup, { admin: true, user: 'admin@contoso.example' });
    await waitForText(popup, '[data-testid=consent-ok]', /An administrator approved the app for tenant/);
  });

  it('signs out: the account leaves the popup and the badge', async () => {
    await popup.click(`${card(ALICE)} [data-testid=sign-out]`);
    await popup.locator('#no-account').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await popup.locator(card(ALICE)).count()).toBe(0);
    await waitUntil('badge', () => b.badge(), (x) => x.text === '');
    const status = await b.stack.json<{ accounts: unknown[] }>(['status']);
    expect(status.accounts).toEqual([]);
  });
});

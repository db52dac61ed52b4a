// Two accounts side by side in real Chromium: "Sign in another account" adds carol beside alice
// without touching her, each gets its own card (counts, state, backend, buttons), the badge
// adds their unread and its tooltip names each; signing carol out leaves alice as she was, and
// after a daemon restart alice is still there, alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { alive } from '../support/stack';
import { NO_CHROMIUM, CHROMIUM, screenshot, signInThroughPopup, startBrowserStack, type BrowserStack } from './harness';
import { waitForText, waitUntil } from './wait';

const ALICE = 'alice@contoso.example';
const CAROL = 'carol@contoso.example';
const card = (user: string) => `[data-account="${user}"]`;

describe.skipIf(!CHROMIUM)(`two accounts in the popup${NO_CHROMIUM && ` (${NO_CHROMIUM})`}`, () => {
  let b: BrowserStack;
  let popup: Page;

  beforeAll(async () => {
    b = await startBrowserStack();
  }, 90_000);
  afterAll(async () => {
    await b?.close();
  });

  it('adds a second account with "Sign in another account", each with its own card, the badge adding both', async () => {
    popup = await b.openPopup();
    await popup.locator('#sign-in').waitFor({ state: 'visible', timeout: 15_000 });
    await signInThroughPopup(popup);
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-unread]`, '23');
    await waitForText(popup, '#sign-in', 'Sign in another account');
    const aliceExpiry = await popup.locator(`${card(ALICE)} [data-testid=expiry-ews]`).getAttribute('datetime');
    await signInThroughPopup(popup, { user: CAROL });
    await waitForText(popup, `${card(CAROL)} [data-testid=inbox-total]`, '230');
    await waitForText(popup, `${card(CAROL)} [data-testid=inbox-unread]`, '7');
    await waitForText(popup, `${card(CAROL)} [data-testid=state]`, 'Signed in');
    await waitForText(popup, `${card(CAROL)} [data-testid=inbox-fetched]`, /via EWS$/);
    // Alice's card is as it was: same counts, same access token.
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-total]`, '4,817');
    expect(await popup.locator(`${card(ALICE)} [data-testid=expiry-ews]`).getAttribute('datetime')).toBe(aliceExpiry);
    const badge = await waitUntil('badge', () => b.badge(), (x) => x.text === '30');
    expect(badge.title).toContain(`${ALICE} 23`);
    expect(badge.title).toContain(`${CAROL} 7`);
    await screenshot(popup, 'popup-two-accounts');
  });

  it("refreshes one account with its own button; one account's lapsed grant turns the badge to ! naming it", async () => {
    await b.stack.emulator.admin.setMailbox(CAROL, { total: 231, unread: 8 });
    await popup.click(`${card(CAROL)} [data-testid=refresh]`);
    await waitForText(popup, `${card(CAROL)} [data-testid=inbox-unread]`, '8', 2_500);
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-unread]`, '23');
    await waitUntil('badge', () => b.badge(), (x) => x.text === '31');
    // Carol's grant lapses: the badge turns to ! and names her, alice's card stays signed in.
    await b.stack.emulator.admin.expireRefreshTokens(CAROL);
    expect((await b.stack.cli(['token', '--account', CAROL, '--force-refresh'])).code).toBe(3);
    await waitForText(popup, `${card(CAROL)} [data-testid=state]`, 'Sign-in needed');
    const badge = await waitUntil('badge', () => b.badge(), (x) => x.text === '!');
    expect(badge.title).toBe(`ews-daemon: sign-in needed for ${CAROL}`);
    await waitForText(popup, `${card(ALICE)} [data-testid=state]`, 'Signed in');
  });

  it("signs one account out and leaves the other's card, counts and badge", async () => {
    await popup.click(`${card(CAROL)} [data-testid=sign-out]`);
    await popup.locator(card(CAROL)).waitFor({ state: 'detached', timeout: 15_000 });
    await waitForText(popup, `${card(ALICE)} [data-testid=inbox-unread]`, '23');
    await waitForText(popup, `${card(ALICE)} [data-testid=state]`, 'Signed in');
    await waitUntil('badge', () => b.badge(), (x) => x.text === '23' && !x.title.includes(CAROL));
  });

  it('keeps the remaining account across a daemon restart', async () => {
    const before = await b.stack.daemonPid();
    await b.stack.stopDaemon('SIGTERM');
    if (before !== null && alive(before)) await b.stack.stopDaemon('SIGKILL');
    const again = await b.openPopup();
    await waitUntil('a new daemon', () => b.stack.daemonPid(), (pid) => pid !== null && pid !== before, 20_000);
    await waitForText(again, `${card(ALICE)} [data-testid=state]`, 'Signed in', 20_000);
    await waitForText(again, `${card(ALICE)} [data-testid=inbox-unread]`, '23');
    expect(await again.locator('[data-account]').count()).toBe(1);
    await again.close();
  });
});

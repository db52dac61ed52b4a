// A public client in real Chromium: a config with no secret and a Reply URL of the "Mobile and
// desktop applications" platform (http://localhost:PORT, path "/"); the popup signs in through
// the emulator's consent page, the extension catches the path-less Reply URL, and the popup
// says which kind of app this is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { StatusResult, TokensViewResult } from '../../shared/protocol';
import { NO_CHROMIUM, CHROMIUM, signInThroughPopup, startBrowserStack, type BrowserStack } from './harness';
import { waitForText, waitUntil } from './wait';

const card = '[data-account="alice@contoso.example"]';

describe.skipIf(!CHROMIUM)(`a public client in Chromium${NO_CHROMIUM && ` (${NO_CHROMIUM})`}`, () => {
  let b: BrowserStack;
  let popup: Page;

  beforeAll(async () => {
    // 53100 is the default; another port shows the port really is ignored by the registration.
    b = await startBrowserStack({ config: { clientSecret: undefined, redirectUri: 'http://localhost:53111' } });
  }, 90_000);
  afterAll(async () => {
    await b?.close();
  });

  it('signs in without a secret and shows the counts, the badge and the kind of app', async () => {
    popup = await b.openPopup();
    await popup.locator('#sign-in').waitFor({ state: 'visible', timeout: 15_000 });
    await waitForText(popup, '[data-testid=client-kind]', 'App: a public client (no secret; sign-in protected by PKCE).');
    await signInThroughPopup(popup);
    await waitForText(popup, `${card} [data-testid=inbox-total]`, '4,817');
    await waitForText(popup, `${card} [data-testid=inbox-unread]`, '23');
    await waitUntil('badge', () => b.badge(), (x) => x.text === '23');
    const status = await b.stack.json<StatusResult>(['status']);
    expect(status.client).toMatchObject({ kind: 'public', credential: 'none' });
    const tokens = await b.stack.json<TokensViewResult>(['tokens']);
    // Every access token says its client proved nothing but PKCE (appidacr 0: a public client).
    const acrs = tokens.entries.filter((e) => e.kind === 'access-token').map((e) => e.jwt?.claims.appidacr);
    expect(acrs.length).toBeGreaterThan(0);
    expect(new Set(acrs)).toEqual(new Set(['0']));
  });
});

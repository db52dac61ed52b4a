// The Firefox add-on end to end in a real Firefox ESR: installed as a temporary add-on, the
// companion installed for Firefox under a private HOME (Firefox starts the native host from
// there), a sign-in from the popup through the emulator's consent page, caught by the add-on's
// declarativeNetRequest rule, and the popup then showing the Inbox counts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, alive, startStack, type Stack } from '../support/stack';
import { ARTIFACTS, POPUP_VIEWPORT } from '../e2e/harness';
import { waitUntil } from '../e2e/wait';
import { ADDON_ORIGIN, FIREFOX, NO_FIREFOX, launchFirefox, type Firefox, type Tab } from './firefox';

/** The test flavour of the add-on (vite --mode test): it lets the emulator's sign-in pages reach the callback page. */
const DIST = path.join(REPO, 'extension', 'dist-firefox-test');
const POPUP_URL = `${ADDON_ORIGIN}/src/popup/index.html`;
const ALICE = 'alice@contoso.example';
const card = `[data-account="${ALICE}"]`;
const run = promisify(execFile);

/** Builds what the test loads: the host bundles when `npm run build` has not, and the add-on's test flavour (nothing else builds it). */
async function ensureBuilt(): Promise<void> {
  if (!existsSync(path.join(REPO, 'host', 'dist', 'ews-daemon.mjs'))) await run(process.execPath, [path.join(REPO, 'scripts', 'build-host.mjs')], { cwd: REPO });
  await run(process.execPath, [path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'extension/vite.firefox.config.ts', '--mode', 'test', '--logLevel', 'error'], {
    cwd: REPO,
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
}

const text = (tab: Tab, selector: string, want: string | RegExp) =>
  waitUntil(`${selector} in the popup`, () => tab.text(selector), (t) => (typeof want === 'string' ? t === want : want.test(t ?? '')));

describe.skipIf(!FIREFOX)(`the Firefox add-on in Firefox with the real companion and the emulator${NO_FIREFOX && ` (${NO_FIREFOX})`}`, () => {
  let stack: Stack;
  let ff: Firefox | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    stack = await startStack({ emulator: { consentMode: 'page' }, config: { pollIntervalSeconds: 5 } });
    // Firefox reads ~/.mozilla/native-messaging-hosts from $HOME: a private one, for install and for Firefox.
    const home = path.join(stack.home, 'user-home');
    await fs.mkdir(home, { mode: 0o700 });
    const r = await stack.cli(['install', '--browser', 'firefox'], { env: { HOME: home } });
    if (r.code !== 0) throw new Error(`ews-daemon install --browser firefox exited ${r.code}: ${r.stderr}${r.stdout}`);
    ff = await launchFirefox({ profile: path.join(stack.home, 'firefox-profile'), env: { ...stack.env, HOME: home }, addonDir: DIST, logFile: path.join(ARTIFACTS, 'firefox-browser.log') });
  }, 60_000);

  afterAll(async () => {
    const pid = await stack?.daemonPid();
    await ff?.close();
    await fs.mkdir(ARTIFACTS, { recursive: true });
    if (stack) await fs.copyFile(path.join(stack.home, 'daemon.log'), path.join(ARTIFACTS, 'firefox-daemon.log')).catch(() => undefined);
    await stack?.close();
    // stack.close() gives the daemon 5 s after SIGTERM; never leave one behind.
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('signs in from the popup through the consent page, closes the tab, and shows the Inbox counts', async () => {
    const popup = await ff!.newTab(POPUP_URL);
    await popup.setViewport(POPUP_VIEWPORT.width, POPUP_VIEWPORT.height);
    await waitUntil('the Sign in button', () => popup.evaluate<boolean>(`!!document.querySelector('#sign-in')?.checkVisibility()`), (v) => v);

    const consentTab = ff!.nextTab();
    await popup.click('#sign-in');
    const consent = await consentTab;
    await consent.click('#accept');
    await ff!.tabClosed(consent.context, 20_000);

    await text(popup, `${card} [data-testid=inbox-total]`, '4,817');
    await text(popup, `${card} [data-testid=inbox-unread]`, '23');
    await text(popup, `${card} [data-testid=state]`, 'Signed in');
    await text(popup, `${card} [data-testid=inbox-fetched]`, /via EWS$/);
    expect([...(await ff!.openTabs()).values()]).toEqual(['about:home', POPUP_URL]);
    await popup.screenshot('body', path.join(ARTIFACTS, 'firefox-popup.png'));
  });
});

// The product's main job on its embedded default, in one command: the emulator and a daemon in
// their own temporary home, the companion installed for a private Chromium profile, Chromium
// with the extension (headed when DISPLAY is set), a sign-in through the emulator's consent
// page, then the Inbox count the popup shows and screenshots of the popup and the token viewer.
// No Chromium-family browser here: as root with apt-get, Debian's chromium is installed first;
// otherwise the demo runs everything but the browser (scripts/demo-headless.ts) and ends with
// the command that adds it. Everything it started is stopped and removed at the end, on failure
// and on Ctrl-C.
import path from 'node:path';
import { ensureBrowsers, installHint } from './browsers.mjs';
import { headlessDemo } from './demo-headless';
import { screenshot, signInThroughPopup, startBrowserStack, type BrowserStack } from '../test/e2e/harness';
import { waitForText, waitUntil } from '../test/e2e/wait';
import type { Stack } from '../test/support/stack';

const USER = 'alice@contoso.example';
/** How long a headed browser stays open after the sign-in, so it can be looked at (seconds). */
const LINGER_SECONDS = Number(process.env.DEMO_LINGER_SECONDS ?? (process.env.DISPLAY ? 8 : 0));

const say = (line = '') => process.stdout.write(`${line}\n`);
let starting: Promise<BrowserStack> | null = null;
/** What the browserless demo started, to stop on the way out. */
const stacks: Stack[] = [];
let interrupted = false;
let closing: Promise<void> | null = null;

function cleanUp(): Promise<void> {
  closing ??= (async () => {
    const b = await starting?.catch(() => null);
    await b?.close();
    await Promise.all(stacks.map((s) => s.close()));
  })();
  return closing;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`\n${signal}: stopping the browser, the daemon and the emulator…`);
    void cleanUp().finally(() => process.exit(code));
  });
}

async function browserDemo(): Promise<void> {
  const headless = !process.env.DISPLAY;
  say(`Starting the Entra/EWS emulator, a daemon home and Chromium (${headless ? 'headless: no DISPLAY' : 'headed'}) with the extension…`);
  starting = startBrowserStack({ headless, playwrightHandlesSignals: false });
  const b = await starting;
  say(`  emulator   ${b.stack.emulator.url}`);
  say(`  daemon home ${b.stack.home} (config, token cache, socket, log)`);

  const popup = await b.openPopup();
  say(`Signing in as ${USER}: Sign in in the popup, Accept on the emulator's consent page…`);
  await signInThroughPopup(popup);
  const card = `[data-account="${USER}"]`;
  const total = await waitForText(popup, `${card} [data-testid=inbox-total]`, /\d/);
  const unread = await waitForText(popup, `${card} [data-testid=inbox-unread]`, /\d/);
  const fetched = await waitForText(popup, `${card} [data-testid=inbox-fetched]`, /via/);
  const badge = await waitUntil('badge', () => b.badge(), (x) => x.text !== '');
  say('');
  say(`The popup shows: ${USER}, Inbox ${total} items, ${unread} unread (${fetched}); the toolbar badge says ${badge.text}.`);

  const shots = [await screenshot(popup, 'demo/popup')];
  const [viewer] = await Promise.all([b.ctx.waitForEvent('page'), popup.click('#open-viewer')]);
  await viewer.locator('[data-testid=entry-access-token]').first().waitFor({ timeout: 15_000 });
  shots.push(await screenshot(viewer, 'demo/viewer', { viewport: true }));
  say(`Screenshots: ${shots.map((s) => path.relative(process.cwd(), s)).join(', ')}`);
  if (LINGER_SECONDS > 0) {
    say(`Leaving the browser open for ${LINGER_SECONDS} s…`);
    await new Promise((r) => setTimeout(r, LINGER_SECONDS * 1000));
  }
}

function realTenant(): void {
  say('');
  say('To use it with your own tenant (README, "Use with your tenant"):');
  say('  1. Register a Web app in Entra ID with Reply URL http://localhost:53100/callback, the delegated');
  say('     permissions EWS.AccessAsUser.All and Mail.ReadBasic, and a client secret or certificate.');
  say('  2. Write ~/.config/ews-daemon/config.json: { "clientId": "…", "tenant": "contoso.com", "clientSecretFile": "…" }');
  say('  3. npm run build && host/bin/ews-daemon install, load extension/dist unpacked, and click Sign in');
  say('     (or, without a browser: host/bin/ews-daemon consent --listen, then host/bin/ews-daemon inbox).');
}

const { found, missing } = ensureBrowsers(['chromium'], say);
let exitCode = 0;
try {
  if (found.chromium) await browserDemo();
  else {
    say(`${missing.chromium}: the demo runs everything but the browser.`);
    await headlessDemo(say, stacks);
  }
} catch (e) {
  exitCode = 1;
  // After Ctrl-C the browser goes away under main(): that is not a failure to report.
  if (!interrupted) say(`\nThe demo failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  if (!interrupted) say(`Cleaning up (${found.chromium ? 'Chromium, ' : ''}daemon, emulator, temporary folders)…`);
  await cleanUp();
}
if (!interrupted) realTenant();
if (!interrupted && !found.chromium && exitCode === 0) {
  say('');
  say('The browser part (the extension signing in, the popup, the badge) needs Chromium. Add it, then run the demo again:');
  say(`  ${installHint(['chromium'])} && npm run demo`);
}
process.exit(interrupted ? 130 : exitCode);

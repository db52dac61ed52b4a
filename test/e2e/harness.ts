// The whole product in a real browser: the integration stack (emulator + private
// EWS_DAEMON_HOME + the real CLI and daemon, test/support/stack.ts), the companion installed
// for a private Chromium profile, and Chromium with the built extension. The daemon is started
// by the native host, as it is for a user. Used by the e2e tests and by `npm run demo`.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { X509Certificate, createHash } from 'node:crypto';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core';
import { EXTENSION_ID } from '../../shared/constants';
import { installHint, locate } from '../../scripts/browsers.mjs';
import { alive, REPO, startStack, type Stack } from '../support/stack';

/** The test flavour of the extension (vite --mode test): it lets the emulator's sign-in pages reach the callback page. */
export const EXTENSION_DIR = path.join(REPO, 'extension', 'dist-test');
export const ARTIFACTS = path.join(REPO, 'test-artifacts');
const found = locate('chromium');
/** The Chromium-family browser the tests and the demo drive ($CHROMIUM, else the first found), or null. */
export const CHROMIUM = found.path;
/** Why the browser tests cannot run here, for their names and `npm test`'s closing lines; '' when they can. */
export const NO_CHROMIUM = found.path ? '' : `skipped: ${found.problem}; add it with \`${installHint(['chromium'])}\` or set CHROMIUM`;
export const POPUP_URL = `chrome-extension://${EXTENSION_ID}/src/popup/index.html`;
export const VIEWER_URL = `chrome-extension://${EXTENSION_ID}/src/viewer/index.html`;
export const CALLBACK_URL = `chrome-extension://${EXTENSION_ID}/src/callback/index.html`;
/** The popup's size in the toolbar: what screenshots show. */
export const POPUP_VIEWPORT = { width: 380, height: 640 };
/** A tab's size for the token viewer's screenshots. */
export const VIEWER_VIEWPORT = { width: 1000, height: 900 };

const run = promisify(execFile);

export interface StartOptions {
  /** Install the native-messaging manifest into the profile (default true). */
  installCompanion?: boolean;
  /** Default: headless unless HEADED=1. */
  headless?: boolean;
  /**
   * Let Playwright close Chromium and exit on Ctrl-C (its default). The demo says false and
   * cleans up itself: Playwright's handler exits before the daemon and the emulator are stopped.
   */
  playwrightHandlesSignals?: boolean;
  /** Extra daemon config keys (pollIntervalSeconds is 5 here, the least allowed, so events come fast). */
  config?: Record<string, unknown>;
  /** The unpacked extension Chromium loads (default EXTENSION_DIR). */
  extensionDir?: string;
  /** The ews-daemon launcher the stack runs, and whose install registers the companion (default the checkout's). */
  launcher?: string;
}

export interface BrowserStack {
  stack: Stack;
  ctx: BrowserContext;
  profile: string;
  serviceWorker(): Promise<Worker>;
  openPopup(): Promise<Page>;
  badge(): Promise<{ text: string; title: string }>;
  close(): Promise<void>;
}

/**
 * Builds the extension once per process (only these tests load it), and the host bundles only
 * when missing: other test files run the host from host/dist at the same time, as
 * test/support/stack.ts does, so it is built by `npm run build` beforehand, not under them.
 */
let built: Promise<void> | null = null;
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const hostBuilt = await fs.stat(path.join(REPO, 'host', 'dist', 'ews-daemon.mjs')).then(() => true, () => false);
    if (!hostBuilt) await run(process.execPath, [path.join(REPO, 'scripts', 'build-host.mjs')], { cwd: REPO });
    await run(process.execPath, [path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'extension/vite.config.ts', '--mode', 'test', '--logLevel', 'error'], {
      cwd: REPO,
      env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
    });
  })();
  return built;
}

export async function startBrowserStack(opts: StartOptions = {}): Promise<BrowserStack> {
  // An extension from elsewhere (an installed package) needs nothing of this checkout built.
  if (!opts.extensionDir) await ensureBuilt();
  const stack = await startStack({ emulator: { consentMode: 'page' }, config: { pollIntervalSeconds: 5, ...opts.config }, launcher: opts.launcher });
  const profile = path.join(stack.home, 'chromium-profile');
  await fs.mkdir(profile, { recursive: true, mode: 0o700 });
  try {
    if (opts.installCompanion !== false) await install(stack, profile);
    const ctx = await launch(stack, profile, opts.headless ?? process.env.HEADED !== '1', opts.playwrightHandlesSignals ?? true, opts.extensionDir ?? EXTENSION_DIR);
    await recordBrowser(ctx);
    return browserStack(stack, ctx, profile);
  } catch (e) {
    await stack.close();
    throw e;
  }
}

/** `ews-daemon install --browser chromium --user-data-dir PROFILE`, as a user runs it. */
export async function install(stack: Stack, profile: string): Promise<void> {
  const r = await stack.cli(['install', '--browser', 'chromium', '--user-data-dir', profile]);
  if (r.code !== 0) throw new Error(`ews-daemon install exited ${r.code}: ${r.stderr}${r.stdout}`);
}

async function launch(stack: Stack, profile: string, headless: boolean, handleSignals: boolean, extensionDir: string): Promise<BrowserContext> {
  // Looked up again: the demo may have installed Chromium since this module was loaded.
  const executablePath = CHROMIUM ?? locate('chromium').path;
  if (!executablePath) throw new Error(NO_CHROMIUM);
  const spki = await emulatorSpkiHashes(stack.emulator.url, stack.emulator.caPem);
  return chromium.launchPersistentContext(profile, {
    executablePath,
    headless,
    handleSIGINT: handleSignals,
    handleSIGTERM: handleSignals,
    handleSIGHUP: handleSignals,
    // The native host, and the daemon it starts, inherit the browser's environment.
    env: stack.env,
    viewport: POPUP_VIEWPORT,
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Trust the emulator's certificate and no other: Chromium on Linux reads CAs from an NSS
      // database, which needs certutil; this flag names the emulator's keys instead.
      `--ignore-certificate-errors-spki-list=${spki.join(',')}`,
    ],
  });
}

/** base64(sha256(SPKI)) of the emulator's CA and of the certificate it serves. */
async function emulatorSpkiHashes(url: string, caPem: string): Promise<string[]> {
  const hash = (cert: X509Certificate) => createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const { hostname, port } = new URL(url);
  const leaf = await new Promise<Buffer>((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), servername: hostname === '127.0.0.1' ? undefined : hostname, ca: caPem }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(raw);
    });
    socket.on('error', reject);
  });
  return [hash(new X509Certificate(caPem)), hash(new X509Certificate(leaf))];
}

/** Writes what the browser did (tabs, navigations, crashes, service-worker console) to test-artifacts/e2e-browser.log. */
async function recordBrowser(ctx: BrowserContext): Promise<void> {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, 'e2e-browser.log');
  await fs.writeFile(file, '');
  const t0 = Date.now();
  const note = (line: string) => void fs.appendFile(file, `${String(Date.now() - t0).padStart(7)} ms  ${line}\n`).catch(() => undefined);
  const watchPage = (p: Page) => {
    note(`tab opened ${p.url()}`);
    p.on('framenavigated', (f) => f === p.mainFrame() && note(`  → ${f.url().slice(0, 160)}`));
    p.on('crash', () => note(`  CRASHED ${p.url()}`));
    p.on('close', () => note(`tab closed ${p.url().slice(0, 100)}`));
  };
  const watchWorker = (w: Worker) => w.on('console', (m) => note(`sw: ${m.text()}`));
  ctx.pages().forEach(watchPage);
  ctx.serviceWorkers().forEach(watchWorker);
  ctx.on('page', watchPage);
  ctx.on('serviceworker', watchWorker);
}

function browserStack(stack: Stack, ctx: BrowserContext, profile: string): BrowserStack {
  const serviceWorker = async () => ctx.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`)) ?? ctx.waitForEvent('serviceworker');
  return {
    stack,
    ctx,
    profile,
    serviceWorker,
    async openPopup() {
      const page = await ctx.newPage();
      await page.goto(POPUP_URL);
      return page;
    },
    async badge() {
      const sw = await serviceWorker();
      return sw.evaluate(async () => {
        const action = (globalThis as unknown as { chrome: { action: { getBadgeText(d: object): Promise<string>; getTitle(d: object): Promise<string> } } }).chrome.action;
        return { text: await action.getBadgeText({}), title: await action.getTitle({}) };
      });
    },
    async close() {
      const pid = await stack.daemonPid();
      await ctx.close().catch(() => undefined);
      // Keep the daemon's log beside the screenshots: it explains a failed run.
      await fs.mkdir(ARTIFACTS, { recursive: true });
      await fs.copyFile(path.join(stack.home, 'daemon.log'), path.join(ARTIFACTS, 'e2e-daemon.log')).catch(() => undefined);
      await stack.close();
      // stack.close() gives the daemon 5 s after SIGTERM; never leave one behind.
      if (pid !== null && alive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

export interface SignInOptions {
  /** Typed into the consent page's username field (default: the emulator's alice). */
  user?: string;
  action?: 'accept' | 'cancel';
  admin?: boolean;
}

/** Clicks Sign in in the popup, then Accept (or Cancel) on the emulator's page; resolves when the tab has closed. */
export async function signInThroughPopup(popup: Page, o: SignInOptions = {}): Promise<void> {
  const ctx = popup.context();
  const [tab] = await Promise.all([ctx.waitForEvent('page'), popup.click(o.admin ? '#sign-in-admin' : '#sign-in')]);
  await tab.waitForSelector('#accept');
  if (o.user) await tab.fill('#username', o.user);
  const closed = tab.waitForEvent('close', { timeout: 20_000 });
  await tab.click(o.action === 'cancel' ? '#cancel' : '#accept');
  await closed;
}

/**
 * Saves a screenshot to test-artifacts/NAME.png (NAME may hold a folder) and returns the path:
 * the popup's whole content, or (viewport) what a tab of VIEWER_VIEWPORT shows.
 */
export async function screenshot(page: Page, name: string, o: { viewport?: boolean } = {}): Promise<string> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (o.viewport) {
    await page.setViewportSize(VIEWER_VIEWPORT);
    await page.screenshot({ path: file });
  } else {
    await page.locator('body').screenshot({ path: file });
  }
  return file;
}

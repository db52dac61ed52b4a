// A real Firefox (Debian's firefox-esr) for end-to-end tests, driven over WebDriver BiDi: a fresh
// headless profile, the built add-on installed as a temporary add-on at a fixed moz-extension
// UUID, and tabs a test can read, click and photograph. close() always leaves no process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FIREFOX_ADDON_ID } from '../../shared/constants';
import { installHint, locate } from '../../scripts/browsers.mjs';
import { Bidi } from './bidi';

const found = locate('firefox');
/** The Firefox the add-on's test drives ($FIREFOX, else firefox-esr or firefox), or null. */
export const FIREFOX = found.path;
/** Why the Firefox test cannot run here; '' when it can. */
export const NO_FIREFOX = found.path ? '' : `skipped: ${found.problem}; add it with \`${installHint(['firefox'])}\` or set FIREFOX`;
/** The add-on's moz-extension host, fixed by pref so the test knows its pages' addresses. */
export const ADDON_UUID = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
export const ADDON_ORIGIN = `moz-extension://${ADDON_UUID}`;
/** Firefox's start-up to its "WebDriver BiDi listening" line, in ms; a cold start takes ~2 s. */
const START_TIMEOUT_MS = 30_000;
/** How long Firefox gets to quit after browser.close before it is killed, in ms. */
const QUIT_TIMEOUT_MS = 5_000;

/**
 * Prefs for a quiet test profile: the add-on's UUID; no first-run pages, update checks,
 * telemetry or default-browser prompt. The remote agent adds its own recommended prefs.
 */
const PREFS: Record<string, string | number | boolean> = {
  'extensions.webextensions.uuids': JSON.stringify({ [FIREFOX_ADDON_ID]: ADDON_UUID }),
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'app.update.enabled': false,
  'app.update.auto': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.proxy.type': 0,
};

export interface FirefoxOptions {
  /** The profile folder to create; the caller removes it. */
  profile: string;
  /** The environment of Firefox and of the native host it starts (HOME decides where it looks for host manifests). */
  env: Record<string, string>;
  /** The unpacked add-on to install as a temporary add-on. */
  addonDir: string;
  /** Where to write what the browser did (tabs opened, navigations, closes): it explains a failed run. */
  logFile: string;
}

export interface Firefox {
  bidi: Bidi;
  /** Top-level browsing contexts (tabs) open now: id → URL. */
  openTabs(): Promise<Map<string, string>>;
  newTab(url: string): Promise<Tab>;
  tab(context: string): Tab;
  /** Resolves with the next tab the browser opens, other than through newTab. */
  nextTab(timeoutMs?: number): Promise<Tab>;
  /** Resolves when the tab is gone. */
  tabClosed(context: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function launchFirefox(o: FirefoxOptions): Promise<Firefox> {
  if (!FIREFOX) throw new Error(NO_FIREFOX);
  await fs.mkdir(o.profile, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(o.profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  // --remote-allow-system-access: without it WebDriver BiDi refuses to navigate to moz-extension
  // pages ("not allowed in this context"), and the popup is one. Port 0: Firefox picks one and
  // prints it. Detached: its own process group, so close() can end Firefox's children with it.
  const args = ['-headless', '-no-remote', '-profile', o.profile, '--remote-debugging-port=0', '--remote-allow-system-access'];
  const child = spawn(FIREFOX, args, {
    env: { ...o.env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  try {
    const url = await listeningUrl(child);
    const bidi = await Bidi.connect(`${url}/session`);
    // The emulator's certificate is self-signed: this test-only profile accepts it (Firefox keeps
    // its CAs in the profile's NSS database, which only certutil or a system-wide policy can fill).
    await bidi.send('session.new', { capabilities: { alwaysMatch: { acceptInsecureCerts: true } } });
    // A temporary add-on, as `web-ext run` loads it: unsigned, with its host permissions granted.
    await bidi.send('webExtension.install', { extensionData: { type: 'path', path: o.addonDir } });
    return await firefox(bidi, child, await recorder(o.logFile));
  } catch (e) {
    await stop(child);
    throw e;
  }
}

/** The WebDriver BiDi address Firefox prints on stderr once it listens. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`Firefox did not start within ${START_TIMEOUT_MS} ms: ${err.slice(-2000)}`)), START_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-10_000);
      const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Firefox exited ${code} before listening: ${err.slice(-2000)}`));
    });
  });
}

/** Appends timed lines to `file` (emptied first). */
async function recorder(file: string): Promise<(line: string) => void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, '');
  const t0 = Date.now();
  return (line) => void fs.appendFile(file, `${String(Date.now() - t0).padStart(7)} ms  ${line}\n`).catch(() => undefined);
}

async function firefox(bidi: Bidi, child: ChildProcess, note: (line: string) => void): Promise<Firefox> {
  const opened: Array<(context: string) => void> = [];
  const ours = new Set<string>();
  // Firefox sends no BiDi events for a tab while it shows an extension page (bug 1755014):
  // openTabs() asks for the tree instead, and the log has no line for such a tab's close.
  bidi.on('browsingContext.contextCreated', (p) => {
    if (p.parent) return;
    note(`tab opened ${p.context} ${p.url}`);
    if (!ours.has(p.context as string)) opened.shift()?.(p.context as string);
  });
  bidi.on('browsingContext.contextDestroyed', (p) => void (p.parent || note(`tab closed ${p.context}`)));
  bidi.on('browsingContext.navigationStarted', (p) => note(`  ${p.context} → ${String(p.url).slice(0, 160)}`));
  bidi.on('log.entryAdded', (p) => note(`console ${String(p.text).slice(0, 300)}`));
  await bidi.send('session.subscribe', {
    events: ['browsingContext.contextCreated', 'browsingContext.contextDestroyed', 'browsingContext.navigationStarted', 'log.entryAdded'],
  });

  const openTabs = async () => {
    const { contexts } = await bidi.send<{ contexts: Array<{ context: string; url: string }> }>('browsingContext.getTree', { maxDepth: 0 });
    return new Map(contexts.map((c) => [c.context, c.url]));
  };
  const tab = (context: string) => new Tab(bidi, context);
  return {
    bidi,
    openTabs,
    tab,
    async newTab(url) {
      const { context } = await bidi.send<{ context: string }>('browsingContext.create', { type: 'tab' });
      ours.add(context);
      await bidi.send('browsingContext.navigate', { context, url, wait: 'complete' });
      return tab(context);
    },
    nextTab: (timeoutMs = 15_000) => withTimeout(new Promise<string>((resolve) => opened.push(resolve)), timeoutMs, 'no new tab opened').then(tab),
    async tabClosed(context, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (let tabs = await openTabs(); tabs.has(context); tabs = await openTabs()) {
        if (Date.now() > end) throw new Error(`the tab at ${tabs.get(context)} stayed open for ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await bidi.send('browser.close').catch(() => undefined);
      bidi.close();
      await stop(child);
    },
  };
}

/** Waits up to QUIT_TIMEOUT_MS for Firefox to exit, then kills its process group. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await withTimeout(exited, QUIT_TIMEOUT_MS, 'Firefox did not quit').catch(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    return exited;
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

interface RemoteValue {
  type: string;
  value?: unknown;
  sharedId?: string;
}

/** One tab: evaluate in its page, click an element as a person would, photograph it. */
export class Tab {
  constructor(private readonly bidi: Bidi, readonly context: string) {}

  /** Runs `expression` in the page and returns its value, awaited (JSON-like values only). */
  async evaluate<T>(expression: string): Promise<T> {
    const json = (await this.remote(`(async () => JSON.stringify(await (${expression})))()`)).value;
    return (typeof json === 'string' ? JSON.parse(json) : undefined) as T;
  }

  /** The trimmed text of the first element matching `selector`, or null. */
  text(selector: string): Promise<string | null> {
    return this.evaluate<string | null>(`document.querySelector(${JSON.stringify(selector)})?.textContent?.trim() ?? null`);
  }

  /** Moves the pointer to the element's centre and clicks it, waiting for it to appear first. */
  async click(selector: string): Promise<void> {
    const element = await this.element(selector);
    await this.bidi.send('input.performActions', {
      context: this.context,
      actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions: [
        { type: 'pointerMove', x: 0, y: 0, origin: { type: 'element', element } },
        { type: 'pointerDown', button: 0 },
        { type: 'pointerUp', button: 0 },
      ] }],
    });
  }

  async setViewport(width: number, height: number): Promise<void> {
    await this.bidi.send('browsingContext.setViewport', { context: this.context, viewport: { width, height } });
  }

  /** Saves a PNG of the element matching `selector` to `file`. */
  async screenshot(selector: string, file: string): Promise<void> {
    const element = await this.element(selector);
    const { data } = await this.bidi.send<{ data: string }>('browsingContext.captureScreenshot', { context: this.context, clip: { type: 'element', element } });
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, Buffer.from(data, 'base64'));
  }

  /** Waits up to `timeoutMs` for the element and returns the shared reference BiDi commands take. */
  private async element(selector: string, timeoutMs = 15_000): Promise<{ sharedId: string }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.remote(`document.querySelector(${JSON.stringify(selector)})`).catch(() => null);
      if (v?.sharedId) return { sharedId: v.sharedId };
      if (Date.now() > end) throw new Error(`${selector} did not appear within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async remote(expression: string): Promise<RemoteValue> {
    const r = await this.bidi.send<{ type: string; result?: RemoteValue; exceptionDetails?: { text: string } }>('script.evaluate', {
      expression,
      target: { context: this.context },
      awaitPromise: true,
      resultOwnership: 'none',
    });
    if (r.type !== 'success') throw new Error(`evaluating ${expression.slice(0, 80)} failed: ${r.exceptionDetails?.text}`);
    return r.result!;
  }
}

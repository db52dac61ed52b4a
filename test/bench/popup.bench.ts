// Extension benchmarks: the popup from navigation to the Inbox count drawn, with the daemon warm
// and the count known (median and worst over 20 opens, timed inside the page by the popup's own
// performance mark), the same from the test's side (tab open to count visible), and the size of
// each part of extension/dist, raw and gzipped.
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { CHROMIUM, EXTENSION_DIR, NO_CHROMIUM, POPUP_URL, signInThroughPopup, startBrowserStack } from '../e2e/harness';

const OPENS = 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function popupOpens(): Promise<void> {
  const b = await startBrowserStack();
  try {
    const first = await b.openPopup();
    await signInThroughPopup(first);
    await first.waitForSelector('[data-testid=inbox-total]', { timeout: 20_000 });
    await first.close();
    const inPage: number[] = [];
    const outside: number[] = [];
    for (let i = 0; i < OPENS; i++) {
      const t0 = performance.now();
      const page = await b.ctx.newPage();
      await page.goto(POPUP_URL);
      await page.waitForSelector('[data-testid=inbox-total]');
      outside.push(performance.now() - t0);
      inPage.push(await page.evaluate(() => performance.getEntriesByName('ews-daemon:counts-drawn')[0]?.startTime ?? NaN));
      await page.close();
    }
    console.log(`popup navigation → count drawn (in page): median ${ms(median(inPage))}, worst ${ms(Math.max(...inPage))} over ${OPENS} opens`);
    console.log(`new tab → count visible (test side, includes tab creation): median ${ms(median(outside))}, worst ${ms(Math.max(...outside))}`);
  } finally {
    await b.close();
  }
}

async function bundleSizes(): Promise<void> {
  const files = await listFiles(EXTENSION_DIR);
  const parts = new Map<string, { raw: number; gzip: number }>();
  for (const file of files) {
    const body = await fs.readFile(file);
    const part = partOf(path.relative(EXTENSION_DIR, file));
    const sum = parts.get(part) ?? { raw: 0, gzip: 0 };
    parts.set(part, { raw: sum.raw + body.length, gzip: sum.gzip + gzipSync(body).length });
  }
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const [part, s] of [...parts.entries()].sort()) console.log(`${part.padEnd(34)} ${kb(s.raw).padStart(10)} (gzip ${kb(s.gzip)})`);
  const total = [...parts.values()].reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip }), { raw: 0, gzip: 0 });
  console.log(`${'extension/dist total'.padEnd(34)} ${kb(total.raw).padStart(10)} (gzip ${kb(total.gzip)})`);
}

function partOf(rel: string): string {
  if (rel.startsWith('icons/')) return 'icons';
  if (rel === 'manifest.json') return 'manifest';
  if (rel.endsWith('.html')) return 'pages (html)';
  if (rel.endsWith('.css')) return 'styles (css)';
  if (rel.startsWith('assets/main.ts') || rel === 'service-worker-loader.js') return 'service worker (js)';
  if (rel.endsWith('.js')) return 'pages and shared chunks (js)';
  return 'other';
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)])));
  return nested.flat();
}

if (CHROMIUM) await popupOpens();
else console.log(`popup opens ${NO_CHROMIUM}`);
await bundleSizes();

// Waiting on what a person would see in a page, for the e2e tests (playwright-core has no
// `expect`): text in an element, an attribute, a badge. Each wait fails with what it last saw.
import type { Page } from 'playwright-core';

const DEFAULT_MS = 15_000;

/** Waits until `selector`'s text equals `want` (or matches it); returns the text. */
export async function waitForText(page: Page, selector: string, want: string | RegExp, timeout = DEFAULT_MS): Promise<string> {
  const pattern = typeof want === 'string' ? { source: `^${want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, flags: '' } : { source: want.source, flags: want.flags };
  try {
    await page.waitForFunction(
      ([sel, source, flags]) => {
        const el = document.querySelector(sel!);
        return !!el && new RegExp(source!, flags).test((el.textContent ?? '').trim());
      },
      [selector, pattern.source, pattern.flags],
      { timeout, polling: 100 },
    );
  } catch {
    const seen = await page.locator(selector).first().textContent({ timeout: 100 }).catch(() => '(no such element)');
    throw new Error(`${selector} never read ${String(want)} within ${timeout} ms; it reads ${JSON.stringify(seen)}`);
  }
  return (await page.locator(selector).first().textContent())!.trim();
}

export { waitUntil } from '../support/wait';

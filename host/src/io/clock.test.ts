import { describe, expect, it } from 'vitest';
import { systemClock } from './clock';

describe('systemClock', () => {
  it('tells the wall-clock time in ms since the epoch', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('resolves a sleep after about the time asked', async () => {
    const start = performance.now();
    await systemClock.sleep(30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
  });

  it('rejects with the signal’s reason when aborted mid-sleep, and leaves no timer keeping the process up', async () => {
    const ac = new AbortController();
    const reason = new Error('stopping');
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const sleeping = systemClock.sleep(60_000, ac.signal);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before + 1);
    ac.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('already'));
    await expect(systemClock.sleep(60_000, ac.signal)).rejects.toThrow('already');
  });

  it('waits out a sleep longer than setTimeout’s 24.8-day limit instead of firing at once', async () => {
    const ac = new AbortController();
    let woke = false;
    const sleeping = systemClock.sleep(30 * 24 * 60 * 60_000, ac.signal).then(() => (woke = true), () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    ac.abort();
    await sleeping;
  });

  it('keeps no hold on the process during an unref sleep, and still wakes when the process lives on', async () => {
    const refd = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = refd();
    const start = performance.now();
    const sleeping = systemClock.sleep(30, undefined, { unref: true });
    expect(refd()).toBe(before); // an unref'd timer is not listed as keeping the loop alive
    await sleeping;
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
  });
});

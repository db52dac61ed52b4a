import { describe, expect, it } from 'vitest';
import { FAKE_CLOCK_START, FakeClock } from './fake-clock';

describe('FakeClock', () => {
  it('wakes sleepers in deadline order, each at its own time, only when advanced', async () => {
    const clock = new FakeClock();
    const woke: [string, number][] = [];
    void clock.sleep(300).then(() => woke.push(['late', clock.now()]));
    void clock.sleep(100).then(() => woke.push(['early', clock.now()]));
    await clock.settle();
    expect(woke).toEqual([]);
    await clock.advance(250);
    expect(woke).toEqual([['early', FAKE_CLOCK_START + 100]]);
    await clock.advance(50);
    expect(woke).toEqual([['early', FAKE_CLOCK_START + 100], ['late', FAKE_CLOCK_START + 300]]);
    expect(clock.now()).toBe(FAKE_CLOCK_START + 300);
  });

  it('wakes a sleeper started by another sleeper within the same advance', async () => {
    const clock = new FakeClock();
    let ticks = 0;
    void (async () => {
      for (;;) {
        await clock.sleep(10);
        ticks++;
      }
    })();
    await clock.advance(95);
    expect(ticks).toBe(9);
  });

  it('rejects an aborted sleep with the signal’s reason and forgets it', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const sleeping = clock.sleep(1_000, ac.signal);
    expect(clock.pending).toBe(1);
    ac.abort(new Error('woken'));
    await expect(sleeping).rejects.toThrow('woken');
    expect(clock.pending).toBe(0);
  });

  it('fires a sleeper late after a jump, as a timer does after the machine was suspended', async () => {
    const clock = new FakeClock();
    let wokeAt = 0;
    void clock.sleep(30_000).then(() => (wokeAt = clock.now()));
    await clock.advance(10_000);
    await clock.jump(3_600_000);
    expect(wokeAt).toBe(0);
    await clock.advance(20_000);
    expect(wokeAt).toBe(FAKE_CLOCK_START + 3_630_000);
  });

  it('runs until a condition holds, and gives up with an error after the limit', async () => {
    const clock = new FakeClock();
    let done = false;
    void clock.sleep(5_000).then(() => (done = true));
    await clock.runUntil(() => done);
    expect(clock.now()).toBe(FAKE_CLOCK_START + 5_000);
    await expect(clock.runUntil(() => false, { maxMs: 10_000 })).rejects.toThrow('runUntil');
  });
});

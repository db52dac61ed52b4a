// A deterministic Clock for tests: time moves only when the test says so, sleepers wake in
// deadline order, and every promise chain a wake-up starts is settled before the next one.
// No real timers: `settle` yields to the event loop's check phase (setImmediate) only.
import type { Clock } from '../../host/src/deps';

interface Sleeper {
  /** Wall-clock ms at which it wakes; moved later by `jump` (a suspended machine). */
  at: number;
  seq: number;
  wake(): void;
}

/** 2026-01-05 09:00 UTC: a fixed, ordinary start so runs are reproducible. */
export const FAKE_CLOCK_START = Date.UTC(2026, 0, 5, 9, 0, 0);

export class FakeClock implements Clock {
  private t: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(start = FAKE_CLOCK_START) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { at: this.t + Math.max(0, ms), seq: this.seq++, wake: () => done(resolve) };
      const onAbort = () => {
        this.remove(sleeper);
        reject(signal?.reason);
      };
      const done = (settle: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** How many sleeps are pending. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** When the next sleeper wakes, or null when nobody sleeps. */
  nextWakeAt(): number | null {
    return this.earliest()?.at ?? null;
  }

  /** Lets every pending promise chain run to its next real wait. */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time forward by `ms`, waking each sleeper at its deadline, in order, settling after each. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await this.settle();
    for (let s = this.earliest(); s !== undefined && s.at <= target; s = this.earliest()) {
      this.fire(s);
      await this.settle();
    }
    this.t = Math.max(this.t, target);
    await this.settle();
  }

  /**
   * A suspend of `ms`: the wall clock jumps, but sleepers' timers do not run while the machine
   * sleeps (Node's timers use monotonic time), so each wakes `ms` later than it would have.
   */
  async jump(ms: number): Promise<void> {
    this.t += ms;
    for (const s of this.sleepers) s.at += ms;
    await this.settle();
  }

  /** Advances sleeper by sleeper (or by stepMs when nobody sleeps) until `done()` holds; throws after maxMs. */
  async runUntil(done: () => boolean, opts: { maxMs?: number; stepMs?: number } = {}): Promise<void> {
    const limit = this.t + (opts.maxMs ?? 60 * 60_000);
    await this.settle();
    while (!done()) {
      if (this.t >= limit) throw new Error(`runUntil: condition still false after ${opts.maxMs ?? 3_600_000} ms of fake time`);
      const next = this.earliest()?.at ?? this.t + (opts.stepMs ?? 1_000);
      await this.advanceTo(Math.min(Math.max(next, this.t), limit));
    }
  }

  private fire(s: Sleeper): void {
    this.remove(s);
    this.t = Math.max(this.t, s.at);
    s.wake();
  }

  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) if (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    return best;
  }

  private remove(s: Sleeper): void {
    const i = this.sleepers.indexOf(s);
    if (i >= 0) this.sleepers.splice(i, 1);
  }
}

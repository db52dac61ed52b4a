// Held requests: while an endpoint is held, each request that reaches its hold point waits there
// until the hold is released, and the emulator says how many wait. A test can so have requests
// in flight at a moment it knows (four Graph requests open at once, a token refresh the daemon
// is waiting on) by waiting for a count, not by a slow fault and a sleep. The hold point is where
// an injected fault would apply: after authentication and Graph's concurrency limit, so a
// request refused by those is answered at once and is never held.

export type HoldPoint = 'token' | 'ews' | 'graph';

export const HOLD_POINTS: readonly HoldPoint[] = ['token', 'ews', 'graph'];

interface Waiter {
  point: HoldPoint;
  go(): void;
}

export class Holds {
  private readonly held = new Set<HoldPoint>();
  private waiters: Waiter[] = [];

  hold(point: HoldPoint): void {
    this.held.add(point);
  }

  /**
   * Stops holding `point` (every point when absent) and lets the requests waiting there go on.
   * With `count`, lets only the first `count` waiting go on (oldest first) and keeps holding.
   */
  release(point?: HoldPoint, count = Infinity): void {
    const going = this.waiters.filter((w) => point === undefined || w.point === point).slice(0, count);
    if (count === Infinity && point === undefined) this.held.clear();
    else if (count === Infinity && point !== undefined) this.held.delete(point);
    this.waiters = this.waiters.filter((w) => !going.includes(w));
    for (const w of going) w.go();
  }

  /** Requests waiting at `point` (at every point when absent) whose clients are still connected. */
  count(point?: HoldPoint): number {
    return this.waiters.filter((w) => point === undefined || w.point === point).length;
  }

  /**
   * Resolves at once unless `point` is held; then when it is released. `closed` ends the wait
   * early (the client went away), so that a count says only what is really waiting.
   */
  pass(point: HoldPoint, closed: { once(event: 'close', listener: () => void): unknown }): Promise<void> {
    if (!this.held.has(point)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { point, go: resolve };
      this.waiters.push(waiter);
      closed.once('close', () => {
        if (!this.waiters.includes(waiter)) return;
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      });
    });
  }
}

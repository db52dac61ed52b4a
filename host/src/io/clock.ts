// The real Clock: wall time from Date.now, waits on Node's timers. A sleep aborted by its signal
// rejects with the signal's reason and leaves no timer behind. Also Node's timers in the shape
// shared/rpc-peer.ts takes for its call timeouts (shared/ knows no Clock).
import type { RpcTimers } from '../../../shared/rpc-peer';
import type { Clock } from '../deps';

/** setTimeout fires at once (with a warning) for delays over 2^31−1 ms (~24.8 days): longer sleeps are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};

function sleep(ms: number, signal?: AbortSignal, opts: { unref?: boolean } = {}): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const wait = (remaining: number) => {
      const step = Math.min(Math.max(0, remaining), MAX_TIMEOUT_MS);
      timer = setTimeout(() => {
        if (remaining > step) return wait(remaining - step);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, step);
      if (opts.unref) timer.unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    wait(ms);
  });
}

/** RpcPeer's call timeouts on Node's timers. */
export const nodeTimers: RpcTimers = {
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

// Waiting for something a test can only poll (a daemon's renewal, a file another process
// writes): each wait fails with what it last saw.

const DEFAULT_MS = 15_000;

/** Polls `read` until `ok` says yes; fails with the last value seen. */
export async function waitUntil<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeout = DEFAULT_MS): Promise<T> {
  const end = Date.now() + timeout;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeout} ms`);
}

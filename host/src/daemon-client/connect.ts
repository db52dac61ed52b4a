// Reaches the daemon's socket, starting the daemon (detached) when none answers. Shared by the
// native-host relay and the CLI, so it loads only node builtins: no zod, no pino, no MSAL.
// Racing starters are safe: the daemon holds an exclusive lock, a second `run` exits at once,
// and every starter simply waits for the socket to answer.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../../shared/errors';
import type { Clock, FileSystem } from '../deps';
import { systemClock } from '../io/clock';
import { pathExists } from '../io/path-exists';

export interface ConnectOptions {
  socketPath: string;
  /** Fail at once instead of starting the daemon when none answers. */
  noStart?: boolean;
  /** Starts the daemon, detached; the default runs `node <launcher> run`. */
  start?: () => void;
  /** How long to wait for a daemon that is starting, in ms (default 5000). */
  timeoutMs?: number;
  /** Named in the error's advice, so a person knows where to look. */
  logFile?: string;
  /** Time and waiting between tries (default the system clock); tests pass their own. */
  clock?: Clock;
}

/** A cold daemon loads MSAL and its config in about a second on a slow machine; 5 s leaves room. */
const DEFAULT_TIMEOUT_MS = 5000;
/** First retry after 20 ms (a warm start answers that fast), doubling up to 250 ms between tries. */
const FIRST_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 250;

/** The errors that mean "nobody listens there (yet)": worth starting the daemon and retrying. */
const NOT_LISTENING = new Set(['ENOENT', 'ECONNREFUSED']);

/** host/bin/ews-daemon, found from this module (host/dist/*.mjs or host/src/daemon-client/*.ts). */
export function launcherPath(env: Record<string, string | undefined> = process.env, moduleUrl: string = import.meta.url, fs: Pick<FileSystem, 'exists'> = { exists: pathExists }): string {
  if (env.EWS_DAEMON_LAUNCHER) return path.resolve(env.EWS_DAEMON_LAUNCHER);
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (let up = 0; up < 4; up++) {
    const candidate = path.join(dir, 'bin', 'ews-daemon');
    if (fs.exists(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return path.join(path.dirname(path.dirname(fileURLToPath(moduleUrl))), 'bin', 'ews-daemon');
}

/** Spawns `node <launcher> run` detached from this process: it outlives us and logs to its own file. */
export function startDaemonDetached(): void {
  const child = spawn(process.execPath, [launcherPath(), 'run'], { detached: true, stdio: 'ignore', env: process.env, windowsHide: true });
  child.on('error', () => undefined); // a failed spawn shows up as the socket never answering
  child.unref();
}

/** One connection attempt: the socket, or the system error code that stopped it. */
export function tryConnect(socketPath: string): Promise<net.Socket | string> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const onError = (e: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(e.code ?? 'EUNKNOWN');
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export async function connectOrStart(opts: ConnectOptions): Promise<net.Socket> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + timeoutMs;
  let started = false;
  let backoff = FIRST_BACKOFF_MS;
  for (;;) {
    const outcome = await tryConnect(opts.socketPath);
    if (typeof outcome !== 'string') return outcome;
    if (!NOT_LISTENING.has(outcome)) throw unreachable(opts, `cannot connect to ${opts.socketPath} (${outcome})`);
    if (opts.noStart) throw unreachable(opts, `no daemon answers on ${opts.socketPath}`);
    if (!started) {
      started = true;
      try {
        (opts.start ?? startDaemonDetached)();
      } catch (e) {
        throw unreachable(opts, `could not start the daemon (${(e as Error).message})`);
      }
    }
    if (clock.now() + backoff > deadline) throw unreachable(opts, `the daemon did not answer on ${opts.socketPath} within ${timeoutMs} ms of being started`);
    await clock.sleep(backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}

function unreachable(opts: ConnectOptions, why: string): AppError {
  const log = opts.logFile ? ` Its log is ${opts.logFile}.` : '';
  return new AppError('daemon_unreachable', `The ews-daemon daemon is unreachable: ${why}.`, {
    advice: `Start it with \`ews-daemon run\` (or once for good with \`ews-daemon install --service\`), then try again; \`ews-daemon doctor\` says what is wrong.${log}`,
    retryable: true,
  });
}

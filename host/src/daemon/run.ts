// `ews-daemon run`: one daemon per user. It takes the daemon lock (a second `run` says which pid
// serves and exits 1), listens on the socket in a 0700 folder before loading MSAL (so clients
// connect fast and wait for readiness), and on SIGTERM/SIGINT closes the socket, stops the
// refresher and flushes the token cache before it returns.
import { AppError } from '../../../shared/errors';
import { PRODUCT_VERSION, PUBLISHED_ADDON_IDS, PUBLISHED_EXTENSION_IDS } from '../../../shared/constants';
import type { Config } from '../config/config';
import type { Paths } from '../config/paths';
import type { Clock, FileSystem, Log } from '../deps';
import type { LogPause } from '../io/log';
import { ensureOwnFolder } from '../config/state-folder';
import { tryAcquireLock } from '../io/file-lock';
import { createHttp } from '../io/http';
import { METHODS, type MethodName } from '../../../shared/protocol';
import { listen, type Handler, type Handlers, type Listening } from './server';

export interface RunOptions {
  config: Config;
  paths: Paths;
  clock: Clock;
  fs: FileSystem;
  log: Log;
  /** Resolves when the daemon should stop (the signal handlers in main). */
  stopRequested: Promise<void>;
  /** Called once the socket accepts connections (for `run --ready-fd`-style waiting and tests). */
  onListening?: () => void;
  /** Why logging is paused (a full disk), for `status`; null while it works. */
  logHealth?: () => LogPause | null;
  /** Check every result and notification against the protocol's schemas (tests). */
  checkResults?: boolean;
}

export async function runDaemon(opts: RunOptions): Promise<void> {
  const { paths, log, fs } = opts;
  // Checked, never repaired: a folder others can write is refused (state-folder.ts).
  await ensureOwnFolder(fs, paths.stateDir, { allowLinks: [paths.configFile] });
  await ensureOwnFolder(fs, paths.runtimeDir, { allowLinks: [paths.configFile] });
  const lock = await tryAcquireLock(`${paths.runtimeDir}/daemon.lock`);
  if ('heldBy' in lock) {
    throw new AppError('already_running', `ews-daemon is already running (pid ${lock.heldBy}) on ${paths.socketPath}.`, {
      advice: 'Use it (`ews-daemon status`), or stop it first: `kill ' + lock.heldBy + '`.',
      retryable: false,
    });
  }
  let server: Listening | null = null;
  try {
    if (process.platform !== 'win32') await fs.rm(paths.socketPath); // stale: we hold the lock
    let resolveReady!: (h: Handlers) => void;
    const ready = new Promise<Handlers>((r) => (resolveReady = r));
    const subscriptions = new Map<number, () => void>();
    server = await listen(paths.socketPath, {
      log: log.child({ component: 'server' }),
      handlers: deferredHandlers(ready),
      checkResults: opts.checkResults ?? false,
      onClose: (conn) => {
        subscriptions.get(conn.id)?.();
        subscriptions.delete(conn.id);
      },
    });
    if (process.platform !== 'win32') await fs.chmod(paths.socketPath, 0o600);
    await fs.writeFileAtomic(paths.pidFile, `${process.pid}\n`);
    log.info('listening', { socket: paths.socketPath, pid: process.pid });
    opts.onListening?.();
    await serveUntilStopped(opts, subscriptions, resolveReady);
  } finally {
    await server?.close();
    await fs.rm(paths.pidFile);
    await lock.release();
    log.info('stopped');
  }
}

async function serveUntilStopped(opts: RunOptions, subscriptions: Map<number, () => void>, resolveReady: (h: Handlers) => void): Promise<void> {
  // Loaded after the socket listens: MSAL is the slow part of start-up.
  const [{ DaemonCore }, { makeHandlers }, { MsalClient }, { TokenStore }, { resolveCacheKey }, { osKeyring }] = await Promise.all([
    import('./core'),
    import('./handlers'),
    import('../auth/msal-client'),
    import('../auth/token-store'),
    import('../auth/cache-key'),
    import('../auth/keyring'),
  ]);
  const { config, paths, clock, fs, log } = opts;
  const http = createHttp({ userAgent: `ews-daemon/${PRODUCT_VERSION}` });
  const keySources = { cacheKeyFile: config.cacheKeyFile, credentialsDirectory: process.env.CREDENTIALS_DIRECTORY, keyring: osKeyring, fs };
  const store = new TokenStore({
    file: paths.cacheFile,
    log: log.child({ component: 'token-store' }),
    clock,
    fs,
    resolveKey: (o) => resolveCacheKey(keySources, o),
  });
  const msal = new MsalClient({ config, http, log, cachePlugin: store });
  const core = new DaemonCore({ config, paths, clock, fs: opts.fs, http, stream: http, log, store, msal, version: PRODUCT_VERSION, startedAt: clock.now(), logHealth: opts.logHealth });
  await core.start();
  resolveReady(makeHandlers(core, subscriptions, (origin) => allowedOrigins(config).has(origin)));
  log.info('ready', { accounts: core.accountList().length });
  await opts.stopRequested;
  log.info('stopping');
  await core.stop();
  await http.close();
}

/** Handlers that wait until the daemon is ready: clients may connect while MSAL still loads. */
function deferredHandlers(ready: Promise<Handlers>): Handlers {
  const defer = <M extends MethodName>(name: M): Handler<M> => async (params, conn) => ((await ready)[name] as Handler<M>)(params, conn);
  return Object.fromEntries((Object.keys(METHODS) as MethodName[]).map((name) => [name, defer(name)])) as Handlers;
}

/** Every id the project's extension is published under (Chromium and Firefox) and the ids the config allows. */
export function allowedOrigins(config: Config): Set<string> {
  const origins = new Set([...PUBLISHED_EXTENSION_IDS.map((p) => `chrome-extension://${p.id}/`), ...PUBLISHED_ADDON_IDS]);
  for (const id of config.extensionIds) origins.add(/^[a-p]{32}$/.test(id) ? `chrome-extension://${id}/` : id);
  return origins;
}

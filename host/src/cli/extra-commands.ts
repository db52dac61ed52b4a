// Commands that are not one protocol call: running the daemon itself, watching the count
// (watch.ts), and (with the installer) setting up browsers and services.
import { PRODUCT_VERSION } from '../../../shared/constants';
import { loadConfig } from '../config/load-config';
import { runDaemon } from '../daemon/run';
import { ensureOwnFolder } from '../config/state-folder';
import { createLog } from '../io/log';
import { realDoctorDeps, formatDoctor, runDoctor } from '../install/doctor';
import { runExtension } from '../install/extension-builds';
import type { CommandOutcome } from '../install/command-outcome';
import { packageRoot, realInstallContext, runInstall, runUninstall } from '../install/run-install';
import { createHttp } from '../io/http';
import type { CliContext, Command } from './cli-context';
import { watch } from './watch';

const run: Command = {
  summary: 'run the daemon in the foreground (other commands start it when needed)',
  usage: 'run',
  options: [],
  async run(ctx) {
    const { paths } = ctx;
    // The folder is checked and the log opened (synchronously) before anything logs; a folder
    // others control is refused here, with nowhere safe to log to: the error goes to stderr.
    await ensureOwnFolder(ctx.fs, paths.stateDir, { allowLinks: [paths.configFile] });
    const log = createLog({ destination: paths.logFile, level: ctx.env.EWS_DAEMON_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
    // A daemon started in the background (by the CLI or a browser's native host) has no terminal:
    // the log is where its reason for not starting must be found.
    const cannotStart = async (e: unknown): Promise<never> => {
      log.error('cannot start', { error: e instanceof Error ? e.message : String(e), advice: (e as { data?: { advice?: string } }).data?.advice });
      await log.close();
      throw e;
    };
    const config = await loadConfig(paths.configFile, ctx.fs).catch(cannotStart);
    const stopRequested = new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
      process.once('SIGHUP', () => resolve());
    });
    // A daemon must not vanish without a word: a stray rejection is logged and survived; an
    // uncaught exception is logged, and the daemon exits (the next command starts a new one).
    process.on('unhandledRejection', (e) => log.error('unhandled rejection (a bug)', { error: e instanceof Error ? e.stack : String(e) }));
    // No synchronous flush here: on a full disk it would never end. The queued lines get a second.
    process.on('uncaughtException', (e) => {
      log.error('uncaught exception (a bug); exiting', { error: e.stack ?? String(e) });
      void log.close(1_000).then(() => process.exit(70));
    });
    try {
      await runDaemon({
        config,
        paths,
        clock: ctx.clock,
        fs: ctx.fs,
        log,
        stopRequested,
        // The test stack sets it: every answer the daemon gives is then checked against the protocol.
        checkResults: ctx.env.EWS_DAEMON_CHECK_RESULTS === '1',
        onListening: () => ctx.err(`ews-daemon ${PRODUCT_VERSION} listening on ${paths.socketPath} (pid ${process.pid}); log: ${paths.logFile}`),
        logHealth: () => log.health(),
      });
    } catch (e) {
      // e.g. already_running, a refused runtime folder, a socket that cannot be bound.
      await cannotStart(e);
    }
    await log.close();
    return 0;
  },
};

function installFlags(ctx: CliContext) {
  const v = ctx.args.values;
  return { browser: v.browser as string[] | undefined, userDataDir: v['user-data-dir'] as string | undefined, extensionId: v['extension-id'] as string[] | undefined, service: v.service === true };
}

/** The config's extensionIds, when there is a readable config; install works without one. */
async function configExtensionIds(ctx: CliContext): Promise<string[]> {
  return loadConfig(ctx.paths.configFile, ctx.fs).then((c) => c.extensionIds, () => []);
}

function report(ctx: CliContext, outcome: CommandOutcome<unknown>): number {
  if (ctx.args.values.json) ctx.out(JSON.stringify(outcome.result, null, 2));
  else for (const line of outcome.lines) ctx.out(line);
  return outcome.exitCode;
}

const INSTALL_OPTIONS = ['browser', 'user-data-dir', 'extension-id', 'service'];

const install: Command = {
  summary: 'register the native-messaging host with browsers (and --service: start at login)',
  usage: 'install [--browser NAME|all]... [--user-data-dir DIR] [--extension-id ID]... [--service]',
  options: INSTALL_OPTIONS,
  async run(ctx) {
    const context = realInstallContext({ env: ctx.env, paths: ctx.paths, fs: ctx.fs, configExtensionIds: await configExtensionIds(ctx) });
    return report(ctx, await runInstall(installFlags(ctx), context));
  },
};

const uninstall: Command = {
  summary: 'remove exactly what install wrote',
  usage: 'uninstall [--browser NAME|all]... [--user-data-dir DIR] [--service]',
  options: INSTALL_OPTIONS,
  async run(ctx) {
    return report(ctx, await runUninstall(installFlags(ctx), realInstallContext({ env: ctx.env, paths: ctx.paths, fs: ctx.fs })));
  },
};

const doctor: Command = {
  summary: 'check config, credential, authority, daemon, permissions, browser manifests, EWS',
  usage: 'doctor [--user-data-dir DIR]',
  options: ['user-data-dir'],
  async run(ctx) {
    const http = createHttp({ userAgent: `ews-daemon/${PRODUCT_VERSION}` });
    try {
      const deps = realDoctorDeps({ env: ctx.env, paths: ctx.paths, http, clock: ctx.clock, fs: ctx.fs, loadConfig: (file) => loadConfig(file, ctx.fs), userDataDir: ctx.args.values['user-data-dir'] as string | undefined });
      const result = await runDoctor(deps);
      if (ctx.args.values.json) ctx.out(JSON.stringify(result, null, 2));
      else for (const line of formatDoctor(result)) ctx.out(line);
      return result.ok ? 0 : 1;
    } finally {
      await http.close();
    }
  },
};

const extension: Command = {
  summary: 'where the browser extension is and how to load it; --zip DIR writes the store archives',
  usage: 'extension [--zip DIR]',
  options: ['zip'],
  async run(ctx) {
    return report(ctx, await runExtension({ zip: ctx.args.values.zip as string | undefined }, packageRoot(ctx.fs), ctx.fs));
  },
};

export const EXTRA_COMMANDS: Record<string, Command> = { run, watch, install, uninstall, doctor, extension };

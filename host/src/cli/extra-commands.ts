// Commands that are not one protocol call: running the daemon itself, and (with the installer)
// setting up browsers and services.
import { PRODUCT_VERSION } from '../../../shared/constants';
import { loadConfig } from '../config/load-config';
import { runDaemon } from '../daemon/run';
import { ensurePrivateDir } from '../io/atomic-file';
import { systemClock } from '../io/clock';
import { createLog } from '../io/log';
import type { Command } from './commands';

const run: Command = {
  summary: 'run the daemon in the foreground (other commands start it when needed)',
  usage: 'run',
  options: [],
  async run(ctx) {
    const { paths } = ctx;
    const config = await loadConfig(paths.configFile);
    await ensurePrivateDir(paths.stateDir);
    const log = createLog({ destination: paths.logFile, level: ctx.env.EWS_DAEMON_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
    const stopRequested = new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    try {
      await runDaemon({
        config,
        paths,
        clock: systemClock,
        log,
        stopRequested,
        onListening: () => ctx.err(`ews-daemon ${PRODUCT_VERSION} listening on ${paths.socketPath} (pid ${process.pid}); log: ${paths.logFile}`),
      });
    } finally {
      log.flush();
    }
    return 0;
  },
};

export const EXTRA_COMMANDS: Record<string, Command> = { run };

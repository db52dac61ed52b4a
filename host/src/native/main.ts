// Entry of the native host bundle (host/dist/native-host.mjs), which the browser starts on every
// port it opens: wires argv, stdio and the daemon's socket into the relay, and exits with it.
// Only node builtins load here, so it starts about as fast as node itself. Stdout carries frames
// and nothing else: diagnostics go to stderr when EWS_DAEMON_DEBUG is set, and warnings to the
// daemon's log file.
import { closeSync, writeSync } from 'node:fs';
import os from 'node:os';
import { resolvePaths } from '../config/paths';
import { connectOrStart } from '../daemon-client/connect';
import { openLogFile } from '../io/log-open';
import { findCallerOrigin } from './caller-origin';
import { runRelay } from './relay';

const env = process.env;
const paths = resolvePaths({ env, platform: process.platform, homedir: os.homedir(), uid: process.getuid?.() });
const debug = Boolean(env.EWS_DAEMON_DEBUG);
/** pino's numeric levels, so these lines read like the daemon's own in its log. */
const PINO_LEVEL = { debug: 20, warn: 40, error: 50 } as const;

function log(level: 'debug' | 'warn' | 'error', msg: string): void {
  if (debug) process.stderr.write(`ews-daemon native-host[${process.pid}] ${level}: ${msg}\n`);
  if (level === 'debug') return;
  const line = JSON.stringify({ level: PINO_LEVEL[level], time: Date.now(), pid: process.pid, name: 'native-host', msg });
  try {
    // Never through a link planted in the state folder, and one attempt only: a full disk drops the line.
    const { fd } = openLogFile(paths.logFile);
    try {
      writeSync(fd, line + '\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    // No state folder yet (the daemon makes it), a refused log, a full disk: stderr, when asked for, is all there is.
  }
}

function crash(e: unknown): void {
  process.stderr.write(`ews-daemon native-host: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  log('error', `unexpected error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(70);
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const origin = findCallerOrigin(process.argv.slice(2));
log('debug', `started for ${origin ?? 'no origin'} (argv: ${process.argv.slice(2).join(' ')})`);
const code = await runRelay({
  input: process.stdin,
  output: process.stdout,
  origin,
  connect: () => connectOrStart({ socketPath: paths.socketPath, logFile: paths.logFile }),
  log,
  logFile: paths.logFile,
});
process.exit(code);

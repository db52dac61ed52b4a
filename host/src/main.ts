// ews-daemon's entry point: parses arguments, builds dependencies, runs one command, and turns
// its outcome into an exit code (0 ok, 1 error, 2 usage, 3 needs consent). Wiring only.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { PRODUCT_VERSION } from '../../shared/constants';
import { AppError, isAppError, toRpcError, type ErrorCode } from '../../shared/errors';
import { COMMANDS, usage, type CliContext } from './cli/commands';
import { EXTRA_COMMANDS } from './cli/extra-commands';
import { secret } from './cli/secret-command';
import { formatError } from './cli/format';
import { lineWriter } from './cli/line-writer';
import { terminalJson, terminalText } from './cli/terminal-text';
import { resolvePaths } from './config/paths';
import { systemClock } from './io/clock';
import { nodeFileSystem } from './io/node-fs';

const OPTIONS = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  'no-start': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  account: { type: 'string' },
  'max-age': { type: 'string' },
  'no-stale': { type: 'boolean' },
  resource: { type: 'string' },
  'force-refresh': { type: 'boolean' },
  listen: { type: 'boolean' },
  'device-code': { type: 'boolean' },
  paste: { type: 'boolean' },
  admin: { type: 'boolean' },
  'no-open': { type: 'boolean' },
  'login-hint': { type: 'string' },
  browser: { type: 'string', multiple: true },
  'user-data-dir': { type: 'string' },
  'extension-id': { type: 'string', multiple: true },
  service: { type: 'boolean' },
  zip: { type: 'string' },
} as const;
const GLOBAL = ['json', 'config', 'no-start', 'help'];

/** Codes after which only a person signing in helps: exit 3, so scripts can tell. */
const NEEDS_CONSENT: ErrorCode[] = ['needs_consent', 'no_account', 'mfa_required', 'consent_expired'];

function exitCode(e: AppError): number {
  if (e.code === 'invalid_params') return 2;
  return NEEDS_CONSENT.includes(e.code) ? 3 : 1;
}

function help(): string {
  const all = { ...COMMANDS, ...EXTRA_COMMANDS, secret };
  const rows = Object.values(all).map((c) => `  ews-daemon ${c.usage}\n      ${c.summary}`);
  return [`ews-daemon ${PRODUCT_VERSION}: keeps a program signed in to an Exchange mailbox.`, '', 'Usage: ews-daemon <command> [options]', '', ...rows, '',
    'Every command takes --json (print the protocol result), --config PATH, --no-start (never start the daemon).',
    'Exit codes: 0 ok, 1 error, 2 usage, 3 needs consent. Files: EWS_DAEMON_HOME=DIR puts config, state and socket under DIR.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  // Every line leaves through here: stripped of terminal controls (escaped, for --json), and
  // quiet when the reader has gone (`| head`).
  const err = lineWriter(process.stderr, terminalText);
  const write = lineWriter(process.stdout, (text) => (json ? terminalJson(text) : terminalText(text)), (e) => err(`ews-daemon: cannot write to standard output (${e.code ?? e.message}).`));
  let printed = false;
  const out: typeof write = (text) => ((printed = true), write(text));
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    json = values.json === true;
    if (values.version) return out(PRODUCT_VERSION), 0;
    const [name, ...rest] = positionals;
    if (!name || values.help) return out(help()), name || values.help ? 0 : 2;
    const command = COMMANDS[name] ?? EXTRA_COMMANDS[name] ?? (name === 'secret' ? secret : undefined);
    if (!command) throw usage(`unknown command "${name}"`);
    const stray = Object.keys(values).filter((k) => !GLOBAL.includes(k) && !command.options.includes(k));
    if (stray.length) throw usage(`${name} does not take --${stray.join(', --')} (usage: ews-daemon ${command.usage})`);
    const env = process.env;
    const paths = resolvePaths({ env, platform: process.platform, homedir: os.homedir(), uid: process.getuid?.() }, values.config);
    const ctx: CliContext = { args: { positionals: rest, values }, paths, env, clock: systemClock, fs: nodeFileSystem, out, err, stdin: process.stdin };
    return await command.run(ctx);
  } catch (e) {
    const appError = isAppError(e) ? e : fromUnknown(e);
    // After lines already printed (device code, watch: one JSON value a line), the error is one more line.
    if (json) out(JSON.stringify({ error: toRpcError(appError) }, null, printed ? undefined : 2));
    else err(`ews-daemon: ${formatError({ ...appError.data, message: appError.message })}`);
    return exitCode(appError);
  }
}

function fromUnknown(e: unknown): AppError {
  const err = e as { code?: string; message?: string };
  if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) return usage(err.message ?? 'bad arguments');
  return new AppError('internal', `Unexpected error: ${err.message ?? String(e)}`, { advice: 'This is a bug; please report it with the command you ran.', retryable: false });
}

// No process.exit: every command, the daemon too, ends when nothing it opened is left open.
process.exitCode = await main(process.argv.slice(2));

// `ews-daemon secret set | delete`: the client secret in the OS keyring, for a config that says
// "clientSecretFrom": "keyring". `set` reads the secret from stdin (a terminal does not echo
// it; a pipe is read to its end), never prints it, and never puts it in an argument (`ps` would
// show it). The entry is per client id (auth/client-secret.ts), so the config must name one.
import { AppError } from '../../../shared/errors';
import { clientSecretEntry, KeyringError, osKeyring } from '../auth/keyring';
import type { CliContext, Command } from './cli-context';
import { usage } from './commands';

/** A secret longer than this is not a client secret (Entra's are 40 characters): refuse it. */
const MAX_SECRET_CHARS = 4096;

export const secret: Command = {
  summary: 'keep the client secret in the OS keyring: set (from stdin, not echoed) or delete',
  usage: 'secret set | secret delete',
  options: [],
  async run(ctx) {
    const [sub] = ctx.args.positionals;
    if (sub !== 'set' && sub !== 'delete') throw usage('secret takes set or delete');
    const clientId = await configClientId(ctx);
    const entry = clientSecretEntry(clientId);
    if (sub === 'delete') {
      const deleted = await keyringCall(() => osKeyring.delete(entry));
      return say(ctx, { clientId, deleted }, deleted ? `Deleted the client secret of ${clientId} from the OS keyring.` : `The OS keyring held no client secret for ${clientId}.`);
    }
    const value = (await readSecret(ctx)).trim();
    if (value === '') throw usage('no secret was given on stdin');
    if (value.length > MAX_SECRET_CHARS || [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) throw usage('that is not a client secret (too long, or it holds control characters)');
    await keyringCall(() => osKeyring.set(entry, value));
    return say(ctx, { clientId, stored: true }, `Stored the client secret of ${clientId} in the OS keyring. Set "clientSecretFrom": "keyring" in ${ctx.paths.configFile} (no other credential), and restart a running daemon.`);
  },
};

/** With --json the outcome as JSON (never the secret), else one line. */
function say(ctx: CliContext, result: Record<string, unknown>, line: string): number {
  ctx.out(ctx.args.values.json ? JSON.stringify(result, null, 2) : line);
  return 0;
}

/** The config's clientId, read without checking the rest (its credential may be the one missing). */
async function configClientId(ctx: CliContext): Promise<string> {
  const file = ctx.paths.configFile;
  const text = await ctx.fs.readText(file).catch(() => null);
  let clientId: unknown;
  try {
    clientId = text === null ? undefined : (JSON.parse(text.replace(/^\uFEFF/, '')) as { clientId?: unknown }).clientId;
  } catch {
    clientId = undefined;
  }
  if (typeof clientId === 'string' && clientId.trim() !== '') return clientId.trim();
  throw new AppError('config_invalid', `${file}: no "clientId" to file the secret under.`, { advice: 'Write the config first (README, Configuration), then store the secret.', retryable: false });
}

async function keyringCall<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    if (err.reason === 'locked') throw new AppError('keyring_locked', `The OS keyring is locked (${err.message}).`, { advice: 'Unlock it (log in to the desktop session) and run the command again.', retryable: true });
    throw new AppError('keyring_unavailable', `No OS keyring answered (${err.message}).`, {
      advice: 'Run it in a session with a keyring (Secret Service needs a D-Bus session: DBUS_SESSION_BUS_ADDRESS), or keep the secret in a 0600 file named by "clientSecretFile".',
      retryable: false,
    });
  }
}

/** The secret from stdin: typed without echo at a terminal, else the whole input. */
async function readSecret(ctx: CliContext): Promise<string> {
  const stdin = ctx.stdin as NodeJS.ReadStream;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    return text;
  }
  // Echo goes off before the prompt shows: what is typed (or pasted) right after it stays hidden.
  return readHidden(stdin, () => ctx.err('Client secret (not shown; Enter to finish):'));
}

/** Raw mode: characters are not echoed; Enter ends, Ctrl-C or Ctrl-D aborts, Backspace erases. */
function readHidden(stdin: NodeJS.ReadStream, prompt: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004') return done(usage('cancelled: no secret stored'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.setRawMode(true);
    prompt();
    stdin.resume();
    stdin.on('data', onData);
  });
}

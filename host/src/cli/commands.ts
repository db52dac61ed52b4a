// The CLI's commands as a flat table: each names its options and runs against the daemon's
// socket (starting the daemon when none answers, unless --no-start). With --json a command
// prints exactly the result of the protocol method of the same meaning.
import { AppError, isAppError, toRpcError } from '../../../shared/errors';
import type { AccountStatus, MethodName, ParamsOf, ResultOf } from '../../../shared/protocol';
import { loadConfig } from '../config/load-config';
import { ensureOwnFolder } from '../config/state-folder';
import { RpcClient } from '../daemon-client/rpc-client';
import type { Call, CliContext, Command } from './cli-context';
import { deviceCodeConsent } from './device-code';
import { listenForReply, loopbackTarget, openBrowser, readPastedUrl, readReplyUrl } from './consent-flow';
import { formatAccount, formatAgo, formatInboxLine, formatStatus, formatTokens, staleLines } from './format';

export type { Call, CliContext, Command } from './cli-context';

/** A connection to the daemon, starting it unless --no-start. */
export async function openClient(ctx: CliContext): Promise<RpcClient> {
  // No daemon yet: check the config and the state folder first, so a broken one is reported
  // now, by key or path with its fix, rather than as a daemon that never came up.
  if (!ctx.fs.exists(ctx.paths.socketPath) && ctx.args.values['no-start'] !== true) {
    await loadConfig(ctx.paths.configFile, ctx.fs);
    await ensureOwnFolder(ctx.fs, ctx.paths.stateDir, { allowLinks: [ctx.paths.configFile] });
  }
  return RpcClient.connect({ socketPath: ctx.paths.socketPath, logFile: ctx.paths.logFile, noStart: ctx.args.values['no-start'] === true, clock: ctx.clock });
}

/** One connection to the daemon for the calls `fn` makes (starting the daemon unless --no-start). */
async function withDaemon<T>(ctx: CliContext, fn: (call: Call) => Promise<T>): Promise<T> {
  const client = await openClient(ctx);
  try {
    return await fn((method, params, opts) => client.call(method, params, opts));
  } finally {
    client.close();
  }
}

function rpc<M extends MethodName>(ctx: CliContext, method: M, params?: ParamsOf<M>): Promise<ResultOf<M>> {
  return withDaemon(ctx, (call) => call(method, params));
}

function print(ctx: CliContext, result: unknown, human: () => string[]): number {
  if (ctx.args.values.json) ctx.out(JSON.stringify(result, null, 2));
  else for (const line of human()) ctx.out(line);
  return 0;
}

const account = (ctx: CliContext) => ctx.args.values.account as string | undefined;

const status: Command = {
  summary: 'what the daemon knows: accounts, tokens, inbox, backend',
  usage: 'status',
  options: [],
  async run(ctx) {
    const s = await rpc(ctx, 'status');
    print(ctx, s, () => [...formatStatus(s, ctx.clock.now()), ...logPausedLines(s, ctx.clock.now())]);
    return s.accounts.some((a) => a.state.kind === 'needs-consent') ? 3 : 0;
  },
};

const inbox: Command = {
  summary: 'the Inbox count (total and unread)',
  usage: 'inbox [--account USER] [--max-age SECONDS] [--no-stale]',
  options: ['account', 'max-age', 'no-stale'],
  async run(ctx) {
    const maxAge = ctx.args.values['max-age'];
    // --no-stale: during a server's back-off, the throttled error rather than an older count.
    const noStale = ctx.args.values['no-stale'] === true ? { allowStale: false } : {};
    const params = { account: account(ctx), ...(maxAge !== undefined ? { maxAgeMs: seconds(maxAge, '--max-age') * 1000 } : {}), ...noStale };
    return withDaemon(ctx, async (call) => {
      // Several accounts and none named: one line each (with --json, an array of inbox.count results).
      const all = params.account === undefined ? (await call('status')).accounts : [];
      if (all.length > 1) return inboxEach(ctx, call, all, params.maxAgeMs);
      const count = await call('inbox.count', params);
      if (ctx.args.values.json) return print(ctx, count, () => []);
      // The human line also says when the token renews: the account's status has it.
      const a = (await call('status')).accounts.find((x) => x.username === count.account);
      return print(ctx, count, () => [formatInboxLine(count, ctx.clock.now(), a), ...staleLines(count)]);
    });
  },
};

/** The line `status` adds while the daemon cannot write its log (a full disk). */
function logPausedLines(s: ResultOf<'status'>, now: number): string[] {
  const p = s.daemon.logPaused;
  if (!p) return [];
  return [`Logging paused since ${formatAgo(p.since, now)} (${p.reason}${p.reason === 'ENOSPC' ? ': the disk is full' : ''}; ${p.dropped} line(s) dropped); it resumes by itself once the log can be written.`];
}

/** Each account's count; one that fails says why on its line and makes the exit code 1. */
async function inboxEach(ctx: CliContext, call: Call, accounts: AccountStatus[], maxAgeMs: number | undefined): Promise<number> {
  const results = await Promise.all(accounts.map((a) => call('inbox.count', { account: a.id, maxAgeMs }).then((count) => ({ a, count }), (e: unknown) => ({ a, e }))));
  if (ctx.args.values.json) ctx.out(JSON.stringify(results.map((r) => ('count' in r ? r.count : { account: r.a.username, error: isAppError(r.e) ? toRpcError(r.e) : String(r.e) })), null, 2));
  else for (const r of results) ctx.out('count' in r ? formatInboxLine(r.count, ctx.clock.now(), r.a) : `${r.a.username}  ${isAppError(r.e) ? r.e.message : String(r.e)}`);
  return results.every((r) => 'count' in r) ? 0 : 1;
}

const tokens: Command = {
  summary: 'the token viewer: each cached entry, JWTs decoded, never the token strings',
  usage: 'tokens [--account USER]',
  options: ['account'],
  async run(ctx) {
    const v = await rpc(ctx, 'tokens.view', { account: account(ctx) });
    return print(ctx, v, () => formatTokens(v, ctx.clock.now()));
  },
};

const token: Command = {
  summary: 'print a valid access token, for scripts',
  usage: 'token [--account USER] [--resource ews|graph] [--force-refresh]',
  options: ['account', 'resource', 'force-refresh'],
  async run(ctx) {
    const resource = ctx.args.values.resource as string | undefined;
    if (resource !== undefined && resource !== 'ews' && resource !== 'graph') throw usage('--resource takes ews or graph');
    const t = await rpc(ctx, 'token.get', { account: account(ctx), resource, forceRefresh: ctx.args.values['force-refresh'] === true });
    return print(ctx, t, () => [t.accessToken]);
  },
};

const logout: Command = {
  summary: 'sign out: remove the account and its tokens from the cache',
  usage: 'logout [--account USER]',
  options: ['account'],
  async run(ctx) {
    const r = await rpc(ctx, 'account.remove', { account: account(ctx) });
    return print(ctx, r, () => (r.removed.length ? r.removed.map((u) => `Signed out ${u}.`) : ['Nobody was signed in.']));
  },
};

const consent: Command = {
  summary: 'sign in: begin, complete <url>, or interactively with --listen / --paste',
  usage: 'consent [begin | complete - | complete URL] [--listen | --paste | --device-code] [--login-hint USER] [--admin] [--no-open]',
  options: ['listen', 'paste', 'device-code', 'login-hint', 'admin', 'no-open'],
  async run(ctx) {
    const [sub, url] = ctx.args.positionals;
    if (ctx.args.values['device-code'] === true) {
      if (sub !== undefined || ctx.args.values.listen || ctx.args.values.paste || ctx.args.values.admin) throw usage('--device-code goes alone: no step, --listen, --paste or --admin');
      return deviceCodeConsent(ctx, (fn) => withDaemon(ctx, fn), (r) => describeCompletion(r, ctx));
    }
    if (sub === 'complete') {
      if (!url) throw usage('consent complete needs the Reply URL: `consent complete -` reads it from stdin');
      // `-`: from stdin, so the code is not on the command line, where other users see it (ps).
      const redirectUrl = url === '-' ? await readReplyUrl(ctx.stdin) : url;
      const r = await rpc(ctx, 'consent.complete', { redirectUrl });
      return print(ctx, r, () => describeCompletion(r, ctx));
    }
    const begun = await rpc(ctx, 'consent.begin', { loginHint: ctx.args.values['login-hint'] as string | undefined, admin: ctx.args.values.admin === true });
    if (sub === 'begin') return print(ctx, begun, () => [begun.authUrl]);
    if (sub !== undefined) throw usage(`unknown consent step "${sub}"`);
    return interactiveConsent(ctx, begun);
  },
};

async function interactiveConsent(ctx: CliContext, begun: ResultOf<'consent.begin'>): Promise<number> {
  const paste = ctx.args.values.paste === true || (ctx.args.values.listen !== true && !loopbackTarget(begun.redirectUri));
  ctx.err(`Open this address to sign in${begun.admin ? ' as an administrator' : ''}:\n\n  ${begun.authUrl}\n`);
  if (ctx.args.values['no-open'] !== true && openBrowser(begun.authUrl, { env: ctx.env, platform: process.platform })) ctx.err('(opened in your browser)');
  const complete = (redirectUrl: string) => rpc(ctx, 'consent.complete', { redirectUrl });
  const r = paste
    ? await complete(await readPastedUrl(ctx.stdin, ctx.err))
    : await listenForReply(ctx.clock, begun.redirectUri, begun.state, begun.expiresAt, complete, (x) => describeCompletion(x, ctx)[0] ?? 'Done');
  return print(ctx, r, () => describeCompletion(r, ctx));
}

function describeCompletion(r: ResultOf<'consent.complete'>, ctx: CliContext): string[] {
  if (r.kind === 'admin-consented') return [`Admin consent granted for tenant ${r.tenant}.`];
  return [`Signed in as ${r.account.username}`, ...formatAccount(r.account, ctx.clock.now()).slice(1)];
}

function seconds(v: unknown, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw usage(`${flag} takes a number of seconds`);
  return n;
}

export function usage(message: string): AppError {
  return new AppError('invalid_params', message, { advice: 'See `ews-daemon --help`.', retryable: false });
}

export const COMMANDS: Record<string, Command> = { status, inbox, tokens, token, logout, consent };

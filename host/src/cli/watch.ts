// `ews-daemon watch`: the Inbox count now, then one line each time it changes, until interrupted,
// for status bars and scripts (waybar, i3blocks, tmux). --json prints each inbox.changed params
// object on one line. The daemon is told someone watches (events.subscribe `watching`), so where
// nothing pushes it polls every 15 s. Guarantees: a line only when total or unread moved; exit 3
// as soon as the account needs sign-in; a daemon that goes away is reconnected to (and started);
// a reader that goes away ends the watch at the next line.
import { AppError } from '../../../shared/errors';
import type { InboxCount, StatusResult } from '../../../shared/protocol';
import type { RpcClient } from '../daemon-client/rpc-client';
import { openClient, type CliContext, type Command } from './commands';
import { formatCount } from './format';

/** After the daemon's socket closes, wait this long before reconnecting (a restart takes about a second). */
const RECONNECT_MS = 1_000;

type Outcome = { kind: 'interrupted' } | { kind: 'needs-consent'; advice: string } | { kind: 'closed' };

export const watch: Command = {
  summary: 'print the Inbox count, then a line each time it changes, until interrupted (for status bars)',
  usage: 'watch [--account USER] [--json]',
  options: ['account'],
  async run(ctx) {
    const interrupted = new Promise<Outcome>((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve({ kind: 'interrupted' }));
      // The reader went away (`watch | head -1`): its EPIPE comes with the next line written.
      process.stdout.once('error', () => resolve({ kind: 'interrupted' }));
    });
    let last: InboxCount | null = null;
    for (;;) {
      const client = await openClient(ctx);
      const outcome = await Promise.race([interrupted, follow(ctx, client, last, (c) => (last = c))]);
      client.close();
      if (outcome.kind === 'interrupted') return 0;
      if (outcome.kind === 'needs-consent') {
        ctx.err(`ews-daemon: ${outcome.advice}`);
        return 3;
      }
      const pause = new AbortController();
      const paused = ctx.clock.sleep(RECONNECT_MS, pause.signal).then((): Outcome => ({ kind: 'closed' }));
      const again = await Promise.race([interrupted, paused]);
      pause.abort(); // interrupted during the pause: no timer left to keep the process up
      await paused.catch(() => undefined);
      if (again.kind === 'interrupted') return 0;
    }
  },
};

/** Prints the count and every change on one connection; resolves when the watch must end or reconnect. */
function follow(ctx: CliContext, client: RpcClient, last: InboxCount | null, remember: (c: InboxCount) => void): Promise<Outcome> {
  const account = ctx.args.values.account as string | undefined;
  return new Promise<Outcome>((resolve, reject) => {
    let who: string | null = last?.account ?? null;
    const show = (c: InboxCount) => {
      if (who !== null && c.account !== who) return;
      if (last && last.total === c.total && last.unread === c.unread) return;
      last = c;
      remember(c);
      ctx.out(ctx.args.values.json ? JSON.stringify(c) : `${c.account}  ${formatCount(c.total)} items, ${formatCount(c.unread)} unread`);
    };
    const consent = (s: StatusResult) => {
      const a = s.accounts.find((x) => x.username === who);
      if (a?.state.kind === 'needs-consent') resolve({ kind: 'needs-consent', advice: `${a.username} needs sign-in: ${a.state.error.advice}` });
    };
    client.onNotification(({ method, params }) => {
      if (method === 'inbox.changed') show(params as InboxCount);
      else if (method === 'status.changed') consent(params as StatusResult);
    });
    client.onClose(() => resolve({ kind: 'closed' }));
    (async () => {
      await client.call('events.subscribe', { watching: true });
      const first = await client.call('inbox.count', { account });
      who = first.account;
      consent(await client.call('status'));
      show(first);
    })().catch((e: unknown) => (e instanceof AppError && e.code === 'daemon_unreachable' ? resolve({ kind: 'closed' }) : reject(e)));
  });
}

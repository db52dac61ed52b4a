// Runs the config's notifyCommand (an argv array, no shell) when an account needs sign-in, is
// signed in again, or finds EWS turned off, for people without the extension (mail, ntfy,
// notify-send). The event, the account and the advice travel in the environment
// (EWS_DAEMON_EVENT, EWS_DAEMON_ACCOUNT, EWS_DAEMON_ADVICE), never on a command line others can
// read in `ps`. Guarantees: at most once per event per account (the same event is not repeated
// until another one happened for that account), across restarts too: the last event is kept in
// the account's records; a command that fails, hangs or is missing is logged and never stops
// the daemon; a token never reaches it.
import { spawn } from 'node:child_process';
import type { Clock, Log } from '../deps';

export type NotifyEvent = 'needs-consent' | 'signed-in' | 'ews-disabled';

/** A notifier that has not finished by then is stopped (SIGTERM): 30 s. */
export const NOTIFY_TIMEOUT_MS = 30_000;

export type Runner = (argv: string[], env: Record<string, string>, timeoutMs: number) => Promise<{ code: number | null; error?: string }>;

/** Each account's last event, kept across restarts (AccountRecords); forgotten with the account. */
export interface NoticeMemory {
  lastNotice(accountId: string): NotifyEvent | null;
  noteNotice(accountId: string, event: NotifyEvent): void;
}

export class NotifyCommand {
  private readonly running = new Set<Promise<void>>();

  /** `run` defaults to spawning the program, stopped after its timeout on `clock`. */
  constructor(private readonly deps: { argv: string[] | null; log: Log; memory: NoticeMemory; clock: Clock; run?: Runner }) {}

  /** Runs the command for this event unless it was the account's last one; resolves when it ended. */
  notify(event: NotifyEvent, who: { id: string; username: string }, advice: string): Promise<void> {
    const argv = this.deps.argv;
    if (!argv || this.deps.memory.lastNotice(who.id) === event) return Promise.resolve();
    this.deps.memory.noteNotice(who.id, event);
    const account = who.username;
    const env = { ...(process.env as Record<string, string>), EWS_DAEMON_EVENT: event, EWS_DAEMON_ACCOUNT: account, EWS_DAEMON_ADVICE: advice };
    const done = (this.deps.run ?? spawnRunner(this.deps.clock))(argv, env, NOTIFY_TIMEOUT_MS).then(
      (r) => {
        if (r.code === 0) this.deps.log.info('notifyCommand ran', { event, account });
        else this.deps.log.warn('notifyCommand failed', { event, account, program: argv[0], exitCode: r.code, error: r.error });
      },
      (e: unknown) => this.deps.log.warn('notifyCommand failed', { event, account, program: argv[0], error: String(e) }),
    );
    this.running.add(done);
    return done.finally(() => this.running.delete(done));
  }

  /** Waits for commands still running (at most their timeout). */
  async drain(): Promise<void> {
    await Promise.all([...this.running]);
  }
}

/** Spawns the program (no shell) and stops it (SIGTERM) once `timeoutMs` passed on the clock. */
const spawnRunner =
  (clock: Clock): Runner =>
  (argv, env, timeoutMs) =>
    new Promise((resolve) => {
      const [program, ...args] = argv as [string, ...string[]];
      const child = spawn(program, args, { env, stdio: 'ignore', shell: false });
      const ended = new AbortController();
      clock.sleep(timeoutMs, ended.signal).then(
        () => child.kill('SIGTERM'),
        () => undefined, // it ended first
      );
      child.on('error', (e) => {
        ended.abort();
        resolve({ code: null, error: e.message });
      });
      child.on('exit', (code, signal) => {
        ended.abort();
        resolve({ code, ...(signal ? { error: `stopped by ${signal}` } : {}) });
      });
    });

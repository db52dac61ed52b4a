// The whole product for integration tests: the emulator (Entra ID + EWS + Graph over HTTPS), a
// private EWS_DAEMON_HOME with a config pointing at it, and the real CLI and daemon run as
// processes through host/bin/ews-daemon, exactly as a user runs them.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index';
import { createHttp } from '../../host/src/io/http';
import { isPidRunning as alive } from '../../host/src/io/atomic-file';

export { alive };

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAUNCHER = path.join(REPO, 'host', 'bin', 'ews-daemon');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Stack {
  emulator: Emulator;
  home: string;
  env: Record<string, string>;
  configFile: string;
  /** Runs `ews-daemon ARGS` with the stack's environment. */
  cli(args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<CliResult>;
  /** Runs the CLI with --json and parses stdout; throws with stderr when it exits non-zero. */
  json<T = unknown>(args: string[]): Promise<T>;
  /** Signs alice (or user) in through consent begin / the emulator / consent complete, and waits for the first count the daemon fetches after it. */
  signIn(user?: string): Promise<void>;
  /** The Reply URL the emulator redirects a sign-in to (consent mode 'auto'). */
  followAuthUrl(authUrl: string): Promise<string>;
  writeConfig(extra: Record<string, unknown>): Promise<void>;
  daemonPid(): Promise<number | null>;
  stopDaemon(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

/** launcher: the ews-daemon to run (default the checkout's); another (an installed copy) finds its own daemon. */
export async function startStack(opts: { emulator?: EmulatorOptions; config?: Record<string, unknown>; launcher?: string } = {}): Promise<Stack> {
  const launcher = opts.launcher ?? LAUNCHER;
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-'));
  await fs.chmod(home, 0o700);
  const emulator = await startEmulator({ consentMode: 'auto', ...opts.emulator });
  const configFile = path.join(home, 'config.json');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    EWS_DAEMON_HOME: home,
    NODE_EXTRA_CA_CERTS: emulator.caPath,
    EWS_DAEMON_LAUNCHER: LAUNCHER,
    // Every answer of the daemon under test is checked against the protocol's result schemas.
    EWS_DAEMON_CHECK_RESULTS: '1',
  };
  delete env.EWS_DAEMON_CONFIG;
  if (opts.launcher) delete env.EWS_DAEMON_LAUNCHER;
  // No OS keyring unless a test brings its own (test/keyring/): a developer's desktop keyring is
  // never touched, and the token cache stays plain JSON for the tests that read it.
  env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/ews-daemon-tests-have-no-keyring';
  delete env.CREDENTIALS_DIRECTORY;
  const http = createHttp({ userAgent: 'ews-daemon-tests', extraCaPem: emulator.caPem });

  const writeConfig = async (extra: Record<string, unknown>) => {
    const base = { clientId: emulator.clientId, authority: emulator.authority, clientSecret: emulator.clientSecret, redirectUri: emulator.redirectUris[0], ewsUrl: emulator.ewsUrl, graphUrl: emulator.graphUrl };
    await fs.writeFile(configFile, JSON.stringify({ ...base, ...extra }, null, 2), { mode: 0o600 });
  };
  await writeConfig(opts.config ?? {});

  const cli: Stack['cli'] = (args, o = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [launcher, ...args], { env: { ...env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(o.input ?? '');
    });

  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json']);
    if (r.code !== 0) throw new Error(`ews-daemon ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  };

  const followAuthUrl = async (authUrl: string) => {
    const res = await http.request({ method: 'GET', url: authUrl });
    const location = res.headers.location;
    if (res.status !== 302 || !location) throw new Error(`the emulator answered ${res.status} without a redirect: ${res.body.slice(0, 300)}`);
    return location;
  };

  const signIn = async (user = 'alice@contoso.example') => {
    const begun = await json<{ authUrl: string }>(['consent', 'begin', '--login-hint', user]);
    const reply = await followAuthUrl(begun.authUrl);
    await json(['consent', 'complete', reply]);
    await cli(['inbox']); // settles the count the daemon starts after a sign-in, so no test races it
  };

  const daemonPid = async () => {
    const text = await fs.readFile(path.join(home, 'daemon.pid'), 'utf8').catch(() => null);
    return text ? Number(text.trim()) : null;
  };

  const stopDaemon = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const pid = await daemonPid();
    if (!pid) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    // A daemon flushing its cache on a loaded machine may take seconds: wait (up to 30 s), and
    // say so rather than let the next step race a daemon that is still there.
    for (let i = 0; i < 600 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) throw new Error(`the daemon (pid ${pid}) is still running 30 s after ${signal}`);
  };

  return {
    emulator, home, env, configFile, cli, json, signIn, followAuthUrl, writeConfig, daemonPid, stopDaemon,
    async close() {
      await stopDaemon();
      await emulator.stop();
      await http.close();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/** A CLI command left running: what it printed so far, its whole stdout lines, and its exit. */
export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** The complete lines of stdout so far (a line still being written is not one yet). */
  lines(): string[];
  exited: Promise<number | null>;
}

/** Starts `ews-daemon ARGS` against the stack and lets it run (watch, consent --listen, a call held at EWS). */
export function spawnCli(stack: Pick<Stack, 'env'>, args: string[]): RunningCli {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: stack.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  return { child, stdout: () => stdout, stderr: () => stderr, lines: () => stdout.split('\n').slice(0, -1), exited };
}

export interface PasteResult extends CliResult {
  /** The sign-in address the CLI printed. */
  authUrl: URL;
}

/**
 * `ews-daemon consent --paste --no-open --login-hint USER`, as a person without a browser on
 * this machine runs it: reads the address it prints, signs in there (the emulator answers as a
 * browser would) and pastes the Reply URL back, after `before` when given (e.g. a blank line).
 */
export function consentByPaste(stack: Stack, user: string, o: { before?: string } = {}): Promise<PasteResult> {
  return new Promise((resolve, reject) => {
    const cli = spawnCli(stack, ['consent', '--paste', '--no-open', '--login-hint', user]);
    let authUrl: URL | null = null;
    cli.child.stderr.on('data', () => {
      const url = /(https:\/\/\S+authorize\?\S+)/.exec(cli.stderr())?.[1];
      if (!url || authUrl || !/Paste its full address/.test(cli.stderr())) return;
      authUrl = new URL(url);
      stack.followAuthUrl(url).then((reply) => cli.child.stdin.end(`${o.before ?? ''}${reply}\n`), reject);
    });
    cli.child.on('error', reject);
    void cli.exited.then((code) => (authUrl ? resolve({ code, stdout: cli.stdout(), stderr: cli.stderr(), authUrl }) : reject(new Error(`consent exited ${code} before printing its address: ${cli.stderr()}`))));
  });
}

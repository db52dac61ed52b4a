// The emulator from another process's point of view (the demo, browser tests): run the bundled
// emulator as a child process, read where it listens from its banner, and drive it through its
// HTTPS admin API with the same method names as the in-process EmulatorAdmin.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHttp } from '../../host/src/io/http';
import type { EmulatorAdmin } from '../emulator/index';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** What `npm run build` makes of test/emulator/main.ts. */
export const EMULATOR_BUNDLE = path.join(REPO, 'test', 'emulator', 'dist', 'emulator.mjs');

type AdminOp = Exclude<keyof EmulatorAdmin, 'constructor'>;
/** Every EmulatorAdmin method, as an async call over HTTPS. */
export type RemoteAdmin = {
  [K in AdminOp]: EmulatorAdmin[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** POST ${url}/_admin/<op> for each method; JSON turns Infinity into null, which the API reads as Infinity. */
export function remoteAdmin(url: string, caPem: string): RemoteAdmin & { close(): Promise<void> } {
  const http = createHttp({ userAgent: 'emulator-admin', extraCaPem: caPem });
  const call = async (op: string, args: unknown[]) => {
    const res = await http.request({ method: 'POST', url: `${url}/_admin/${op}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
    const body = JSON.parse(res.body) as { result?: unknown; error?: string };
    if (res.status !== 200) throw new Error(`emulator admin ${op}: ${body.error ?? res.status}`);
    return body.result;
  };
  return new Proxy({} as RemoteAdmin & { close(): Promise<void> }, {
    // Not a thenable (an `await` must not POST /_admin/then), and no symbol-keyed methods.
    get: (_, op) => (typeof op !== 'string' || op === 'then' ? undefined : op === 'close' ? () => http.close() : (...args: unknown[]) => call(op, args)),
  });
}

export interface EmulatorProcess {
  url: string;
  /** What it printed on start (no secrets in it). */
  banner: string;
  caPath: string;
  caPem: string;
  /** A folder usable as EWS_DAEMON_HOME, with config.json pointing at the emulator. */
  home: string;
  /** NODE_EXTRA_CA_CERTS and EWS_DAEMON_HOME for a daemon or CLI talking to it. */
  env: Record<string, string>;
  admin: RemoteAdmin;
  stop(): Promise<number | null>;
}

/** Starts the emulator as its own process (`node <bundle> --dir DIR`), resolving once it listens. */
export async function spawnEmulator(opts: { dir: string; autoConsent?: boolean; script?: string }): Promise<EmulatorProcess> {
  const args = [opts.script ?? EMULATOR_BUNDLE, '--dir', opts.dir, ...(opts.autoConsent ? ['--auto-consent'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = / at (https:\/\/localhost:\d+) /.exec(out);
      if (m && out.includes('Ctrl-C stops it.')) resolve(m[1] as string);
    });
    child.stderr.on('data', (d) => (out += d));
    void exited.then((code) => reject(new Error(`the emulator exited (${code}) before it listened: ${out}`)));
  });
  const caPath = path.join(opts.dir, 'ca.pem');
  const caPem = await fs.readFile(caPath, 'utf8');
  const home = path.join(opts.dir, 'home');
  const admin = remoteAdmin(url, caPem);
  let stopping: Promise<number | null> | undefined;
  return {
    url,
    banner: out,
    caPath,
    caPem,
    home,
    env: { NODE_EXTRA_CA_CERTS: caPath, EWS_DAEMON_HOME: home },
    admin,
    /** SIGTERM, then the exit code; calling it again waits for the same exit. */
    stop() {
      stopping ??= admin.close().then(() => {
        if (child.exitCode === null) child.kill('SIGTERM');
        return exited;
      });
      return stopping;
    },
  };
}

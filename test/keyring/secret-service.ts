// A real Secret Service for tests: gnome-keyring-daemon in its own D-Bus session
// (`dbus-run-session`), its keyrings in a folder of the test's, unlocked with a known password
// (`gnome-keyring-daemon --unlock` reads it on stdin, as PAM does at login) or left locked.
// The session lasts until stop() closes the shell's stdin; the bus then goes and gnome-keyring
// with it. A new session over the same folder is a fresh login to the same keyring.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const KEYRING_PASSWORD = 'test-login-password';

export interface SecretService {
  /** DBUS_SESSION_BUS_ADDRESS and the XDG folders gnome-keyring uses: give these to the daemon and CLI. */
  env: Record<string, string>;
  /** Locks the login collection (Secret Service Lock); unlocking again needs a new session. */
  lock(): void;
  stop(): Promise<void>;
}

/** Why this machine cannot run a Secret Service, or null when it can. */
export function secretServiceMissing(): string | null {
  if (process.platform !== 'linux') return 'the Secret Service is Linux only (Keychain and Credential Manager are not tested here)';
  for (const tool of ['dbus-run-session', 'gnome-keyring-daemon', 'dbus-send']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (Debian: apt-get install gnome-keyring dbus)`;
  }
  return null;
}

/** Starts a session; `dataDir` keeps the keyrings (pass the same one to log in again). */
export async function startSecretService(opts: { dataDir: string; unlocked: boolean }): Promise<SecretService> {
  const runtimeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-xdg-run-'));
  await fs.chmod(runtimeDir, 0o700);
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const start = opts.unlocked
    ? 'printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null'
    : 'gnome-keyring-daemon --start --components=secrets >/dev/null';
  // gnome-keyring-daemon forks away from the shell and does not always leave with the bus: the
  // shell asks the bus which process owns the Secret Service, and ends that one itself.
  const owner = 'dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets';
  const script = `${start} && pid=$(${owner} | awk '/uint32/ {print $2}') && echo "BUS=$DBUS_SESSION_BUS_ADDRESS" && cat >/dev/null; [ -n "$pid" ] && kill "$pid"`;
  const xdg = { XDG_DATA_HOME: opts.dataDir, XDG_RUNTIME_DIR: runtimeDir };
  const child = spawn('dbus-run-session', ['--', 'sh', '-c', script], {
    env: { ...(process.env as Record<string, string>), ...xdg, KEYRING_PASSWORD },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const bus = await busAddress(child);
  const env = { ...xdg, DBUS_SESSION_BUS_ADDRESS: bus };
  return {
    env,
    lock() {
      const r = spawnSync(
        'dbus-send',
        ['--session', '--print-reply', '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login'],
        { env: { ...process.env, ...env }, encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`could not lock the keyring: ${r.stderr}`);
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin?.end();
      await exited;
      await fs.rm(runtimeDir, { recursive: true, force: true });
    },
  };
}

function busAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /^BUS=(.+)$/m.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.stderr?.on('data', (d) => (err += d));
    child.once('exit', (code) => reject(new Error(`dbus-run-session exited ${code} before the keyring started: ${err.slice(-500)}`)));
  });
}

// Where the daemon's files live (the README, "Configuration"). EWS_DAEMON_HOME=DIR puts
// config, state and socket under DIR; otherwise the XDG folders on Linux and the platform's
// equivalents on macOS and Windows. Pure: the environment and platform are passed in.
import path from 'node:path';

export interface Paths {
  configFile: string;
  configDir: string;
  stateDir: string;
  /** Token cache: 0600 in the 0700 state folder. */
  cacheFile: string;
  logFile: string;
  runtimeDir: string;
  /** A Unix socket in the 0700 runtime folder, or a named pipe on Windows. */
  socketPath: string;
  /** Holds the running daemon's pid, for `run` to say who already serves. */
  pidFile: string;
}

export interface PathEnv {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  homedir: string;
  uid?: number;
}

export function resolvePaths({ env, platform, homedir, uid }: PathEnv, configOverride?: string): Paths {
  const home = env.EWS_DAEMON_HOME;
  let configDir: string, stateDir: string, runtimeDir: string;
  if (home) {
    configDir = stateDir = runtimeDir = path.resolve(home);
  } else if (platform === 'darwin') {
    configDir = path.join(homedir, 'Library', 'Application Support', 'ews-daemon');
    stateDir = configDir;
    runtimeDir = path.join(configDir, 'run');
  } else if (platform === 'win32') {
    const appData = env.APPDATA ?? path.join(homedir, 'AppData', 'Roaming');
    const local = env.LOCALAPPDATA ?? path.join(homedir, 'AppData', 'Local');
    configDir = path.join(appData, 'ews-daemon');
    stateDir = path.join(local, 'ews-daemon');
    runtimeDir = stateDir;
  } else {
    configDir = path.join(env.XDG_CONFIG_HOME || path.join(homedir, '.config'), 'ews-daemon');
    stateDir = path.join(env.XDG_STATE_HOME || path.join(homedir, '.local', 'state'), 'ews-daemon');
    // Without XDG_RUNTIME_DIR (no login session), a per-user folder under the state dir.
    runtimeDir = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'ews-daemon') : path.join(stateDir, 'run');
  }
  const configFile = path.resolve(configOverride ?? env.EWS_DAEMON_CONFIG ?? path.join(configDir, 'config.json'));
  const socketPath =
    platform === 'win32' ? `\\\\.\\pipe\\ews-daemon-${(env.USERNAME ?? String(uid ?? 'user')).toLowerCase()}` : path.join(runtimeDir, 'daemon.sock');
  return {
    configFile,
    configDir: path.dirname(configFile),
    stateDir,
    cacheFile: path.join(stateDir, 'token-cache.json'),
    logFile: path.join(stateDir, 'daemon.log'),
    runtimeDir,
    socketPath,
    pidFile: path.join(runtimeDir, 'daemon.pid'),
  };
}

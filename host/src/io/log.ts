// The real Log: pino writing JSON lines to the state folder's daemon.log (0600), with every
// field named like a secret censored, at any depth we log. Detail goes here; the wire gets the
// error code, a short message and the advice.
import pino from 'pino';
import type { Log, LogFields } from '../deps';

/** Field names that may hold a secret: censored wherever they appear (top level or one deep). */
const SECRET_KEYS = [
  'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'idToken', 'id_token', 'secret', 'clientSecret',
  'client_secret', 'client_assertion', 'authCode', 'codeVerifier', 'code_verifier', 'verifier', 'authorization',
  'Authorization', 'password', 'privateKey', 'privateKeyPem', 'redirectUrl',
];
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)];

export interface LogOptions {
  /** A file path (opened 0600), or 'stderr'. */
  destination: string;
  level?: pino.Level;
}

export function createLog(options: LogOptions): Log & { flush(): void } {
  const dest =
    options.destination === 'stderr'
      ? pino.destination({ fd: 2, sync: true })
      : pino.destination({ dest: options.destination, mkdir: true, append: true, sync: false, mode: 0o600 });
  const logger = pino({ level: options.level ?? 'info', base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, dest);
  const wrap = (l: pino.Logger): Log & { flush(): void } => ({
    debug: (msg: string, fields?: LogFields) => l.debug(fields ?? {}, msg),
    info: (msg: string, fields?: LogFields) => l.info(fields ?? {}, msg),
    warn: (msg: string, fields?: LogFields) => l.warn(fields ?? {}, msg),
    error: (msg: string, fields?: LogFields) => l.error(fields ?? {}, msg),
    child: (fields: LogFields) => wrap(l.child(fields)),
    flush: () => dest.flushSync?.(),
  });
  return wrap(logger);
}

/** A Log that drops everything: for the CLI's quiet paths and for tests that don't read logs. */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog };

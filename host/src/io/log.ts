// The real Log: pino writing JSON lines to the state folder's daemon.log (0600), with every
// field named like a secret censored, at any depth we log. Detail goes here; the wire gets the
// error code, a short message and the advice.
// Guarantees of the file destination (LogFile):
// - it is opened when createLog returns (synchronously), so nothing can log before it is open;
// - it is opened without following a symbolic link (O_NOFOLLOW) and must be a regular file of
//   ours: a link or another user's file planted in the state folder is refused, never appended to;
// - writes are asynchronous and never block or throw into the caller: a failed write (a full
//   disk: ENOSPC) pauses logging (lines are dropped and counted, said in `health()`, which
//   `status` shows), and a probe every PROBE_MS resumes it once a write succeeds again;
// - it holds at most MAX_QUEUED_BYTES in memory, and the file at most maxBytes: past that it is
//   renamed to daemon.log.1 (replacing the previous one) and a new one is started;
// - close() waits for the queued lines at most the time given: nothing flushes synchronously,
//   so a crash path cannot hang on a disk that takes nothing (sonic-boom's flushSync retries
//   EAGAIN forever and throws "sonic boom is not ready yet" before its file is open).
import fs from 'node:fs';
import pino from 'pino';
import type { Log, LogFields } from '../deps';
import { openLogFile } from './log-open';

/** Field names that may hold a secret: censored wherever they appear (top level or one deep). */
const SECRET_KEYS = [
  'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'idToken', 'id_token', 'secret', 'clientSecret',
  'client_secret', 'client_assertion', 'authCode', 'codeVerifier', 'code_verifier', 'verifier', 'authorization',
  'Authorization', 'password', 'privateKey', 'privateKeyPem', 'redirectUrl',
];
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)];

/** 5 MiB: weeks of a daemon's info lines; with one rotated file, at most 10 MiB on disk. */
export const DEFAULT_MAX_LOG_BYTES = 5 * 1024 * 1024;
/** Lines waiting for the disk beyond this (1 MiB) are dropped and counted, not held. */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** While paused, a write is tried again this often (5 s): logging resumes soon after space returns. */
const PROBE_MS = 5_000;

/** Why logging is paused, for `status`: null while lines reach the file. */
export interface LogPause {
  since: number;
  /** The system error code (ENOSPC: disk full, EDQUOT: quota, EIO, …). */
  reason: string;
  dropped: number;
}

export interface LogOptions {
  /** A file path (opened 0600, never through a symlink), or 'stderr'. */
  destination: string;
  level?: pino.Level;
  /** Rotate past this size (default 5 MiB). */
  maxBytes?: number;
  /** fs.write, replaced by tests that inject a failing disk (ENOSPC) where no tmpfs can be mounted. */
  write?: WriteFn;
}

type WriteFn = (fd: number, buf: Buffer, offset: number, length: number, position: null, cb: (err: NodeJS.ErrnoException | null, written: number) => void) => void;

export interface FileLog extends Log {
  /** Null while logging works; why and since when it is paused otherwise. */
  health(): LogPause | null;
  /** Writes what is queued, waiting at most `timeoutMs`, then closes the file. Never throws. */
  close(timeoutMs?: number): Promise<void>;
}

export function createLog(options: LogOptions): FileLog {
  const dest = options.destination === 'stderr' ? null : new LogFile(options.destination, options.maxBytes ?? DEFAULT_MAX_LOG_BYTES, options.write ?? fs.write);
  const stream = dest ?? pino.destination({ fd: 2, sync: true });
  const logger = pino({ level: options.level ?? 'info', base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
  const wrap = (l: pino.Logger): Log => ({
    debug: (msg: string, fields?: LogFields) => l.debug(fields ?? {}, msg),
    info: (msg: string, fields?: LogFields) => l.info(fields ?? {}, msg),
    warn: (msg: string, fields?: LogFields) => l.warn(fields ?? {}, msg),
    error: (msg: string, fields?: LogFields) => l.error(fields ?? {}, msg),
    child: (fields: LogFields) => wrap(l.child(fields)),
  });
  return { ...wrap(logger), health: () => dest?.pause ?? null, close: (ms = 2_000) => dest?.close(ms) ?? Promise.resolve() };
}

/** pino's destination: an asynchronous, bounded, rotating appender that survives a full disk. */
class LogFile {
  pause: LogPause | null = null;
  private fd: number;
  private size: number;
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  private closed = false;
  private probe: ReturnType<typeof setTimeout> | null = null;
  private idle: (() => void)[] = [];

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly fsWrite: WriteFn,
  ) {
    ({ fd: this.fd, size: this.size } = openLogFile(file));
  }

  /** Called by pino, synchronously, once per line. Never throws. */
  write(line: string): void {
    if (this.closed) return;
    if (this.pause || this.queuedBytes + line.length > MAX_QUEUED_BYTES) {
      if (this.pause) this.pause.dropped++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (!this.writing) void this.drain();
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.writing) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref?.();
        this.idle.push(() => (clearTimeout(timer), resolve()));
      });
    }
    this.closed = true;
    if (this.probe) clearTimeout(this.probe);
    fs.close(this.fd, () => undefined);
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0 && !this.pause && !this.closed) {
      const batch = this.queue.length;
      const buf = Buffer.from(this.queue.join(''));
      this.queue = [];
      this.queuedBytes = 0;
      try {
        if (this.size + buf.length > this.maxBytes && this.size > 0) await this.rotate();
        await writeAll(this.fsWrite, this.fd, buf);
        this.size += buf.length;
      } catch (e) {
        this.paused((e as NodeJS.ErrnoException).code ?? 'EIO', batch);
      }
    }
    this.writing = false;
    for (const fn of this.idle.splice(0)) fn();
  }

  /** daemon.log → daemon.log.1 (rename replaces a planted link itself, never its target). */
  private async rotate(): Promise<void> {
    await fs.promises.rename(this.file, `${this.file}.1`);
    const old = this.fd;
    ({ fd: this.fd, size: this.size } = openLogFile(this.file, true));
    fs.close(old, () => undefined);
  }

  /** `lost`: the lines of the batch that failed (a partial write may have kept some of them). */
  private paused(reason: string, lost: number): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.pause = { since: Date.now(), reason, dropped: lost };
    this.scheduleProbe();
  }

  /** Tries one line saying what was lost; on success logging resumes. */
  private scheduleProbe(): void {
    this.probe = setTimeout(() => {
      this.probe = null;
      if (this.closed || !this.pause) return;
      const p = this.pause;
      const line = `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: 'logging resumed', pausedSince: p.since, reason: p.reason, droppedLines: p.dropped })}\n`;
      writeAll(this.fsWrite, this.fd, Buffer.from(line)).then(
        () => {
          this.size += line.length;
          this.pause = null;
        },
        () => this.scheduleProbe(),
      );
    }, PROBE_MS);
    this.probe.unref?.();
  }
}

/** fs.write until every byte is out (a regular file may take fewer bytes per call). */
async function writeAll(write: WriteFn, fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    off += await new Promise<number>((resolve, reject) => write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
  }
}

/** A Log that drops everything: for the CLI's quiet paths and for tests that don't read logs. */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog };

// The seams through which the host touches the world. Everything that reads the time, waits,
// touches files, talks HTTP or writes a log takes one of these in a `deps` object (never a
// module global), so tests drive days of time in a second, plant any file, and inject any
// fault. Real implementations live in io/ (systemClock, nodeFileSystem, createHttp, createLog);
// `npm test` (scripts/check-imports.mjs) refuses node:fs, Date.now() and setTimeout outside
// io/ but for a short list of entry points, each named there with its reason.

/** Wall-clock time and waiting. `now` is ms since the epoch. */
export interface Clock {
  now(): number;
  /**
   * Resolves after `ms`, or rejects with the signal's reason when aborted. `unref`: the wait
   * does not keep the process alive (a background retry that must not hold up an exit); if
   * nothing else is left, the process ends and the wait never resolves.
   */
  sleep(ms: number, signal?: AbortSignal, opts?: { unref?: boolean }): Promise<void>;
}

/** What stat(2) says of a path, as plain data. */
export interface FileStat {
  /** Permission bits with setuid, setgid and sticky (st_mode & 0o7777); the file-type bits are left out. */
  mode: number;
  /** The owner's user id (0 on Windows). */
  uid: number;
  /** Bytes. */
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** The inode: with size and times it tells a file replaced (rename) from one rewritten. */
  ino: number;
  isFile: boolean;
  isDirectory: boolean;
  /** Only lstat can say true: stat follows the link. */
  isSymbolicLink: boolean;
}

/**
 * Files and folders. "Missing" means ENOENT or ENOTDIR (a part of the path is a file); the ops
 * that answer null or false for a missing path still throw every other error (EACCES, ELOOP,
 * EIO…) as Node's own error, its `code` set. Text is UTF-8. Paths are used as given.
 */
export interface FileSystem {
  /** The file's text; throws when it cannot be read, missing included (ENOENT). */
  readText(file: string): Promise<string>;
  /** The file's text, or null when it is missing. */
  readTextIfExists(file: string): Promise<string | null>;
  /** The file's bytes; throws when it cannot be read, missing included. */
  readBytes(file: string): Promise<Buffer>;
  /** What is at `p`, symbolic links followed; null when it is missing (or a link to nothing). */
  stat(p: string): Promise<FileStat | null>;
  /** What is at `p` itself (a symbolic link is not followed); null when it is missing. */
  lstat(p: string): Promise<FileStat | null>;
  /**
   * stat, synchronously. Only for the token store's check "did the cache file change?", asked
   * on every token request: a local stat(2) takes ~3 µs, a round trip through libuv's thread
   * pool (the promise form) ~40 µs.
   */
  statSync(p: string): FileStat | null;
  /**
   * Whether anything is at `p` (links followed); false when it cannot be told (any error), as
   * fs.existsSync. Synchronous because pure planners take it as a predicate (install's browser
   * list, the extension's "not built" line, doctor's browser manifests).
   */
  exists(p: string): boolean;
  /** Whether this process may execute `p` (access(2) X_OK); false on any error. */
  isExecutable(p: string): Promise<boolean>;
  /** The absolute path with every link resolved; throws when a part is missing. */
  realpath(p: string): Promise<string>;
  /** The names in the folder (no `.`, `..`), in the order the OS gives; throws when it is missing. */
  readdir(dir: string): Promise<string[]>;
  /** mkdir -p; folders it makes get `mode` (default 0o700), less the umask; an existing one is left as it is. */
  mkdir(dir: string, mode?: number): Promise<void>;
  /**
   * Replaces `file` whole or not at all (temp file beside it, fsync, rename): a reader or a
   * crash sees the old content or the new. The file gets exactly `mode` (default 0o600,
   * whatever the umask). The folder must exist.
   */
  writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): Promise<void>;
  /** chmod(2): follows a symbolic link. Throws when missing. */
  chmod(p: string, mode: number): Promise<void>;
  /** rename(2): atomic within one file system, replaces `to`. Throws when `from` is missing. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file, link or socket; nothing when missing. A folder is refused (throws). */
  rm(p: string): Promise<void>;
  /** Removes the folder when it is empty: true; false when it is not empty or missing. */
  rmdirIfEmpty(dir: string): Promise<boolean>;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Abort after this long (default 30 s); a timeout throws AppError 'transient'. */
  timeoutMs?: number;
  signal?: AbortSignal;
}
export interface HttpResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}
/**
 * HTTPS with the machine's trust (NODE_EXTRA_CA_CERTS) and proxy (HTTPS_PROXY/NO_PROXY).
 * Any HTTP status resolves; only a failure to get an answer (DNS, refused, reset, timeout)
 * rejects, with AppError code 'transient'.
 */
export interface Http {
  request(req: HttpRequest): Promise<HttpResponse>;
}

/** A response whose body is read as it arrives (a long-lived stream such as EWS GetStreamingEvents). */
export interface HttpStreamResponse {
  status: number;
  /** Header names in lower case; set-cookie values joined with ", ". */
  headers: Record<string, string>;
  /** The body, chunk by chunk; ends when the server ends it, throws when the connection fails or the signal aborts. */
  chunks: AsyncIterable<Buffer>;
}
/** Opens a request whose answer is streamed; no overall timeout (the caller's signal ends it). */
export interface HttpStream {
  open(req: Omit<HttpRequest, 'timeoutMs'> & { signal: AbortSignal }): Promise<HttpStreamResponse>;
}

export type LogFields = Record<string, unknown>;
/** Structured log. Fields named like secrets are redacted by the implementation, but never pass one. */
export interface Log {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Log;
}

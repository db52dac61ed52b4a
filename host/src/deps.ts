// The seams through which the host touches the world. Everything that reads the time, talks
// HTTP or writes a log takes one of these in a `deps` object (never a module global), so tests
// drive days of time in a second and inject any fault. Real implementations live in io/.

/** Wall-clock time and waiting. `now` is ms since the epoch. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
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

// The daemon's socket: JSON-RPC 2.0 in native-messaging frames, one connection per client (a
// CLI call, a script, or a native host relaying an extension). Who may call what is the
// protocol's (METHODS[m].callers): a connection is a `cli` caller unless its first frame, a
// relay's hello, makes it an `extension` one; frames after a hello wait for its answer, so none
// is taken for the wrong caller (a CLI's calls on one connection run concurrently). Params are
// checked against their schema here, once, and handlers receive them typed. Nothing over 1 MiB
// is sent to an extension. Bad input gets
// the JSON-RPC error that fits; a frame too large to trust ends the connection, never the daemon.
import net from 'node:net';
import { AppError, isAppError } from '../../../shared/errors';
import { encodeFrame, FrameDecoder, MAX_TO_BROWSER, type DecodedFrame } from '../../../shared/framing';
import { classifyIncoming, errorResponse, resultResponse, type RpcRequest, type RpcResponse } from '../../../shared/jsonrpc';
import { isMethodName, METHODS, type Caller, type CheckedParamsOf, type MethodName, type ResultOf } from '../../../shared/protocol';
import type { Log } from '../deps';

export interface Connection {
  readonly id: number;
  /** The extension's origin when a native host relays for it; null for socket clients (CLI, scripts). */
  origin: string | null;
  /**
   * Writes one frame. Toward a browser a frame over 1 MiB would kill its port: it is not sent, and
   * `instead` (when given) says what goes in its place; without it the message is dropped and logged.
   */
  send(message: unknown, instead?: (bytes: number) => unknown): void;
  /** Ends the connection after the answer being prepared: nothing more is read from it. */
  endAfterReply(): void;
  close(): void;
  /** Runs fn when the connection closes (at once if it already has). */
  onClose(fn: () => void): void;
}

export type Handler<M extends MethodName> = (params: CheckedParamsOf<M>, conn: Connection) => Promise<ResultOf<M>>;
/** One handler per protocol method, typed from its descriptor. */
export type Handlers = { [M in MethodName]: Handler<M> };

export interface ServerDeps {
  log: Log;
  handlers: Handlers;
  onClose(conn: Connection): void;
  /**
   * Check each result against its schema before sending it (the test stack turns it on, so
   * every integration test checks the daemon's answers); a mismatch is answered as 'internal'.
   */
  checkResults?: boolean;
}

let nextConnectionId = 1;

export interface Listening {
  /** Stops accepting, ends every open connection (a browser's native host may hold one for hours) and resolves when closed. */
  close(): Promise<void>;
}

/** Listens on socketPath (the caller made its folder 0700 and removed a stale socket). */
export function listen(socketPath: string, deps: ServerDeps): Promise<Listening> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, deps);
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve({ close });
    });
  });
}

function serve(socket: net.Socket, deps: ServerDeps): void {
  const decoder = new FrameDecoder();
  const log = deps.log.child({ conn: nextConnectionId });
  let ending = false;
  let first = true;
  /** While a hello is being answered, who is calling is not known: later frames wait for it. */
  let hello: Promise<void> | null = null;
  const closers: (() => void)[] = [];
  let closed = false;
  const conn: Connection = {
    id: nextConnectionId++,
    origin: null,
    send: (message, instead) => {
      if (!socket.writable) return;
      const frame = encodeFrame(message);
      const bytes = frame.length - 4;
      if (conn.origin !== null && bytes > MAX_TO_BROWSER) {
        log.warn('a message too large for the browser was not sent', { bytes });
        if (instead) socket.write(encodeFrame(instead(bytes)));
        return;
      }
      socket.write(frame);
    },
    endAfterReply: () => {
      ending = true;
    },
    close: () => socket.end(),
    onClose: (fn) => (closed ? fn() : void closers.push(fn)),
  };
  const answer = (frame: Exclude<DecodedFrame, { kind: 'too-large' }>, isFirst: boolean) =>
    onFrame(frame, conn, isFirst, deps, log).then((response) => {
      if (response) reply(conn, response);
      if (ending) socket.end();
    });
  socket.on('data', (chunk) => {
    for (const frame of decoder.push(chunk)) {
      if (ending) return;
      if (frame.kind === 'too-large') return tooLarge(conn, frame.length, socket);
      const isFirst = first;
      first = false;
      if (hello) {
        void hello.then(() => (ending ? undefined : answer(frame, false)));
      } else if (isFirst && saysWhoCalls(frame)) {
        hello = answer(frame, true).finally(() => (hello = null));
      } else {
        void answer(frame, isFirst);
      }
    }
  });
  socket.on('error', (e) => log.debug('connection error', { error: e.message }));
  socket.on('close', () => {
    closed = true;
    deps.onClose(conn);
    for (const fn of closers.splice(0)) fn();
  });
}

/** A first frame that decides who the connection speaks for: a method only a relay may call (its hello). */
function saysWhoCalls(frame: DecodedFrame): boolean {
  const method = frame.kind === 'message' ? (frame.value as { method?: unknown } | null)?.method : undefined;
  return typeof method === 'string' && isMethodName(method) && METHODS[method].callers.every((c) => c === 'relay');
}

function tooLarge(conn: Connection, length: number, socket: net.Socket): void {
  conn.send(errorResponse(null, new AppError('frame_too_large', `A frame of ${length} bytes is over the 64 MiB limit; closing the connection.`, { advice: 'Send smaller messages.', retryable: false })));
  socket.end();
}

async function onFrame(frame: Exclude<DecodedFrame, { kind: 'too-large' }>, conn: Connection, isFirst: boolean, deps: ServerDeps, log: Log): Promise<RpcResponse | null> {
  if (frame.kind === 'bad-json') {
    return errorResponse(null, new AppError('parse_error', `Parse error: ${frame.reason}.`, { advice: 'Send UTF-8 JSON in each frame.', retryable: false }));
  }
  const incoming = classifyIncoming(frame.value);
  if (incoming.kind === 'invalid') {
    return errorResponse(incoming.id, new AppError('invalid_request', `Invalid request: ${incoming.reason}.`, { advice: 'Send JSON-RPC 2.0 requests.', retryable: false }));
  }
  if (incoming.kind !== 'request') return null; // notifications and stray responses from clients are ignored
  const req = incoming.message;
  try {
    return resultResponse(req.id, await dispatch(req, conn, isFirst, deps));
  } catch (e) {
    return errorResponse(req.id, asAppError(e, req.method, log));
  }
}

async function dispatch(req: RpcRequest, conn: Connection, isFirst: boolean, deps: ServerDeps): Promise<unknown> {
  if (!isMethodName(req.method)) {
    const known = Object.keys(METHODS).filter((m) => !(METHODS[m as MethodName].callers as readonly Caller[]).every((c) => c === 'relay'));
    throw new AppError('method_not_found', `Method not found: ${req.method}.`, { advice: `Known methods: ${known.join(', ')}.`, retryable: false });
  }
  return call(req.method, req.params, conn, isFirst, deps);
}

/** Checks who calls and with what, then runs the method's handler: the one place params are validated. */
async function call<M extends MethodName>(method: M, raw: unknown, conn: Connection, isFirst: boolean, deps: ServerDeps): Promise<ResultOf<M>> {
  const callers: readonly Caller[] = METHODS[method].callers;
  const caller: Caller = conn.origin !== null ? 'extension' : 'cli';
  if (!callers.includes(caller) && !(isFirst && callers.includes('relay'))) throw notForCaller(method, callers, caller);
  const params = METHODS[method].params.safeParse(raw);
  if (!params.success) {
    const issues = params.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    throw new AppError('invalid_params', `Invalid params for ${method}: ${issues}.`, { advice: 'See PROTOCOL.md for the method’s params.', retryable: false });
  }
  const handler = deps.handlers[method] as Handler<M>;
  const result = await handler(params.data as CheckedParamsOf<M>, conn);
  if (deps.checkResults) {
    const checked = METHODS[method].result.safeParse(result);
    if (!checked.success) throw new Error(`${method} answered outside the protocol: ${checked.error.message}`);
  }
  return result;
}

function notForCaller(method: MethodName, callers: readonly Caller[], caller: Caller): AppError {
  if (callers.every((c) => c === 'relay')) {
    return new AppError('invalid_request', `${method} is accepted only as the native host's first frame.`, { advice: 'This is a native-host bug; reinstall with `ews-daemon install`.', retryable: false });
  }
  return new AppError('method_forbidden', `${method} is not available to the ${caller === 'extension' ? 'browser extension' : 'command line'}.`, {
    advice: 'Raw tokens are handed only to local scripts on the daemon socket (`ews-daemon token`).',
    retryable: false,
  });
}

/** A request id echoed in the error that replaces a too-large answer: longer ones become null. */
const MAX_ECHOED_ID_CHARS = 256;

function reply(conn: Connection, response: RpcResponse): void {
  // The replacement must itself fit: an id of any length would make it as large as the answer.
  // JSON-RPC 2.0 allows a null id when the request's cannot be given back (§5).
  const id = JSON.stringify(response.id ?? null).length <= MAX_ECHOED_ID_CHARS ? response.id : null;
  conn.send(response, (bytes) =>
    errorResponse(id, new AppError('response_too_large', `The answer (${bytes} bytes) is over the 1 MiB a browser accepts.`, { advice: 'Ask for less, e.g. one account with --account.', retryable: false })),
  );
}

function asAppError(e: unknown, method: string, log: Log): AppError {
  if (isAppError(e)) return e;
  log.error('handler failed', { method, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  return new AppError('internal', `Internal error in ${method}.`, { advice: 'This is a bug; the daemon log has the detail.', retryable: false });
}

// The daemon's socket: JSON-RPC 2.0 in native-messaging frames, one connection per client (a
// CLI call, a script, or a native host relaying an extension). A connection whose first frame
// is relay.hello is a native-messaging caller: its origin must be allowed, it may call only the
// methods marked for it, and nothing over 1 MiB is sent to it. Bad input gets the JSON-RPC error
// that fits; a frame too large to trust ends the connection, never the daemon.
import net from 'node:net';
import { AppError, isAppError } from '../../../shared/errors';
import { encodeFrame, FrameDecoder, MAX_TO_BROWSER, type DecodedFrame } from '../../../shared/framing';
import { classifyIncoming, errorResponse, resultResponse, type RpcRequest, type RpcResponse } from '../../../shared/jsonrpc';
import { isMethodName, METHODS, type MethodName } from '../../../shared/protocol';
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
  close(): void;
}

export type Handler = (params: unknown, conn: Connection) => Promise<unknown>;
export type Handlers = Record<Exclude<MethodName, 'relay.hello'>, Handler>;

export interface ServerDeps {
  log: Log;
  handlers: Handlers;
  isAllowedOrigin(origin: string): boolean;
  onClose(conn: Connection): void;
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
  let first = true;
  let refused = false; // after a refused hello nothing more is read: those frames are not the CLI's
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
    close: () => socket.end(),
  };
  socket.on('data', (chunk) => {
    for (const frame of decoder.push(chunk)) {
      if (refused) return;
      if (frame.kind === 'too-large') return tooLarge(conn, frame.length, socket);
      const isFirst = first;
      first = false;
      const pending = onFrame(frame, conn, isFirst, deps, log);
      // A refused hello answers synchronously (onFrame has not awaited yet): stop reading at once.
      if (isFirst && conn.origin === null && isHello(frame)) refused = true;
      void pending.then((response) => response && reply(conn, response));
    }
  });
  socket.on('error', (e) => log.debug('connection error', { error: e.message }));
  socket.on('close', () => deps.onClose(conn));
}

function isHello(frame: DecodedFrame): boolean {
  return frame.kind === 'message' && typeof frame.value === 'object' && frame.value !== null && (frame.value as { method?: unknown }).method === 'relay.hello';
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
  if (req.method === 'relay.hello') return hello(req, conn, isFirst, deps);
  try {
    return resultResponse(req.id, await dispatch(req, conn, deps));
  } catch (e) {
    return errorResponse(req.id, asAppError(e, req.method, log));
  }
}

function hello(req: RpcRequest, conn: Connection, isFirst: boolean, deps: ServerDeps): RpcResponse {
  const parsed = METHODS['relay.hello'].params.safeParse(req.params);
  if (!isFirst || !parsed.success) {
    return errorResponse(req.id, new AppError('invalid_request', 'relay.hello is accepted only as the first frame, with an origin.', { advice: 'This is a native-host bug; reinstall with `ews-daemon install`.', retryable: false }));
  }
  const origin = parsed.data.origin;
  if (!deps.isAllowedOrigin(origin)) {
    setImmediate(() => conn.close());
    return errorResponse(req.id, new AppError('origin_forbidden', `The extension ${origin} is not allowed to talk to ews-daemon.`, {
      advice: `Add its id to "extensionIds" in the config, or run \`ews-daemon install --extension-id <id>\`.`,
      retryable: false,
    }));
  }
  conn.origin = origin;
  return resultResponse(req.id, { accepted: true });
}

async function dispatch(req: RpcRequest, conn: Connection, deps: ServerDeps): Promise<unknown> {
  if (!isMethodName(req.method) || req.method === 'relay.hello') {
    throw new AppError('method_not_found', `Method not found: ${req.method}.`, { advice: `Known methods: ${Object.keys(deps.handlers).join(', ')}.`, retryable: false });
  }
  const spec = METHODS[req.method];
  if (conn.origin !== null && !spec.nativeMessaging) {
    throw new AppError('method_forbidden', `${req.method} is not available to the browser extension.`, {
      advice: 'Raw tokens are handed only to local scripts on the daemon socket (`ews-daemon token`).',
      retryable: false,
    });
  }
  const params = spec.params.safeParse(req.params);
  if (!params.success) {
    const issues = params.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    throw new AppError('invalid_params', `Invalid params for ${req.method}: ${issues}.`, { advice: 'See PROTOCOL.md for the method’s params.', retryable: false });
  }
  return deps.handlers[req.method](params.data, conn);
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

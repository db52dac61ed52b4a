// The CLI's and scripts' link to the daemon: the shared JSON-RPC peer (shared/rpc-peer.ts) on
// the daemon's socket, framed by shared/framing. Every pending call is rejected (never left
// hanging) when the socket closes. Types come from shared/protocol by `import type` only, so
// zod is not loaded.
import type { Duplex } from 'node:stream';
import { AppError } from '../../../shared/errors';
import { encodeFrame, FrameDecoder } from '../../../shared/framing';
import type { MethodName, Notification, ParamsOf, ResultOf } from '../../../shared/protocol';
import { RpcPeer } from '../../../shared/rpc-peer';
import { connectOrStart, type ConnectOptions } from './connect';

export interface RpcClientOptions extends ConnectOptions {
  /** Default per-call timeout in ms. */
  callTimeoutMs?: number;
}

/**
 * 60 s: longer than one mailbox or token call with the Http seam's 30 s timeout and a retry,
 * so a call times out here only when the daemon is stuck.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

const nodeTimers = { setTimer: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimer: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

export class RpcClient {
  private readonly decoder = new FrameDecoder();
  private readonly peer: RpcPeer;

  /** Connects (starting the daemon unless noStart) and returns a client on that socket. */
  static async connect(opts: RpcClientOptions): Promise<RpcClient> {
    return new RpcClient(await connectOrStart(opts), opts.callTimeoutMs);
  }

  constructor(
    private readonly socket: Duplex,
    callTimeoutMs: number = DEFAULT_CALL_TIMEOUT_MS,
  ) {
    this.peer = new RpcPeer({ send: (m) => socket.write(encodeFrame(m)) }, nodeTimers, {
      peerName: 'daemon',
      timeoutMs: () => callTimeoutMs,
      timeoutAdvice: 'Try again; if it keeps happening, `ews-daemon doctor` and the daemon log say why.',
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and rejects what is pending
    socket.on('close', () => this.peer.end(closed('the daemon closed the connection')));
  }

  call<M extends MethodName>(method: M, params?: ParamsOf<M>, opts: { timeoutMs?: number } = {}): Promise<ResultOf<M>> {
    return this.peer.call(method, params, opts);
  }

  /** Calls fn for every notification (e.g. status.changed after events.subscribe); returns an unsubscribe. */
  onNotification(fn: (n: Notification) => void): () => void {
    return this.peer.onNotification(fn);
  }

  /** Calls fn once when the connection ends (at once if it already has). */
  onClose(fn: () => void): void {
    if (this.socket.destroyed) fn();
    else this.socket.once('close', fn);
  }

  close(): void {
    this.peer.end(closed('the client closed the connection'));
    this.socket.end();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (frame.kind === 'too-large') {
        this.peer.end(new AppError('frame_too_large', `The daemon sent a frame of ${frame.length} bytes, over the limit.`, { advice: 'This is a daemon bug; its log may say more.', retryable: false }));
        this.socket.destroy();
        return;
      }
      if (frame.kind === 'message') this.peer.receive(frame.value);
    }
  }
}

function closed(why: string): AppError {
  return new AppError('daemon_unreachable', `The daemon connection ended: ${why}.`, {
    advice: 'Run the command again; if the daemon stopped, its log (see `ews-daemon doctor`) says why.',
    retryable: true,
  });
}

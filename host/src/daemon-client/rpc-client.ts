// The CLI's and scripts' link to the daemon: the shared JSON-RPC peer (shared/rpc-peer.ts) on
// the daemon's socket, framed by shared/framing. Every pending call is rejected (never left
// hanging) when the socket closes. A client made by connect() rides a daemon restart: an
// idempotent call (IDEMPOTENT) whose connection ends before its answer reconnects, starting the
// daemon again unless noStart, and is asked again (at most MAX_REASKS times); any other call
// fails with daemon_unreachable, since it may have taken effect. Types come from shared/protocol
// by `import type` only, so zod is not loaded.
import type { Duplex } from 'node:stream';
import { AppError } from '../../../shared/errors';
import { encodeFrame, FrameDecoder } from '../../../shared/framing';
import type { MethodName, Notification, ParamsOf, ResultOf } from '../../../shared/protocol';
import { RpcPeer } from '../../../shared/rpc-peer';
import type { Clock } from '../deps';
import { nodeTimers, systemClock } from '../io/clock';
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

/** Calls that change nothing (or only renew a token): asking twice does no harm. */
const IDEMPOTENT: ReadonlySet<string> = new Set<MethodName>(['status', 'inbox.count', 'tokens.view', 'token.get']);

/**
 * Times an idempotent call is asked again after its connection ended: the first new connection
 * may still reach the dying daemon's listener (the kernel closes a killed process's descriptors
 * one by one), so one is not always enough; three ride a restart and stop a daemon that dies on
 * every attempt from being restarted without end.
 */
const MAX_REASKS = 3;
/** Pause before the 2nd and 3rd re-ask, times the attempt number (ms). */
const REASK_PAUSE_MS = 50;

/** The errors that mean "the connection ended before the answer", as opposed to a daemon's error or a timeout. */
const connectionLost = new WeakSet<AppError>();

export class RpcClient {
  private decoder = new FrameDecoder();
  private peer!: RpcPeer;
  private socket!: Duplex;
  private readonly listeners = new Set<(n: Notification) => void>();
  /** How to connect again after the daemon went away; null: never (a socket handed in). */
  private reconnect: (() => Promise<Duplex>) | null = null;
  /** Paces the re-asks after a lost connection (connect()'s clock). */
  private clock: Clock = systemClock;
  private reopening: Promise<void> | null = null;
  private closedByUs = false;

  /** Connects (starting the daemon unless noStart) and returns a client on that socket. */
  static async connect(opts: RpcClientOptions): Promise<RpcClient> {
    const client = new RpcClient(await connectOrStart(opts), opts.callTimeoutMs);
    client.reconnect = () => connectOrStart(opts);
    client.clock = opts.clock ?? systemClock;
    return client;
  }

  constructor(
    socket: Duplex,
    private readonly callTimeoutMs: number = DEFAULT_CALL_TIMEOUT_MS,
  ) {
    this.attach(socket);
  }

  private attach(socket: Duplex): void {
    this.socket = socket;
    this.decoder = new FrameDecoder();
    const peer = new RpcPeer({ send: (m) => socket.write(encodeFrame(m)) }, nodeTimers, {
      peerName: 'daemon',
      timeoutMs: () => this.callTimeoutMs,
      timeoutAdvice: 'Try again; if it keeps happening, `ews-daemon doctor` and the daemon log say why.',
    });
    peer.onNotification((n) => {
      for (const fn of this.listeners) fn(n);
    });
    this.peer = peer;
    socket.on('data', (chunk: Buffer) => this.socket === socket && this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and rejects what is pending
    socket.on('close', () => peer.end(closed('the daemon closed the connection')));
  }

  /** One call; an idempotent one is asked once more on a new connection if the daemon went away mid-call. */
  async call<M extends MethodName>(method: M, params?: ParamsOf<M>, opts: { timeoutMs?: number } = {}): Promise<ResultOf<M>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.peer.call(method, params, opts);
      } catch (e) {
        const again = e instanceof AppError && connectionLost.has(e) && IDEMPOTENT.has(method) && this.reconnect !== null && !this.closedByUs;
        if (!again || attempt > MAX_REASKS) throw e;
        // A daemon killed mid-call closes our connection before its listening socket: the first
        // reconnect may reach that dying listener and be reset at once. Wait a little, ask again.
        if (attempt > 1) await this.clock.sleep(REASK_PAUSE_MS * attempt);
        await this.reopen();
      }
    }
  }

  /** A new connection (the daemon started again if need be), shared by the calls that lost the old one. */
  private reopen(): Promise<void> {
    this.reopening ??= this.reconnect!().then(
      (socket) => {
        this.reopening = null;
        this.attach(socket);
      },
      (e: unknown) => {
        this.reopening = null;
        throw e;
      },
    );
    return this.reopening;
  }

  /** Calls fn for every notification (e.g. status.changed after events.subscribe); returns an unsubscribe. */
  onNotification(fn: (n: Notification) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Calls fn once when the connection ends (at once if it already has). */
  onClose(fn: () => void): void {
    if (this.socket.destroyed) fn();
    else this.socket.once('close', fn);
  }

  close(): void {
    this.closedByUs = true;
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
  const e = new AppError('daemon_unreachable', `The daemon connection ended: ${why}.`, {
    advice: 'Run the command again; if the daemon stopped, its log (see `ews-daemon doctor`) says why.',
    retryable: true,
  });
  connectionLost.add(e);
  return e;
}

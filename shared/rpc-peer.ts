// The one JSON-RPC 2.0 caller of the daemon, for every client: the CLI on the daemon's socket
// and the extension on its native-messaging port. It numbers calls, times each one out, hands
// notifications to listeners, turns error responses into AppErrors (fromWire), and fails every
// pending call when its transport ends, so no call is ever left hanging. The transport does
// the framing (the browser, or the socket's frame codec); timers are passed in, so a test
// drives them. Types only from protocol.ts: zod is not loaded by the CLI or the extension.
import { AppError, fromWire } from './errors';
import { classifyIncoming, request, type RpcId } from './jsonrpc';
import type { MethodName, Notification, ParamsOf, ResultOf } from './protocol';

export interface RpcTransport {
  /** Sends one message; may throw when the link is already gone. */
  send(message: unknown): void;
}

export interface RpcTimers {
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface RpcPeerOptions {
  /** Who answers, for messages: "daemon", "companion". */
  peerName: string;
  /** How long each method may take, in ms. */
  timeoutMs(method: MethodName): number;
  /** What a person can do when a call timed out. */
  timeoutAdvice: string;
}

interface Pending {
  method: MethodName;
  resolve(value: unknown): void;
  reject(error: AppError): void;
  timer: unknown;
}

export class RpcPeer {
  private nextId = 1;
  private readonly pending = new Map<RpcId, Pending>();
  private readonly listeners = new Set<(n: Notification) => void>();
  private ended: AppError | null = null;
  /** An error answer with id null: the other side's last word before it goes (e.g. the relay's). */
  lastWord: AppError | null = null;

  constructor(
    private readonly transport: RpcTransport,
    private readonly timers: RpcTimers,
    private readonly opts: RpcPeerOptions,
  ) {}

  call<M extends MethodName>(method: M, params?: ParamsOf<M>, o: { timeoutMs?: number } = {}): Promise<ResultOf<M>> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    const ms = o.timeoutMs ?? this.opts.timeoutMs(method);
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = this.timers.setTimer(() => {
        this.pending.delete(id);
        reject(new AppError('timeout', `The ${this.opts.peerName} did not answer ${method} within ${formatMs(ms)}.`, { advice: this.opts.timeoutAdvice, retryable: true }));
      }, ms);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.transport.send(request(id, method, params));
      } catch (e) {
        this.settle(id, undefined, new AppError('daemon_unreachable', `Could not send ${method} to the ${this.opts.peerName} (${e instanceof Error ? e.message : String(e)}).`, { advice: 'Try again: the connection is opened anew on demand.', retryable: true }));
      }
    });
  }

  /** Calls fn for each notification (after events.subscribe); returns the unsubscribe. */
  onNotification(fn: (n: Notification) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** One decoded message from the other side. Anything that is not a response or a notification is ignored. */
  receive(value: unknown): void {
    const incoming = classifyIncoming(value);
    if (incoming.kind === 'notification') {
      // The daemon is the one peer we speak to, and it sends only the protocol's notifications.
      const { method, params } = incoming.message;
      for (const fn of this.listeners) fn({ method, params } as Notification);
    } else if (incoming.kind === 'response') {
      const r = incoming.message;
      if ('error' in r && r.id === null) this.lastWord = fromWire(r.error, 'the last message');
      else if (r.id !== null) this.settle(r.id, 'result' in r ? r.result : undefined, 'error' in r ? fromWire(r.error, this.pending.get(r.id)?.method ?? 'a call') : null);
    }
  }

  /** The link is gone: every pending call fails with `error`, and so does every later call. */
  end(error: AppError): void {
    this.ended ??= error;
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, error);
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  private settle(id: RpcId, result: unknown, error: AppError | null): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.timers.clearTimer(p.timer);
    if (error) p.reject(error);
    else p.resolve(result);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

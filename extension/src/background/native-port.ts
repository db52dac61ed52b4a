// The service worker's one link to the companion: a native-messaging port carrying JSON-RPC.
// Guarantees: every call settles (result, the daemon's error, or a 'timeout' AppError after its
// method's limit); a closed port fails its calls with a classified error and is reopened with
// back-off; each new port is greeted with `status` and `events.subscribe`, so events resume
// after the daemon or the host restarts. The browser does the framing.
import { AppError } from '../../../shared/errors';
import type { MethodName, ParamsOf, ResultOf, StatusResult } from '../../../shared/protocol';
import type { RpcError } from '../../../shared/errors';
import type { InstallHint } from '../lib/messages';
import { classifyPortEnd } from './port-errors';

export interface NativePort {
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(cb: (message: unknown) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

export interface NativeDeps {
  connect(): NativePort;
  /** Why the port closed (port.error in Firefox, runtime.lastError in Chromium), read in onDisconnect. */
  disconnectReason(port: NativePort): string | undefined;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  now(): number;
  hint: InstallHint;
  log(message: string, detail?: unknown): void;
}

export type ClientEvent =
  | { kind: 'connecting' }
  | { kind: 'ready'; status: StatusResult }
  | { kind: 'failed'; error: AppError; nextAttemptAt: number | null }
  | { kind: 'notification'; method: string; params: unknown };

/** Per-method answer limits, in ms. Sign-in completion redeems a code and may fetch the inbox. */
const CALL_TIMEOUT_MS: Record<MethodName, number> = {
  status: 10_000,
  'consent.begin': 10_000,
  'consent.complete': 60_000,
  'consent.cancel': 5_000,
  'inbox.count': 60_000,
  'tokens.view': 10_000,
  'account.remove': 10_000,
  'token.get': 10_000,
  'events.subscribe': 10_000,
  'relay.hello': 10_000,
};

/** Waits before reopening a closed port, in ms: quick for a daemon restart, then no more than a minute. */
const RECONNECT_DELAYS_MS = [300, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: AppError): void;
  timer: unknown;
}

export class NativeClient {
  private port: NativePort | null = null;
  private answered = false;
  /** Why this port failed, when the companion said so itself (better than classifying the close). */
  private portError: AppError | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private readonly listeners = new Set<(e: ClientEvent) => void>();
  /** A popup is open: the daemon polls faster where nothing pushes (events.subscribe `watching`). */
  private watching = false;

  constructor(private readonly deps: NativeDeps) {}

  /** Says whether a person is looking; re-subscribes on an open port so the daemon knows now. */
  setWatching(on: boolean): void {
    if (this.watching === on) return;
    this.watching = on;
    if (this.port && this.answered) this.subscribe().catch((e: unknown) => this.deps.log('events.subscribe failed', String(e)));
  }

  private subscribe(): Promise<unknown> {
    return this.call('events.subscribe', this.watching ? { watching: true } : undefined);
  }

  on(listener: (e: ClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the port now if it is closed (also cutting a back-off wait short). */
  ensureOpen(): void {
    if (this.port) return;
    if (this.reconnectTimer !== null) this.deps.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    this.open();
  }

  call<M extends MethodName>(method: M, params?: ParamsOf<M>): Promise<ResultOf<M>> {
    this.ensureOpen();
    const port = this.port!;
    const id = this.nextId++;
    const limit = CALL_TIMEOUT_MS[method];
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = this.deps.setTimer(() => {
        this.pending.delete(id);
        reject(timeoutError(method, limit));
      }, limit);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      const message = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      try {
        port.postMessage(message);
      } catch (e) {
        this.settle(id, null, new AppError('daemon_unreachable', `Could not send ${method} to the companion (${String(e)}).`, reconnecting));
      }
    });
  }

  private open(): void {
    this.answered = false;
    this.portError = null;
    this.emit({ kind: 'connecting' });
    const port = this.deps.connect();
    this.port = port;
    port.onMessage.addListener((m) => this.receive(port, m));
    port.onDisconnect.addListener(() => this.closed(port, this.deps.disconnectReason(port)));
    void this.greet(port);
  }

  private async greet(port: NativePort): Promise<void> {
    try {
      const status = await this.call('status');
      if (port !== this.port) return;
      this.attempt = 0;
      this.emit({ kind: 'ready', status });
      await this.subscribe();
    } catch (e) {
      if (port !== this.port || !(e instanceof AppError)) return;
      this.deps.log('greeting the companion failed', e.data);
      if (e.code === 'timeout') {
        this.portError = e;
        port.disconnect();
        this.closed(port, 'the companion did not answer');
      } else if (this.answered) {
        this.portError = e;
      }
    }
  }

  private receive(port: NativePort, message: unknown): void {
    if (port !== this.port || typeof message !== 'object' || message === null) return;
    this.answered = true;
    const m = message as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: RpcError };
    if (typeof m.method === 'string' && m.id === undefined) {
      this.emit({ kind: 'notification', method: m.method, params: m.params });
      return;
    }
    if (m.id === null && m.error) {
      // The host's word on why it is about to exit (e.g. the daemon would not start): keep it for the close.
      this.portError = toAppError(m.error);
      return;
    }
    if (typeof m.id !== 'number') return;
    const error = m.error ? toAppError(m.error) : null;
    this.settle(m.id, m.result, error);
  }

  private settle(id: number, result: unknown, error: AppError | null): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.deps.clearTimer(p.timer);
    if (error) p.reject(error);
    else p.resolve(result);
  }

  private closed(port: NativePort, reason: string | undefined): void {
    if (port !== this.port) return;
    this.port = null;
    const error = this.portError ?? classifyPortEnd({ reason, answered: this.answered }, this.deps.hint);
    this.deps.log('companion port closed', { reason, code: error.code });
    for (const id of [...this.pending.keys()]) this.settle(id, null, error);
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)]!;
    this.attempt++;
    this.reconnectTimer = this.deps.setTimer(() => {
      this.reconnectTimer = null;
      if (!this.port) this.open();
    }, delay);
    this.emit({ kind: 'failed', error, nextAttemptAt: this.deps.now() + delay });
  }

  private emit(e: ClientEvent): void {
    for (const l of this.listeners) l(e);
  }
}

const reconnecting = { advice: 'The extension reconnects on its own; if this stays, run `ews-daemon status` in a terminal.', retryable: true };

function timeoutError(method: string, ms: number): AppError {
  return new AppError('timeout', `The companion did not answer ${method} within ${ms / 1000} s.`, {
    advice: 'Check that the daemon runs (`ews-daemon status`); its log is in its state folder.',
    retryable: true,
  });
}

function toAppError(e: RpcError): AppError {
  if (e && typeof e === 'object' && e.data && typeof e.data.code === 'string') {
    const { code, ...fields } = e.data;
    return new AppError(code, e.message, { ...fields, advice: fields.advice ?? '', retryable: fields.retryable ?? false });
  }
  return new AppError('internal', `The companion answered with an error the extension cannot read (${String(e?.message)}).`, {
    advice: 'Update the extension and the companion to the same version.',
    retryable: false,
  });
}

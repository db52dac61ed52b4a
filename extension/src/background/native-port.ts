// The service worker's one link to the companion: a native-messaging port carrying JSON-RPC,
// spoken by the shared peer (shared/rpc-peer.ts), one per port. Guarantees: every call settles
// (result, the daemon's error, or a 'timeout' AppError after its method's limit); a closed
// port fails its calls with a classified error and is reopened with back-off; each new port is
// greeted with `status` and `events.subscribe`, so events resume after the daemon or the host
// restarts. The browser does the framing.
import { AppError } from '../../../shared/errors';
import type { ExtensionMethod, Notification, ParamsOf, ResultOf, StatusResult } from '../../../shared/protocol';
import { RpcPeer } from '../../../shared/rpc-peer';
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
  | { kind: 'notification'; notification: Notification };

/** Per-method answer limits, in ms. Sign-in completion redeems a code and may fetch the inbox. */
const CALL_TIMEOUT_MS: Record<ExtensionMethod, number> = {
  status: 10_000,
  'consent.begin': 10_000,
  'consent.complete': 60_000,
  'consent.cancel': 5_000,
  'consent.deviceCode.begin': 30_000,
  // A device code lives 15 minutes at Entra; the wait answers when the user is done.
  'consent.deviceCode.wait': 16 * 60_000,
  'consent.deviceCode.cancel': 5_000,
  'inbox.count': 60_000,
  'tokens.view': 10_000,
  'account.remove': 10_000,
  'events.subscribe': 10_000,
};

/** Waits before reopening a closed port, in ms: quick for a daemon restart, then no more than a minute. */
const RECONNECT_DELAYS_MS = [300, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

export class NativeClient {
  private port: NativePort | null = null;
  private peer: RpcPeer | null = null;
  private answered = false;
  /** Why this port failed, when the greeting found out (better than classifying the close). */
  private portError: AppError | null = null;
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

  call<M extends ExtensionMethod>(method: M, params?: ParamsOf<M>): Promise<ResultOf<M>> {
    this.ensureOpen();
    return this.peer!.call(method, params);
  }

  private open(): void {
    this.answered = false;
    this.portError = null;
    this.emit({ kind: 'connecting' });
    const port = this.deps.connect();
    const peer = new RpcPeer({ send: (m) => port.postMessage(m) }, this.deps, {
      peerName: 'companion',
      timeoutMs: (method) => CALL_TIMEOUT_MS[method as ExtensionMethod],
      timeoutAdvice: 'Check that the daemon runs (`ews-daemon status`); its log is in its state folder.',
    });
    peer.onNotification((notification) => this.emit({ kind: 'notification', notification }));
    this.port = port;
    this.peer = peer;
    port.onMessage.addListener((m) => {
      if (port !== this.port) return;
      this.answered = true;
      peer.receive(m);
    });
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

  private closed(port: NativePort, reason: string | undefined): void {
    if (port !== this.port) return;
    this.port = null;
    // The host's own word on why it exits (e.g. the daemon would not start) beats classifying the close.
    const error = this.peer?.lastWord ?? this.portError ?? classifyPortEnd({ reason, answered: this.answered }, this.deps.hint);
    this.deps.log('companion port closed', { reason, code: error.code });
    this.peer?.end(error);
    this.peer = null;
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

// Who listens to the daemon's events (events.subscribe), and whether a person is looking (the
// popup is open, `watch` runs), which decides how often counts are polled. Guarantees: the many
// changes of one tick reach each listener as one status.changed; nothing is built while nobody
// listens; a listener that throws does not keep the others from hearing.
import type { NotificationName, NotificationParamsOf } from '../../../shared/protocol';
import type { Log } from '../deps';

export type Emit = <N extends NotificationName>(method: N, params: NotificationParamsOf<N>) => void;

export class Subscribers {
  private readonly listeners = new Map<Emit, { watching: boolean }>();
  private statusQueued = false;

  /** `status` builds the status.changed params; `changed` hears every (un)subscription. */
  constructor(private readonly deps: { log: Log; status: () => NotificationParamsOf<'status.changed'>; changed: () => void }) {}

  /** Adds (or, for the same listener, updates) a subscriber; returns its unsubscribe. */
  add(listener: Emit, opts: { watching?: boolean } = {}): () => void {
    this.listeners.set(listener, { watching: opts.watching ?? false });
    this.deps.changed();
    return () => {
      this.listeners.delete(listener);
      this.deps.changed();
    };
  }

  counts(): { listening: number; watching: number } {
    return { listening: this.listeners.size, watching: [...this.listeners.values()].filter((l) => l.watching).length };
  }

  /** Coalesces the many changes of one tick into one status.changed. */
  queueStatus(): void {
    if (this.statusQueued || this.listeners.size === 0) return;
    this.statusQueued = true;
    queueMicrotask(() => {
      this.statusQueued = false;
      this.emit('status.changed', this.deps.status());
    });
  }

  emit: Emit = (method, params) => {
    for (const l of this.listeners.keys()) {
      try {
        l(method, params);
      } catch (e) {
        this.deps.log.error('an event listener threw', { method, error: String(e) });
      }
    }
  };
}

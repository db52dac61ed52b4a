// The service worker's one snapshot of what the popup shows (View): the companion link, the
// daemon's last status with inbox counts folded in from events, and the last sign-in outcome.
// Every change is kept in storage.session (so a woken service worker draws the badge and the
// popup at once) and handed to listeners. Updates are pure functions below the class.
import type { InboxCount, StatusResult } from '../../../shared/protocol';
import type { Connection, ConsentNotice, InstallHint, View } from '../lib/messages';

export interface SessionStorage {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
}

const STORAGE_KEY = 'view';

export class ViewStore {
  private view: View;
  private readonly listeners = new Set<(v: View) => void>();

  constructor(
    private readonly storage: SessionStorage,
    install: InstallHint,
  ) {
    this.view = { connection: { kind: 'connecting' }, status: null, statusAt: null, consent: null, pendingConsents: 0, install };
  }

  get current(): View {
    return this.view;
  }

  /** Takes back what an earlier life of the service worker saw; the link itself starts over. */
  async restore(): Promise<void> {
    const saved = (await this.storage.get(STORAGE_KEY))[STORAGE_KEY] as View | undefined;
    if (!saved || this.view.status) return;
    this.update({ ...saved, connection: this.view.connection, install: this.view.install, pendingConsents: this.view.pendingConsents });
  }

  subscribe(listener: (v: View) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setConnection(connection: Connection): void {
    this.update({ ...this.view, connection });
  }

  setStatus(status: StatusResult, at: number): void {
    this.update({ ...this.view, status, statusAt: at });
  }

  applyInbox(count: InboxCount): void {
    this.update(withInbox(this.view, count));
  }

  setConsent(consent: ConsentNotice | null): void {
    this.update({ ...this.view, consent });
  }

  setPendingConsents(pendingConsents: number): void {
    if (pendingConsents !== this.view.pendingConsents) this.update({ ...this.view, pendingConsents });
  }

  private update(next: View): void {
    this.view = next;
    this.storage.set({ [STORAGE_KEY]: next }).catch(() => undefined);
    for (const l of this.listeners) l(next);
  }
}

/** The view with one account's inbox replaced; unchanged when no account has that username. */
export function withInbox(view: View, count: InboxCount): View {
  if (!view.status) return view;
  const accounts = view.status.accounts.map((a) => (a.username.toLowerCase() === count.account.toLowerCase() ? { ...a, inbox: count } : a));
  return { ...view, status: { ...view.status, accounts } };
}

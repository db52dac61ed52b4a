// What the daemon remembers about each account beside MSAL's cache, across restarts: when the
// refresh token was last used (for its 90-day inactivity lapse), whether EWS was found turned
// off (so auto mode goes straight to Graph), the last inbox count (shown at once on start), and
// the last event notifyCommand announced (so a restart does not announce it again).
// One JSON file, 0600, written whole (atomic-file) and coalesced.
import type { FileSystem, Log } from '../deps';
import type { BackendMemo, BackendMemory } from '../mailbox/backend-memory';
import type { NoticeMemory, NotifyEvent } from './notify-command';

export interface AccountRecord extends BackendMemo {
  lastRefreshAt: number | null;
  lastNotice: NotifyEvent | null;
}

const EMPTY: AccountRecord = { lastRefreshAt: null, ewsDisabledAt: null, ewsRecheckAt: null, inbox: null, lastNotice: null };

export class AccountRecords implements BackendMemory, NoticeMemory {
  private records = new Map<string, AccountRecord>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(private readonly deps: { file: string; log: Log; fs: Pick<FileSystem, 'readTextIfExists' | 'writeFileAtomic'> }) {}

  async load(): Promise<void> {
    const text = await this.deps.fs.readTextIfExists(this.deps.file);
    if (text === null) return;
    try {
      const parsed = JSON.parse(text) as Record<string, Partial<AccountRecord>>;
      for (const [id, r] of Object.entries(parsed)) this.records.set(id, { ...EMPTY, ...r });
    } catch {
      // Losing these costs little (a first EWS try, a lapse date): start afresh rather than refuse to run.
      this.deps.log.warn('account records unreadable; starting afresh', { file: this.deps.file });
    }
  }

  get(id: string): AccountRecord {
    return this.records.get(id) ?? EMPTY;
  }

  update(id: string, patch: Partial<AccountRecord>): void {
    this.records.set(id, { ...this.get(id), ...patch });
    this.schedule();
  }

  lastNotice(id: string): NotifyEvent | null {
    return this.get(id).lastNotice;
  }

  noteNotice(id: string, event: NotifyEvent): void {
    this.update(id, { lastNotice: event });
  }

  remove(id: string): void {
    if (this.records.delete(id)) this.schedule();
  }

  /** Resolves when everything updated so far is on disk. */
  async flush(): Promise<void> {
    while (this.dirty) await this.writing;
    await this.writing;
  }

  private schedule(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      try {
        await this.deps.fs.writeFileAtomic(this.deps.file, JSON.stringify(Object.fromEntries(this.records), null, 2), 0o600);
      } catch (e) {
        this.deps.log.error('could not write account records', { file: this.deps.file, error: String(e) });
      }
    });
  }
}

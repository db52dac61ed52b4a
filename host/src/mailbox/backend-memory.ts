// What the inbox service remembers per account across restarts: whether EWS was found turned
// off (and when to try it again), and the last count (shown at once after a restart). The
// daemon's AccountRecords keeps it on disk; the service sees only this. Types only.
import type { InboxCount } from '../../../shared/protocol';

export interface BackendMemo {
  ewsDisabledAt: number | null;
  ewsRecheckAt: number | null;
  inbox: InboxCount | null;
}

export interface BackendMemory {
  get(accountId: string): BackendMemo;
  update(accountId: string, patch: Partial<BackendMemo>): void;
}

// Groups token-cache entries for the viewer: one group per account (by homeAccountId), the
// application's own entries last, and inside each group account → ID → access → refresh. Pure.
import type { TokenEntry } from '../../../shared/protocol';

const ORDER: TokenEntry['kind'][] = ['account', 'id-token', 'access-token', 'refresh-token', 'app-metadata'];

export interface EntryGroup {
  title: string;
  entries: TokenEntry[];
}

export function groupEntries(entries: TokenEntry[]): EntryGroup[] {
  const groups = new Map<string, TokenEntry[]>();
  for (const e of entries) {
    const key = e.homeAccountId ?? '';
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
    .map(([key, list]) => ({
      title: key === '' ? 'Application' : (list.find((e) => e.username)?.username ?? key),
      entries: [...list].sort((x, y) => ORDER.indexOf(x.kind) - ORDER.indexOf(y.kind)),
    }));
}

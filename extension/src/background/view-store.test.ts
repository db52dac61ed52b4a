import { describe, expect, it } from 'vitest';
import { account, status, T0, view } from '../test-support';
import { ViewStore, withInbox, type SessionStorage } from './view-store';

class MemoryStorage implements SessionStorage {
  data: Record<string, unknown> = {};
  async get(key: string) {
    return key in this.data ? { [key]: structuredClone(this.data[key]) } : {};
  }
  async set(items: Record<string, unknown>) {
    Object.assign(this.data, structuredClone(items));
  }
}

describe('withInbox', () => {
  it('replaces the matching account’s count and nothing else', () => {
    const v = view({ status: status([account(), account({ username: 'bob@contoso.example', inbox: null })]) });
    const next = withInbox(v, { account: 'ALICE@contoso.example', total: 5000, unread: 30, fetchedAt: T0, backend: 'ews' });
    expect(next.status!.accounts[0]!.inbox!.unread).toBe(30);
    expect(next.status!.accounts[1]!.inbox).toBeNull();
  });

  it('ignores a count for nobody it knows', () => {
    const v = view();
    expect(withInbox(v, { account: 'carol@x', total: 1, unread: 1, fetchedAt: T0, backend: 'ews' })).toEqual(v);
  });
});

describe('ViewStore', () => {
  it('gives a woken service worker the last status at once, but not the old connection', async () => {
    const storage = new MemoryStorage();
    const first = new ViewStore(storage, view().install);
    first.setConnection({ kind: 'connected' });
    first.setStatus(status([account()]), T0);
    await new Promise((r) => setImmediate(r));

    const second = new ViewStore(storage, view().install);
    await second.restore();
    expect(second.current.status!.accounts[0]!.inbox!.unread).toBe(23);
    expect(second.current.connection.kind).toBe('connecting');
  });

  it('tells listeners about every change', () => {
    const store = new ViewStore(new MemoryStorage(), view().install);
    const seen: number[] = [];
    store.subscribe((v) => seen.push(v.pendingConsents));
    store.setPendingConsents(1);
    store.setPendingConsents(1);
    store.setPendingConsents(0);
    expect(seen).toEqual([1, 0]);
  });
});

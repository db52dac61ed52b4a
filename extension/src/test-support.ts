// Builders and fakes for the extension's unit tests (never bundled: no page imports this).
import type { AccountStatus, StatusResult } from '../../shared/protocol';
import type { View } from './lib/messages';

export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

export function account(over: Partial<AccountStatus> = {}): AccountStatus {
  return {
    id: 'uid.utid',
    username: 'alice@contoso.example',
    tenantId: 'utid',
    state: { kind: 'signed-in' },
    accessTokens: [{ resource: 'ews', scopes: ['https://outlook.office365.com/EWS.AccessAsUser.All'], expiresOn: T0 + 3_600_000 }],
    lastRefreshAt: T0 - 60_000,
    nextRefreshAt: T0 + 3_000_000,
    lastError: null,
    refreshTokenLapsesAt: T0 + 90 * 86_400_000,
    backend: { configured: 'auto', active: 'ews', reason: 'EWS answers for this mailbox.', ewsDisabledAt: null, ewsRecheckAt: null },
    inbox: { account: 'alice@contoso.example', total: 4817, unread: 23, fetchedAt: T0 - 5_000, backend: 'ews' },
    ...over,
  };
}

export function status(accounts: AccountStatus[]): StatusResult {
  return {
    daemon: { version: '0.1.0', pid: 42, startedAt: T0 - 1_000, configPath: '/c', stateDir: '/s', socketPath: '/s/d.sock' },
    accounts,
    pendingConsents: 0,
  };
}

export function view(over: Partial<View> = {}): View {
  return {
    connection: { kind: 'connected' },
    status: status([account()]),
    statusAt: T0,
    consent: null,
    pendingConsents: 0,
    install: { command: 'ews-daemon install --browser chromium', fromClone: 'host/bin/ews-daemon install --browser chromium', browserFlag: 'chromium' },
    ...over,
  };
}

/** Timers that fire only when the test moves time on. */
export class FakeTimers {
  t = T0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  readonly setTimer = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  readonly clearTimer = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  readonly now = (): number => this.t;

  /** Moves time on by ms, firing due timers in order, and lets their promise chains run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await flush();
    }
    this.t = end;
    await flush();
  }

  get pending(): number {
    return this.timers.size;
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

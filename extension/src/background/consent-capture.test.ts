import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import type { ConsentNotice } from '../lib/messages';
import { account, FakeTimers, flush, T0 } from '../test-support';
import { ConsentCapture, type CaptureDeps } from './consent-capture';
import type { CaptureRule } from './dnr-rule';

const CALLBACK = 'chrome-extension://id/src/callback/index.html';
const REPLY = 'http://localhost:53100/callback';

class Fakes {
  timers = new FakeTimers();
  rules = new Map<number, CaptureRule>();
  tabs = new Map<number, string>();
  closedTabs: number[] = [];
  calls: Array<{ method: string; params: unknown }> = [];
  notices: Array<ConsentNotice | null> = [];
  completeAnswer: () => Promise<unknown> = async () => ({ kind: 'signed-in', account: account() });
  session = new Map<string, unknown>();
  nextTab = 40;

  deps(): CaptureDeps {
    return {
      rpc: {
        call: (async (method: string, params: unknown) => {
          this.calls.push({ method, params });
          if (method === 'consent.begin') return { authUrl: 'https://login.example/authorize?x=1', redirectUri: REPLY, state: 's1', expiresAt: T0 + 600_000, admin: false };
          if (method === 'consent.complete') return this.completeAnswer();
          return { cancelled: true };
        }) as CaptureDeps['rpc']['call'],
      },
      dnr: {
        updateSessionRules: async ({ addRules, removeRuleIds }) => {
          for (const id of removeRuleIds ?? []) this.rules.delete(id);
          for (const r of addRules ?? []) this.rules.set(r.id, r);
        },
        getSessionRules: async () => [...this.rules.values()],
      },
      tabs: {
        create: async ({ url }) => {
          const id = this.nextTab++;
          this.tabs.set(id, url);
          return { id };
        },
        remove: async (id) => {
          this.tabs.delete(id);
          this.closedTabs.push(id);
        },
        get: async (id) => {
          if (!this.tabs.has(id)) throw new Error('No tab');
          return {};
        },
      },
      hasHostPermission: async (origin) => origin === 'http://localhost:53100',
      storage: {
        get: async (key) => (this.session.has(key) ? { [key]: structuredClone(this.session.get(key)) } : {}),
        set: async (items) => void Object.entries(items).forEach(([k, v]) => this.session.set(k, structuredClone(v))),
      },
      store: { setConsent: (n) => void this.notices.push(n), setPendingConsents: () => undefined },
      callbackPageUrl: CALLBACK,
      log: () => undefined,
      ...this.timers,
    };
  }
}

async function begun() {
  const f = new Fakes();
  const capture = new ConsentCapture(f.deps());
  const { tabId } = await capture.begin({});
  return { f, capture, tabId };
}

describe('ConsentCapture', () => {
  it('opens the sign-in page in a new tab and catches the Reply URL in that tab only', async () => {
    const { f, tabId } = await begun();
    expect(f.rules.get(tabId)!.condition.tabIds).toEqual([tabId]);
    expect(f.tabs.get(tabId)).toBe('https://login.example/authorize?x=1');
  });

  it('redeems the Reply URL, then removes the rule and closes the tab', async () => {
    const { f, capture, tabId } = await begun();
    const result = await capture.complete(`${CALLBACK}?code=c&state=s1`, tabId);
    expect(result.kind).toBe('signed-in');
    expect(f.calls.find((c) => c.method === 'consent.complete')!.params).toEqual({ redirectUrl: `${REPLY}?code=c&state=s1` });
    expect(f.rules.size).toBe(0);
    await f.timers.advance(1_000);
    expect(f.closedTabs).toEqual([tabId]);
    expect(f.notices.at(-1)).toMatchObject({ kind: 'signed-in', account: 'alice@contoso.example' });
  });

  it('removes the rule and closes the tab when the daemon refuses the sign-in', async () => {
    const { f, capture, tabId } = await begun();
    f.completeAnswer = async () => {
      throw new AppError('consent_denied', 'Declined.', { advice: 'Accept next time.', retryable: false });
    };
    await expect(capture.complete(`${CALLBACK}?error=access_denied&state=s1`, tabId)).rejects.toMatchObject({ code: 'consent_denied' });
    expect(f.rules.size).toBe(0);
    await f.timers.advance(4_000);
    expect(f.closedTabs).toEqual([tabId]);
    expect(f.notices.at(-1)).toMatchObject({ kind: 'failed', error: { code: 'consent_denied', advice: 'Accept next time.' } });
  });

  it('ignores a callback from a tab it did not open, and keeps the real sign-in', async () => {
    const { f, capture, tabId } = await begun();
    await expect(capture.complete(`${CALLBACK}?code=c&state=s1`, 999)).rejects.toMatchObject({ code: 'redirect_invalid' });
    await expect(capture.complete(`${CALLBACK}?code=c&state=s1`, undefined)).rejects.toMatchObject({ code: 'redirect_invalid' });
    expect(f.calls.some((c) => c.method === 'consent.complete')).toBe(false);
    expect(f.rules.has(tabId)).toBe(true);
  });

  it('refuses a Reply URL whose state is not its sign-in’s, without asking the daemon to redeem it', async () => {
    const { f, capture, tabId } = await begun();
    await expect(capture.complete(`${CALLBACK}?code=c&state=forged`, tabId)).rejects.toMatchObject({ code: 'redirect_invalid' });
    expect(f.calls.some((c) => c.method === 'consent.complete')).toBe(false);
    expect(f.calls.at(-1)).toEqual({ method: 'consent.cancel', params: { state: 's1' } });
    expect(f.rules.size).toBe(0);
  });

  it('cancels the session and removes the rule when the user closes the tab', async () => {
    const { f, capture, tabId } = await begun();
    f.tabs.delete(tabId);
    await capture.tabClosed(tabId);
    expect(f.rules.size).toBe(0);
    expect(f.calls.at(-1)).toEqual({ method: 'consent.cancel', params: { state: 's1' } });
  });

  it('gives up when the session expires: rule removed, tab closed, the popup told', async () => {
    const { f, tabId } = await begun();
    await f.timers.advance(600_000);
    await flush();
    expect(f.rules.size).toBe(0);
    expect(f.closedTabs).toEqual([tabId]);
    expect(f.notices.at(-1)).toMatchObject({ kind: 'failed', error: { code: 'consent_expired' } });
  });

  it('refuses a Reply URL it has no permission to catch, and cancels the session', async () => {
    const f = new Fakes();
    const deps = f.deps();
    const capture = new ConsentCapture({ ...deps, hasHostPermission: async () => false });
    await expect(capture.begin({})).rejects.toMatchObject({ code: 'app_misconfigured' });
    expect(f.tabs.size).toBe(0);
    expect(f.calls.at(-1)!.method).toBe('consent.cancel');
  });

  it('after a service-worker restart, keeps a live sign-in and clears stale rules', async () => {
    const { f, tabId } = await begun();
    f.rules.set(7, { ...f.rules.get(tabId)!, id: 7 });
    const revived = new ConsentCapture(f.deps());
    await revived.restore();
    expect([...f.rules.keys()]).toEqual([tabId]);
    await revived.complete(`${CALLBACK}?code=c&state=s1`, tabId);
    expect(f.rules.size).toBe(0);
  });
});

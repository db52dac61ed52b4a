// Runs one browser sign-in end to end: consent.begin, a capture rule for the tab it opens, the
// identity provider's page, then the callback page's URL → consent.complete. Guarantees: a rule
// exists only while its sign-in is pending and only for its own tab; in every outcome (success,
// error, the session's expiry, the user closing the tab) the rule goes and the tab is closed;
// the pending list survives a service-worker restart in storage.session.
import { AppError } from '../../../shared/errors';
import type { ConsentCompleteResult, ParamsOf } from '../../../shared/protocol';
import { toWireError, type ConsentNotice } from '../lib/messages';
import { buildCaptureRule, replyUrlFromCallback, stateOf, type CaptureRule } from './dnr-rule';
import type { NativeClient } from './native-port';
import type { SessionStorage, ViewStore } from './view-store';

export interface CaptureDeps {
  rpc: Pick<NativeClient, 'call'>;
  dnr: {
    updateSessionRules(o: { addRules?: CaptureRule[]; removeRuleIds?: number[] }): Promise<void>;
    getSessionRules(): Promise<Array<{ id: number }>>;
  };
  tabs: {
    create(p: { url: string; active: boolean }): Promise<{ id?: number }>;
    remove(tabId: number): Promise<void>;
    get(tabId: number): Promise<unknown>;
  };
  hasHostPermission(origin: string): Promise<boolean>;
  storage: SessionStorage;
  store: Pick<ViewStore, 'setConsent' | 'setPendingConsents'>;
  /** The callback page's address without a query, e.g. chrome-extension://<id>/src/callback/index.html. */
  callbackPageUrl: string;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  now(): number;
  log(message: string, detail?: unknown): void;
}

interface Pending {
  state: string;
  tabId: number;
  redirectUri: string;
  expiresAt: number;
}

const STORAGE_KEY = 'consents';
/** Long enough to see "Signed in" on the callback page; the popup shows the account anyway. */
const CLOSE_AFTER_SUCCESS_MS = 1_000;
/** Long enough to read the advice on the callback page; the popup keeps it too. */
const CLOSE_AFTER_FAILURE_MS = 4_000;

export class ConsentCapture {
  private readonly pending = new Map<number, Pending>();
  private readonly timers = new Map<number, unknown>();

  constructor(private readonly deps: CaptureDeps) {}

  /** Starts a sign-in: the daemon's session, the rule, then the identity provider's page in a new tab. */
  async begin(params: ParamsOf<'consent.begin'>): Promise<{ tabId: number }> {
    const { rpc, tabs } = this.deps;
    const session = await rpc.call('consent.begin', params);
    const origin = new URL(session.redirectUri).origin;
    if (!(await this.deps.hasHostPermission(origin))) {
      await this.cancelQuietly(session.state);
      throw new AppError('app_misconfigured', `The extension cannot catch the Reply URL ${session.redirectUri}.`, {
        advice: 'Use a loopback Reply URL (http://localhost:PORT/…) in config.json and the app registration, or sign in with `ews-daemon consent --listen`.',
        retryable: false,
      });
    }
    // The tab opens straight at the sign-in page and the rule follows within milliseconds: the
    // identity provider cannot redirect before the person acts (prompt=select_account, or the
    // admin-consent page). Opening about:blank first and navigating it after made Chromium 156
    // crash the tab's first renderer now and then (Inspector.targetCrashed in the e2e tests).
    const tab = await tabs.create({ url: session.authUrl, active: true });
    const tabId = tab.id!;
    const p: Pending = { state: session.state, tabId, redirectUri: session.redirectUri, expiresAt: session.expiresAt };
    try {
      await this.addRule(p);
    } catch (e) {
      await this.cancelQuietly(session.state);
      await tabs.remove(tabId).catch(() => undefined);
      throw new AppError('internal', `Could not set up the sign-in capture (${String(e)}).`, { advice: 'Reload the extension and try again.', retryable: true });
    }
    this.track(p);
    return { tabId };
  }

  /** The callback page's report: hands the Reply URL to the daemon if it came from our tab. */
  async complete(callbackUrl: string, senderTabId: number | undefined): Promise<ConsentCompleteResult> {
    const p = senderTabId === undefined ? undefined : this.pending.get(senderTabId);
    if (!p) {
      throw new AppError('redirect_invalid', 'This page was not reached from a sign-in the extension started.', {
        advice: 'Start signing in from the ews-daemon popup.',
        retryable: false,
      });
    }
    let ok = false;
    try {
      const result = await this.redeem(p, callbackUrl);
      ok = true;
      this.deps.store.setConsent(noticeOf(result, this.deps.now()));
      return result;
    } catch (e) {
      this.deps.store.setConsent({ at: this.deps.now(), kind: 'failed', error: toWireError(e) });
      throw e;
    } finally {
      await this.finish(p, ok ? CLOSE_AFTER_SUCCESS_MS : CLOSE_AFTER_FAILURE_MS);
    }
  }

  private async redeem(p: Pending, callbackUrl: string): Promise<ConsentCompleteResult> {
    const replyUrl = replyUrlFromCallback(callbackUrl, this.deps.callbackPageUrl, p.redirectUri);
    if (!replyUrl || stateOf(replyUrl) !== p.state) {
      await this.cancelQuietly(p.state);
      throw new AppError('redirect_invalid', 'The sign-in tab came back with an address that does not belong to its sign-in.', {
        advice: 'Start signing in again from the ews-daemon popup.',
        retryable: false,
      });
    }
    return this.deps.rpc.call('consent.complete', { redirectUrl: replyUrl });
  }

  /** The user closed a sign-in tab: the daemon forgets the session. */
  async tabClosed(tabId: number): Promise<void> {
    const p = this.pending.get(tabId);
    if (!p) return;
    await this.finish(p, null);
    await this.cancelQuietly(p.state);
  }

  /** After a service-worker restart: re-arm what is still pending, clear what is not. */
  async restore(): Promise<void> {
    const saved = ((await this.deps.storage.get(STORAGE_KEY))[STORAGE_KEY] as Pending[] | undefined) ?? [];
    for (const p of saved) {
      const alive = p.expiresAt > this.deps.now() && (await this.deps.tabs.get(p.tabId).then(() => true, () => false));
      if (alive) this.track(p);
      else await this.cancelQuietly(p.state);
    }
    const stale = (await this.deps.dnr.getSessionRules()).map((r) => r.id).filter((id) => !this.pending.has(id));
    if (stale.length > 0) await this.deps.dnr.updateSessionRules({ removeRuleIds: stale });
    await this.persist();
  }

  private async addRule(p: Pending): Promise<void> {
    // One rule per tab: the tab id is a unique positive integer for the browser session.
    const rule = buildCaptureRule({ ruleId: p.tabId, redirectUri: p.redirectUri, tabId: p.tabId, callbackPageUrl: this.deps.callbackPageUrl });
    await this.deps.dnr.updateSessionRules({ removeRuleIds: [p.tabId], addRules: [rule] });
  }

  private track(p: Pending): void {
    this.pending.set(p.tabId, p);
    const wait = Math.max(0, p.expiresAt - this.deps.now());
    this.timers.set(p.tabId, this.deps.setTimer(() => void this.expire(p), wait));
    void this.persist();
  }

  private async expire(p: Pending): Promise<void> {
    if (this.pending.get(p.tabId) !== p) return;
    const error = new AppError('consent_expired', 'The sign-in was not finished within its 10 minutes.', {
      advice: 'Start signing in again from the ews-daemon popup.',
      retryable: false,
    });
    this.deps.store.setConsent({ at: this.deps.now(), kind: 'failed', error: toWireError(error) });
    await this.finish(p, 0);
    await this.cancelQuietly(p.state);
  }

  /** Forgets the sign-in, removes its rule, and closes its tab after `closeAfterMs` (null: the tab is gone). */
  private async finish(p: Pending, closeAfterMs: number | null): Promise<void> {
    if (this.pending.get(p.tabId) !== p) return;
    this.pending.delete(p.tabId);
    this.deps.clearTimer(this.timers.get(p.tabId));
    this.timers.delete(p.tabId);
    await this.persist();
    await this.deps.dnr.updateSessionRules({ removeRuleIds: [p.tabId] }).catch((e) => this.deps.log('removing a capture rule failed', String(e)));
    if (closeAfterMs !== null) this.deps.setTimer(() => void this.deps.tabs.remove(p.tabId).catch(() => undefined), closeAfterMs);
  }

  private async cancelQuietly(state: string): Promise<void> {
    await this.deps.rpc.call('consent.cancel', { state }).catch((e) => this.deps.log('consent.cancel failed', String(e)));
  }

  private async persist(): Promise<void> {
    this.deps.store.setPendingConsents(this.pending.size);
    await this.deps.storage.set({ [STORAGE_KEY]: [...this.pending.values()] }).catch(() => undefined);
  }
}

function noticeOf(result: ConsentCompleteResult, at: number): ConsentNotice {
  return result.kind === 'signed-in' ? { at, kind: 'signed-in', account: result.account.username } : { at, kind: 'admin-consented', tenant: result.tenant };
}

// Sign-ins in progress: browser consents (state, nonce and PKCE per session, consent-sessions.ts)
// and device code flows (device-code-flows.ts). Each ends in one new grant in MSAL's cache, handed
// to the core's signedIn, or in an AppError that says why. `changed` tells the core that the
// number of sign-ins in progress may have moved (status.changed).
import type { AccountInfo } from '@azure/msal-node';
import { AppError } from '../../../shared/errors';
import type { ConsentBeginResult, ConsentCompleteResult, DeviceCodeBeginResult } from '../../../shared/protocol';
import { classifyTokenError } from '../auth/classify-aad-error';
import type { MsalClient } from '../auth/msal-client';
import { parseReplyUrl } from '../auth/reply-url';
import { clientKind, type Config } from '../config/config';
import type { Clock } from '../deps';
import { ConsentSessions } from './consent-sessions';
import { DeviceCodeFlows } from './device-code-flows';

/** What sign-in needs of MSAL. */
export type SignInClient = Pick<MsalClient, 'authCodeUrl' | 'adminConsentUrl' | 'redeemCode' | 'deviceCodeSignIn'>;

export interface ConsentsDeps {
  config: Config;
  clock: Clock;
  msal: SignInClient;
  signedIn(info: AccountInfo): Promise<ConsentCompleteResult>;
  changed(): void;
}

export class Consents {
  private readonly sessions: ConsentSessions;
  private readonly deviceCodes: DeviceCodeFlows;

  constructor(private readonly deps: ConsentsDeps) {
    this.sessions = new ConsentSessions(deps.clock);
    this.deviceCodes = new DeviceCodeFlows(deps.msal, deps.clock);
  }

  /** Sign-ins begun and not yet finished, of either kind. */
  get pending(): number {
    return this.sessions.size + this.deviceCodes.size;
  }

  async begin(p: { loginHint?: string; admin?: boolean; prompt?: string }): Promise<ConsentBeginResult> {
    const admin = p.admin ?? false;
    const s = this.sessions.create(admin);
    const authUrl = admin
      ? this.deps.msal.adminConsentUrl(s.state)
      : await this.deps.msal.authCodeUrl({ state: s.state, nonce: s.nonce, codeChallenge: s.codeChallenge, loginHint: p.loginHint, prompt: p.prompt });
    this.deps.changed();
    return { authUrl, redirectUri: this.deps.config.redirectUri, state: s.state, expiresAt: s.expiresAt, admin };
  }

  cancel(state: string): { cancelled: boolean } {
    const cancelled = this.sessions.cancel(state);
    if (cancelled) this.deps.changed();
    return { cancelled };
  }

  async complete(redirectUrl: string): Promise<ConsentCompleteResult> {
    const reply = parseReplyUrl(redirectUrl, this.deps.config.redirectUri);
    // Entra may answer an error without the state: nothing to take, but its words still matter.
    const ctx = { redirectUri: this.deps.config.redirectUri, client: clientKind(this.deps.config.credential) };
    if (reply.kind === 'error' && reply.state === null) throw classifyTokenError({ error: reply.error, errorDescription: reply.description, errorCodes: reply.aadsts ? [reply.aadsts] : undefined }, ctx);
    const session = reply.state === null ? null : this.sessions.take(reply.state);
    this.deps.changed();
    if (!session) {
      throw new AppError('consent_expired', 'This sign-in is unknown, already finished or older than 10 minutes.', {
        advice: 'Start sign-in again from the popup or with `ews-daemon consent`.',
        retryable: false,
      });
    }
    if (reply.kind === 'error') {
      throw classifyTokenError({ error: reply.error, errorDescription: reply.description, errorCodes: reply.aadsts ? [reply.aadsts] : undefined, adminConsentUrl: this.deps.msal.adminConsentUrl(session.state) }, ctx);
    }
    if (reply.kind === 'admin-consent') {
      if (!session.admin) throw new AppError('redirect_invalid', 'An admin-consent answer arrived for a user sign-in.', { advice: 'Start sign-in again.', retryable: false });
      return { kind: 'admin-consented', tenant: reply.tenant };
    }
    const info = await this.deps.msal.redeemCode({ code: reply.code, codeVerifier: session.codeVerifier, state: session.state, nonce: session.nonce });
    return this.deps.signedIn(info);
  }

  /** The daemon stops: device code flows stop polling (their waiters hear `cancelled`). */
  stop(): void {
    this.deviceCodes.stopAll();
  }

  async beginDeviceCode(): Promise<DeviceCodeBeginResult> {
    const begun = await this.deviceCodes.begin();
    this.deps.changed();
    return begun;
  }

  async waitDeviceCode(flowId: string): Promise<ConsentCompleteResult> {
    try {
      return await this.deps.signedIn(await this.deviceCodes.wait(flowId));
    } finally {
      this.deps.changed();
    }
  }

  cancelDeviceCode(flowId: string): { cancelled: boolean } {
    return { cancelled: this.deviceCodes.cancel(flowId) };
  }
}

// The daemon's one MSAL client: builds consent URLs, redeems codes, and is the refresher's
// TokenSource (silent acquisition per account and resource). A config with a secret or a
// certificate makes a ConfidentialClientApplication; one without makes a PublicClientApplication
// (same flows, PKCE and state, same cache; the token requests carry no client authentication).
// Every MSAL failure leaves here classified as an AppError; nothing above sees an MSAL error type.
import {
  ConfidentialClientApplication,
  PublicClientApplication,
  type AccountInfo,
  type AuthenticationResult,
} from '@azure/msal-node';
import { AppError } from '../../../shared/errors';
import type { Backend } from '../../../shared/protocol';
import { clientKind, type Config } from '../config/config';
import { classifyMsalError } from './classify-aad-error';
import { deviceCodeSignIn, type DeviceCodeSignInOptions } from './device-code-signin';
import { msalConfiguration, type MsalClientDeps } from './msal-config';
import { MsalNetwork } from './msal-network';
import type { AcquiredToken, TokenSource } from './token-source';

export interface AuthUrlRequest {
  state: string;
  nonce: string;
  codeChallenge: string;
  loginHint?: string;
  prompt?: string;
}

export class MsalClient implements TokenSource {
  private readonly app: ConfidentialClientApplication | PublicClientApplication;
  private readonly config: Config;
  private readonly network: MsalNetwork;

  constructor(private readonly deps: MsalClientDeps) {
    this.config = deps.config;
    this.network = new MsalNetwork(deps.http);
    const configuration = msalConfiguration(deps, this.network);
    this.app = clientKind(deps.config.credential) === 'public' ? new PublicClientApplication(configuration) : new ConfidentialClientApplication(configuration);
  }

  /** One resource's scopes per token request (AADSTS70011): EWS and Graph are asked for separately. */
  scopesFor(resource: Backend): string[] {
    return [resource === 'ews' ? this.config.ewsScope : this.config.graphScope];
  }

  /** What a sign-in asks consent for: the first backend's scope, and the other's as extra consent in auto mode. */
  consentScopes(): { scopes: string[]; extraScopesToConsent: string[] } {
    switch (this.config.backend) {
      case 'ews':
        return { scopes: this.scopesFor('ews'), extraScopesToConsent: [] };
      case 'graph':
        return { scopes: this.scopesFor('graph'), extraScopesToConsent: [] };
      case 'auto':
        return { scopes: this.scopesFor('ews'), extraScopesToConsent: this.scopesFor('graph') };
    }
  }

  async authCodeUrl(req: AuthUrlRequest): Promise<string> {
    const { scopes, extraScopesToConsent } = this.consentScopes();
    return this.call(() =>
      this.app.getAuthCodeUrl({
        scopes,
        extraScopesToConsent,
        redirectUri: this.config.redirectUri,
        state: req.state,
        nonce: req.nonce,
        codeChallenge: req.codeChallenge,
        codeChallengeMethod: 'S256', // without it MSAL silently drops the challenge (msal-node src/protocol/Authorize.ts)
        loginHint: req.loginHint,
        prompt: req.prompt,
      }),
    );
  }

  /** The tenant-wide admin-consent URL: answers admin_consent=True&tenant=…, no code (https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent). */
  adminConsentUrl(state: string): string {
    const { scopes, extraScopesToConsent } = this.consentScopes();
    const url = new URL(`${this.config.authority}/v2.0/adminconsent`);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('scope', [...scopes, ...extraScopesToConsent].map(toDefaultScope).join(' '));
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('state', state);
    return url.toString();
  }

  /** Redeems an authorization code with its PKCE verifier; MSAL checks the returned state. */
  async redeemCode(req: { code: string; codeVerifier: string; state: string; nonce: string }): Promise<AccountInfo> {
    const { scopes } = this.consentScopes();
    const result = await this.call(() =>
      this.app.acquireTokenByCode(
        { code: req.code, codeVerifier: req.codeVerifier, redirectUri: this.config.redirectUri, scopes, state: req.state, nonce: req.nonce },
        { code: req.code, state: req.state },
      ),
    );
    if (!result.account) throw new AppError('internal', 'The token endpoint answered without an account.', { advice: 'Sign in again; if it repeats, report it with the daemon log.', retryable: false });
    return result.account;
  }

  /** The device code flow (device-code-signin.ts) with this client's scopes, cache and network. */
  async deviceCodeSignIn(opts: Omit<DeviceCodeSignInOptions, 'scopes'>): Promise<AccountInfo> {
    return deviceCodeSignIn(this.deps, { ...opts, scopes: this.consentScopes().scopes });
  }

  async accounts(): Promise<AccountInfo[]> {
    return this.call(() => this.app.getTokenCache().getAllAccounts());
  }

  /**
   * A token from MSAL's cache, or refreshed. An aborted `signal` (the daemon stopping) ends the
   * requests MSAL has in flight at once: MSAL itself takes no signal.
   */
  async acquire(accountId: string, resource: Backend, opts: { forceRefresh: boolean; signal?: AbortSignal }): Promise<AcquiredToken> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const abort = () => this.network.abortAll(signal?.reason);
    signal?.addEventListener('abort', abort, { once: true });
    const account = await this.account(accountId);
    const result: AuthenticationResult = await this.call(() =>
      this.app.acquireTokenSilent({ account, scopes: this.scopesFor(resource), forceRefresh: opts.forceRefresh }),
    ).finally(() => signal?.removeEventListener('abort', abort));
    return {
      accessToken: result.accessToken,
      expiresOn: result.expiresOn ? result.expiresOn.getTime() : 0,
      scopes: result.scopes,
      fromCache: result.fromCache,
    };
  }

  async remove(accountId: string): Promise<void> {
    const account = await this.account(accountId);
    await this.call(() => this.app.getTokenCache().removeAccount(account));
  }

  private async account(accountId: string): Promise<AccountInfo> {
    const account = await this.call(() => this.app.getTokenCache().getAccountByHomeId(accountId));
    if (!account) {
      throw new AppError('no_account', `No account ${accountId} in the token cache.`, {
        advice: 'Sign in with `ews-daemon consent` or from the extension popup.',
        retryable: false,
      });
    }
    return account;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw classifyMsalError(e, { redirectUri: this.config.redirectUri, client: clientKind(this.config.credential) });
    }
  }
}

function toDefaultScope(scope: string): string {
  try {
    return `${new URL(scope).origin}/.default`;
  } catch {
    return scope;
  }
}

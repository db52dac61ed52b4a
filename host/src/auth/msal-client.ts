// The daemon's one MSAL confidential client: builds consent URLs, redeems codes, and is the
// refresher's TokenSource (silent acquisition per account and resource). Every MSAL failure
// leaves here classified as an AppError; nothing above this file sees an MSAL error type.
import {
  ConfidentialClientApplication,
  LogLevel,
  type AccountInfo,
  type AuthenticationResult,
  type Configuration,
  type ICachePlugin,
} from '@azure/msal-node';
import { AppError } from '../../../shared/errors';
import type { Backend } from '../../../shared/protocol';
import type { Config } from '../config/config';
import type { Http, Log } from '../deps';
import { classifyMsalError } from './classify-aad-error';
import { MsalNetwork } from './msal-network';
import type { AcquiredToken, TokenSource } from './token-source';

export interface MsalClientDeps {
  config: Config;
  http: Http;
  log: Log;
  cachePlugin: ICachePlugin;
}

export interface AuthUrlRequest {
  state: string;
  nonce: string;
  codeChallenge: string;
  loginHint?: string;
  prompt?: string;
}

export class MsalClient implements TokenSource {
  private readonly app: ConfidentialClientApplication;
  private readonly config: Config;
  private readonly network: MsalNetwork;

  constructor(private readonly deps: MsalClientDeps) {
    this.config = deps.config;
    this.network = new MsalNetwork(deps.http);
    this.app = new ConfidentialClientApplication(msalConfiguration(deps, this.network));
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
      throw classifyMsalError(e);
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

function msalConfiguration({ config, log, cachePlugin }: MsalClientDeps, network: MsalNetwork): Configuration {
  const credential =
    config.credential.kind === 'secret'
      ? { clientSecret: config.credential.secret }
      : {
          clientCertificate: {
            thumbprintSha256: config.credential.thumbprintSha256,
            privateKey: config.credential.privateKeyPem,
            x5c: config.credential.certificatePem,
          },
        };
  const msalLog = log.child({ component: 'msal' });
  return {
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      knownAuthorities: config.knownAuthorityHost ? [config.knownAuthorityHost] : [],
      ...credential,
    },
    cache: { cachePlugin },
    system: {
      networkClient: network,
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message, containsPii) => {
          if (!containsPii) msalLog.debug(message, { msalLevel: LogLevel[level] });
        },
      },
    },
  };
}

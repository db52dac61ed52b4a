// One device code sign-in (RFC 8628; Microsoft Learn "OAuth 2.0 device authorization grant"):
// MSAL's acquireTokenByDeviceCode on a PublicClientApplication of the daemon's app that shares
// its token cache. The device code flow is a public client flow whatever the config holds: the
// registration must allow public client flows (Entra answers AADSTS7000218 otherwise), and the
// refresh token it yields is renewed by the daemon's own client as any other. Guarantees: the
// device code never leaves this file; a cancelled flow sends no further request; every failure
// leaves as an AppError classified from Entra's own answer when there was one.
import { PublicClientApplication, type AccountInfo } from '@azure/msal-node';
import { AppError } from '../../../shared/errors';
import { clientKind } from '../config/config';
import type { Clock } from '../deps';
import { classifyMsalError, classifyTokenError, type ClassifyContext } from './classify-aad-error';
import { cancelledError, DeviceCodeNetwork } from './device-code-network';
import { msalConfiguration, type MsalClientDeps } from './msal-config';
import { MsalNetwork } from './msal-network';

export interface DeviceCodeShown {
  userCode: string;
  verificationUri: string;
  expiresAt: number;
  message: string;
}

export interface DeviceCodeSignInOptions {
  scopes: string[];
  signal: AbortSignal;
  /** Called once, with what the user must see, before polling starts. */
  onCode(shown: DeviceCodeShown): void;
  clock: Clock;
}

export async function deviceCodeSignIn(deps: MsalClientDeps, opts: DeviceCodeSignInOptions): Promise<AccountInfo> {
  const { clock } = opts;
  const network = new DeviceCodeNetwork(new MsalNetwork(deps.http), clock, opts.signal);
  const app = new PublicClientApplication(msalConfiguration({ ...deps, config: { ...deps.config, credential: { kind: 'none' } } }, network));
  const request = {
    scopes: opts.scopes,
    cancel: false,
    deviceCodeCallback: (r: { userCode: string; verificationUri: string; expiresIn: number; message: string }) =>
      opts.onCode({ userCode: r.userCode, verificationUri: r.verificationUri, expiresAt: clock.now() + r.expiresIn * 1000, message: r.message }),
  };
  // MSAL checks `cancel` between polls (DeviceCodeClient.continuePolling).
  opts.signal.addEventListener('abort', () => (request.cancel = true), { once: true });
  const ctx: ClassifyContext = { deviceCode: true, client: clientKind(deps.config.credential), redirectUri: deps.config.redirectUri };
  try {
    const result = await app.acquireTokenByDeviceCode(request);
    if (!result?.account) throw new AppError('internal', 'The token endpoint answered without an account.', { advice: 'Sign in again; if it repeats, report it with the daemon log.', retryable: false });
    return result.account;
  } catch (e) {
    if (opts.signal.aborted) throw cancelledError();
    if (network.lastError) throw classifyTokenError(network.lastError, ctx);
    throw classifyMsalError(e, ctx);
  }
}

// The network seam of one device code sign-in, around MsalNetwork. MSAL 7.2.3's DeviceCodeClient
// keeps polling only on `authorization_pending` and turns every other answer into a bare
// `post_request_failed` (msal-node src/client/DeviceCodeClient.ts, acquireTokenWithDeviceCode),
// which loses Entra's error and AADSTS number and ends the sign-in on `slow_down`. So here:
// - `slow_down` (RFC 8628 §3.5) adds 5 seconds to the interval for this and every later poll,
//   waited here before each poll on top of MSAL's own interval, and is handed to MSAL as
//   `authorization_pending` so it keeps polling;
// - any other error body of the device code or token endpoint is kept (`lastError`), so the
//   flow classifies Entra's words rather than MSAL's; a refused device code request ends the flow;
// - a poll that fails on the network (a reset keep-alive connection, a timeout) is retried at
//   the next poll, after a longer wait (RFC 8628 §3.5: reduce the polling frequency on a
//   connection timeout, doubling it is recommended), up to MAX_POLL_FAILURES in a row;
// - once the flow is cancelled, no further request leaves.
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { AppError } from '../../../shared/errors';
import type { Clock } from '../deps';
import type { TokenErrorInput } from './classify-aad-error';

/** RFC 8628 §3.5: each slow_down adds 5 seconds, in ms. */
export const SLOW_DOWN_STEP_MS = 5_000;
/** Network failures of consecutive polls before the flow gives up (with the backoff, about a minute). */
export const MAX_POLL_FAILURES = 4;
/** RFC 8628's grant type, and the short form MSAL sends (msal-common GrantType.DEVICE_CODE_GRANT). */
const DEVICE_CODE_GRANTS = new Set(['urn:ietf:params:oauth:grant-type:device_code', 'device_code']);

interface ErrorBody {
  error?: string;
  error_description?: string;
  error_codes?: number[];
  status?: number;
}

export class DeviceCodeNetwork implements INetworkModule {
  /** Entra's last refusal, as it said it. */
  lastError: TokenErrorInput | null = null;
  /** Added to MSAL's interval by slow_down answers, in ms. */
  extraDelayMs = 0;
  private failures = 0;

  constructor(
    private readonly inner: INetworkModule,
    private readonly clock: Clock,
    private readonly signal: AbortSignal,
  ) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.inner.sendGetRequestAsync<T>(url, options, timeout);
  }

  async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const poll = DEVICE_CODE_GRANTS.has(new URLSearchParams(options?.body ?? '').get('grant_type') ?? '');
    if (poll && this.extraDelayMs > 0) await this.clock.sleep(this.extraDelayMs, this.signal).catch(() => undefined);
    if (this.signal.aborted) throw cancelledError();
    const res = poll ? await this.pollOnce<T>(url, options) : await this.inner.sendPostRequestAsync<T>(url, options);
    const body = res.body as ErrorBody;
    if (typeof body?.error !== 'string' || body.error === 'authorization_pending') return res;
    if (poll && body.error === 'slow_down') {
      this.extraDelayMs += SLOW_DOWN_STEP_MS;
      return { ...res, body: { ...body, error: 'authorization_pending' } as T };
    }
    this.lastError = { error: body.error, errorDescription: body.error_description, errorCodes: body.error_codes, status: body.status ?? res.status };
    // MSAL reads a refused device code request as a code of `undefined`: stop it here instead
    // (the flow classifies lastError, whatever MSAL makes of this).
    if (!poll) throw new Error('the device code request was refused');
    return res;
  }

  /** One poll; a network failure becomes `authorization_pending` with a doubled wait, a few times. */
  private async pollOnce<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    try {
      const res = await this.inner.sendPostRequestAsync<T>(url, options);
      this.failures = 0;
      return res;
    } catch (e) {
      if (this.signal.aborted || ++this.failures > MAX_POLL_FAILURES) throw e;
      this.extraDelayMs = Math.max(SLOW_DOWN_STEP_MS, this.extraDelayMs * 2);
      return { status: 400, headers: {}, body: { error: 'authorization_pending' } as T };
    }
  }
}

export function cancelledError(): AppError {
  return new AppError('cancelled', 'The device code sign-in was cancelled.', { advice: 'Run `ews-daemon consent --device-code` again when you are ready.', retryable: false });
}

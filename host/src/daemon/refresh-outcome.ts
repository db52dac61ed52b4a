// What a failed token acquisition means for the refresher, decided from the AppError the
// TokenSource threw: try again soon (transitory), stop until a person consents again (verdict),
// or retry rarely because only a configuration change helps (config). Config errors show as
// `retrying` (every 30 min, lastError set), not `needs-consent`: signing in again would not help,
// and a fixed config (plus a restart) recovers without anyone signing in. Pure.
import { AppError, isAppError, type ErrorCode } from '../../../shared/errors';
import type { ErrorInfo } from '../../../shared/protocol';

export type FailureKind = 'transitory' | 'verdict' | 'config';

/**
 * Entra's verdicts on the grant: retrying cannot help, only a new sign-in or consent can.
 * `no_account` is here too: the account left MSAL's cache, so only a sign-in brings it back.
 */
const VERDICTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'needs_consent', 'mfa_required', 'conditional_access', 'admin_consent_required', 'user_not_assigned',
  'consent_denied', 'scope_missing', 'no_account',
]);

/** The app's own setup is wrong: fixing the config (and restarting) is what helps, not the user. */
const CONFIG_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['app_misconfigured', 'credential_invalid', 'pkce_mismatch', 'config_invalid', 'cache_key_missing', 'cache_key_wrong']);

/** A retryable error is always transitory; unknown codes (internal, …) are retried too. */
export function classifyFailure(e: AppError): FailureKind {
  if (e.data.retryable) return 'transitory';
  if (VERDICTS.has(e.data.code)) return 'verdict';
  if (CONFIG_ERRORS.has(e.data.code)) return 'config';
  return 'transitory';
}

/** A TokenSource should throw only AppErrors; anything else is a bug, retried like a transient. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  return new AppError('internal', 'Getting an access token failed unexpectedly.', {
    advice: 'The daemon keeps retrying. If it repeats, report it with the daemon log.',
    retryable: true,
  }, { cause: e });
}

export function toErrorInfo(e: AppError, at: number): ErrorInfo {
  const { code, advice, retryable, aadsts, retryAfterMs, link } = e.data;
  return {
    code, message: e.message, advice, retryable, at,
    ...(aadsts !== undefined ? { aadsts } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(link !== undefined ? { link } : {}),
  };
}

/** The stored error, thrown again to a caller: same code, message and advice. */
export function fromErrorInfo(info: ErrorInfo): AppError {
  const { code, message, advice, retryable, aadsts, retryAfterMs, link } = info;
  return new AppError(code, message, {
    advice, retryable,
    ...(aadsts !== undefined ? { aadsts } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(link !== undefined ? { link } : {}),
  });
}

/** getToken for an account nobody tracks (never signed in, or signed out). */
export function notTrackedError(accountId: string): AppError {
  return new AppError('no_account', `The account ${accountId} is not signed in.`, {
    advice: 'Sign in with `ews-daemon consent` or from the extension popup.',
    retryable: false,
  });
}

/** A caller asked during Entra's Retry-After: no request is sent. */
export function throttledError(waitMs: number): AppError {
  return new AppError('throttled', `Entra asked to wait ${Math.ceil(waitMs / 1000)} s before the next token request.`, {
    advice: 'The daemon retries by itself when the wait is over; nothing to do.',
    retryable: true,
    retryAfterMs: waitMs,
  });
}

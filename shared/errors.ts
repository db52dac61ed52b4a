// The one error model, end to end: every failure that crosses a process boundary carries
// one of these codes. The list is APPEND-ONLY: never rename, reuse or remove a code, since
// scripts and older extensions branch on them. Change this list, change PROTOCOL.md and the
// popup's ERROR_TEXT (extension/src/popup/error-text.ts), which fails to compile without words.

export const ERROR_CODES = [
  // JSON-RPC framing and dispatch
  'parse_error', // a frame that is not valid UTF-8 JSON
  'invalid_request', // valid JSON but not a JSON-RPC 2.0 request
  'method_not_found',
  'invalid_params',
  'internal', // a bug: the log has the detail
  'frame_too_large', // a frame over the protocol's size limits
  'response_too_large', // a result over the 1 MiB the browser accepts
  // who may talk
  'origin_forbidden', // native-messaging caller not in the allowed extension ids
  'method_forbidden', // e.g. token.get over native messaging
  // the daemon and its companions
  'daemon_unreachable', // no daemon answered on the socket and none could be started
  'already_running', // a second `run` for the same user
  'companion_missing', // the browser could not start the native host
  'timeout',
  'config_invalid',
  // accounts and consent
  'no_account', // nobody is signed in (or --account names nobody)
  'needs_consent', // the grant is gone: sign in again
  'consent_denied', // the user (or an admin policy) declined on the consent page
  'consent_expired', // the consent session is unknown, used or older than 10 minutes
  'redirect_invalid', // a Reply URL that does not match redirectUri, or has no code/state
  'user_not_assigned', // AADSTS50105
  'admin_consent_required', // AADSTS65001, 90094, 90095
  'mfa_required', // AADSTS50076 and kin
  'conditional_access', // AADSTS53003 and kin
  'app_misconfigured', // unknown/disabled app, redirect URI mismatch
  'credential_invalid', // client secret or certificate refused
  'code_invalid', // authorization code reused, invalid or expired
  'pkce_mismatch', // a bug: the verifier did not match
  'transient', // network, 5xx, temporarily_unavailable: retried with back-off
  'throttled', // 429 / server busy: retried after the server's delay
  // mailbox backends
  'ews_disabled', // HTTP 403 from EWS: the tenant or app is not allowed to use EWS
  'mailbox_unauthorized', // 401 even after a forced token refresh
  'mailbox_error', // an EWS/Graph error response other than the above
  'malformed_response', // a reply that could not be parsed
  'scope_missing', // the grant lacks a scope a backend needs (e.g. Graph Mail.ReadBasic)
  // the device code flow
  'device_code_expired', // expired_token: nobody entered the code in time
  'device_code_declined', // authorization_declined: the user said no on the verification page
  'device_code_invalid', // bad_verification_code: Entra does not know the device code
  'cancelled', // the caller cancelled (Ctrl-C, consent.deviceCode.cancel)
  // the token cache at rest
  'keyring_locked', // the OS keyring holds the cache key (or client secret) but is locked
  'cache_key_missing', // the cache is encrypted and its key is nowhere to be found
  'cache_key_wrong', // the cache is encrypted under another key than the one found
  'keyring_unavailable', // no OS keyring answered (e.g. no D-Bus session) where one was asked for
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** JSON-RPC 2.0 numeric codes. The string `data.code` is what clients branch on. */
export const RPC_NUMERIC: Partial<Record<ErrorCode, number>> = {
  parse_error: -32700,
  invalid_request: -32600,
  method_not_found: -32601,
  invalid_params: -32602,
  internal: -32603,
};
/** Application errors use one numeric code; the string code says which. */
export const RPC_APP_ERROR = -32000;

export interface ErrorData {
  code: ErrorCode;
  /** One or two sentences a person can act on. Never a secret. */
  advice: string;
  /** True when the same call may succeed later without anyone changing anything. */
  retryable: boolean;
  /** The AADSTS number, when Entra gave one. */
  aadsts?: number;
  /** How long to wait before retrying, when the server said. */
  retryAfterMs?: number;
  /** A link that helps (admin-consent URL, documentation). */
  link?: string;
}

/** The error every layer throws and every boundary serialises. */
export class AppError extends Error {
  readonly data: ErrorData;
  constructor(code: ErrorCode, message: string, fields: Omit<ErrorData, 'code'>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.data = { code, ...fields };
  }
  get code(): ErrorCode {
    return this.data.code;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** The wire form of an error: what JSON-RPC `error` holds. */
export interface RpcError {
  code: number;
  message: string;
  data: ErrorData;
}

export function toRpcError(e: AppError): RpcError {
  return { code: RPC_NUMERIC[e.data.code] ?? RPC_APP_ERROR, message: e.message, data: e.data };
}

/**
 * An error as it arrived over the wire, checked: one whose `data.code` this version knows keeps
 * its message and fields; anything else (an older or newer peer, a foreign process) becomes
 * 'internal', saying so. The one conversion every client uses (shared/rpc-peer.ts).
 */
export function fromWire(e: unknown, what: string): AppError {
  const err = typeof e === 'object' && e !== null ? (e as Partial<RpcError>) : {};
  const message = typeof err.message === 'string' ? err.message : 'no message';
  const data = typeof err.data === 'object' && err.data !== null ? (err.data as Partial<ErrorData>) : null;
  if (data && typeof data.code === 'string' && (ERROR_CODES as readonly string[]).includes(data.code)) {
    const { code, advice, retryable, ...rest } = data as ErrorData;
    return new AppError(code, message, { ...rest, advice: typeof advice === 'string' ? advice : '', retryable: retryable === true });
  }
  return new AppError('internal', `${what} failed with an error this version cannot read (${message}).`, {
    advice: 'Update ews-daemon and its extension to the same version; the daemon log has the detail.',
    retryable: false,
  });
}

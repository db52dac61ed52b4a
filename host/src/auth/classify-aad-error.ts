// The one place that turns Entra ID's token-endpoint and authorize errors, and MSAL's errors,
// into our AppError codes (the AADSTS table in docs/platform-notes.md, from
// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes). Pure.
// Guarantees: the OAuth `error` picks the family first and the AADSTS number only refines within
// it (Microsoft says the numbers change), so a throttled request is never taken for a lost grant;
// no secret is quoted.
import { AppError, isAppError, type ErrorCode } from '../../../shared/errors';

export interface TokenErrorInput {
  error?: string;
  errorDescription?: string;
  errorCodes?: number[];
  status?: number;
  retryAfterSeconds?: number;
  subError?: string;
  /** Same as context.adminConsentUrl, for callers that pass one object. */
  adminConsentUrl?: string;
}

export interface ClassifyContext {
  /** Offered in the advice (and as `link`) when only an administrator can consent. */
  adminConsentUrl?: string;
  /** The configured Reply URL, named in the advice for a redirect URI mismatch. */
  redirectUri?: string;
  /** Which kind of client asked: the advice for a mismatched registration depends on it. */
  client?: 'public' | 'confidential';
  /** The device code flow asked: a policy refusal then points at the browser flows. */
  deviceCode?: boolean;
}

interface Rule {
  code: ErrorCode;
  what: string;
  advice: (ctx: ClassifyContext) => string;
  retryable?: boolean;
}

const SIGN_IN_AGAIN = 'Sign in again from the popup or with `ews-daemon consent`.';

const RULES = {
  grantGone: { code: 'needs_consent', what: 'Entra ID no longer accepts this sign-in: the refresh token expired or was revoked, or the session ended', advice: () => SIGN_IN_AGAIN },
  mfa: { code: 'mfa_required', what: 'Entra ID requires multi-factor authentication', advice: () => 'Sign in again in the browser (the popup or `ews-daemon consent`) and complete the multi-factor prompt.' },
  conditionalAccess: { code: 'conditional_access', what: 'A Conditional Access policy blocks this sign-in', advice: () => 'Ask your administrator: the Entra ID sign-in logs name the policy. Signing in from a compliant device or network may help.' },
  adminConsent: {
    code: 'admin_consent_required',
    what: 'The app lacks consent that only an administrator can grant',
    advice: (ctx) => (ctx.adminConsentUrl ? `An administrator can grant it for the whole tenant at ${ctx.adminConsentUrl}` : 'Ask an administrator to grant consent for the tenant: `ews-daemon consent --admin` prints the link.'),
  },
  notAssigned: { code: 'user_not_assigned', what: 'You are not assigned to this application', advice: () => 'An administrator must assign you to the application in Entra ID (Enterprise applications → Users and groups).' },
  appUnknown: { code: 'app_misconfigured', what: 'Entra ID does not know this app in the tenant, or it is disabled', advice: () => 'Check `clientId` and `tenant` (or `authority`) in config.json against the app registration; an administrator may have disabled the app.' },
  secretBad: { code: 'credential_invalid', what: 'Entra ID refused the client secret, which is wrong or expired', advice: () => 'Create a new client secret in the app registration (Certificates & secrets), put its value (not its id) in `clientSecret` or `clientSecretFile`, and restart the daemon.' },
  certBad: { code: 'credential_invalid', what: 'Entra ID refused the certificate assertion', advice: () => 'Upload the certificate named by `certificate.certificatePath` to the app registration (Certificates & secrets) and check that `certificate.privateKeyPath` is its key; the daemon sends its SHA-256 thumbprint.' },
  codeBad: { code: 'code_invalid', what: 'The sign-in code was already used, or is invalid or expired', advice: () => 'Start sign-in again from the popup or with `ews-daemon consent`: a sign-in link works once, for about 10 minutes.' },
  redirectBad: {
    code: 'app_misconfigured',
    what: 'The Reply URL is not registered for the app on this platform',
    advice: (ctx) =>
      ctx.client === 'public'
        ? `A public client's Reply URLs are those of the "Mobile and desktop applications" platform: add http://localhost there (Authentication → Add a platform; the port of a localhost Reply URL is ignored, the path is not), or set \`redirectUri\` in config.json to http://localhost:PORT with a registered path.`
        : `Add ${ctx.redirectUri ?? 'the configured `redirectUri`'} exactly to the app registration (Authentication → Web), or set \`redirectUri\` in config.json to a registered one.`,
  },
  webAppNoCredential: {
    code: 'app_misconfigured',
    what: 'The app is registered as a Web app, which must prove itself with a secret or certificate, and none was sent',
    advice: () =>
      'Either give the daemon a credential (`clientSecretFile` or `certificate` in config.json, see the README), or make the registration a public client: Authentication → "Allow public client flows" Yes, and add the "Mobile and desktop applications" platform with Reply URL http://localhost.',
  },
  publicSentCredential: {
    code: 'app_misconfigured',
    what: 'The app is registered as a public client, and a public client must not send a secret or certificate',
    advice: () =>
      'Remove `clientSecret`, `clientSecretFile` or `certificate` from config.json to sign in as a public client; or, to keep the credential, register the Reply URL under the "Web" platform instead of "Mobile and desktop applications", then restart the daemon.',
  },
  pkce: { code: 'pkce_mismatch', what: 'The PKCE verifier did not match the challenge', advice: () => 'This is a bug in ews-daemon: start sign-in again, and report it with the daemon log if it repeats.' },
  declined: { code: 'consent_denied', what: 'Consent was declined', advice: () => 'Sign in again and accept the permissions; if a policy forbids user consent, ask an administrator.' },
  scope: { code: 'app_misconfigured', what: 'Entra ID refused the requested scope', advice: () => 'Check `ewsScope` and `graphScope` in config.json and the API permissions of the app registration.' },
  deviceExpired: { code: 'device_code_expired', what: 'Nobody entered the sign-in code before it expired', advice: () => 'Run `ews-daemon consent --device-code` again and enter the new code at the address it shows, within its time.' },
  deviceDeclined: { code: 'device_code_declined', what: 'The sign-in was declined on the code page', advice: () => 'Run `ews-daemon consent --device-code` again and approve the sign-in, or use `--listen` or `--paste`.' },
  deviceInvalid: { code: 'device_code_invalid', what: 'Entra ID does not recognise this sign-in code', advice: () => 'Run `ews-daemon consent --device-code` again; each code works once.' },
  deviceBlocked: {
    code: 'conditional_access',
    what: 'A Conditional Access policy blocks signing in with a device code',
    advice: () => 'Device code sign-in is often blocked by policy: sign in with `ews-daemon consent --listen` (a browser on this machine) or `--paste` (a browser anywhere) instead, or ask your administrator.',
  },
  throttled: { code: 'throttled', what: 'Entra ID is throttling requests', retryable: true, advice: () => 'Nothing to do: the daemon waits as long as Entra ID asks and retries, keeping the sign-in.' },
  transient: { code: 'transient', what: 'Entra ID is temporarily unavailable', retryable: true, advice: () => 'Nothing to do: the daemon retries with back-off and keeps the sign-in.' },
  unknown: { code: 'internal', what: 'Entra ID refused the request for a reason ews-daemon does not know', advice: () => 'The daemon log has the detail; report it if it repeats.' },
} satisfies Record<string, Rule>;
type RuleName = keyof typeof RULES;

/** The AADSTS table of docs/platform-notes.md. Change it, change that table. */
const BY_NUMBER: Record<number, RuleName> = {
  ...numbers([70008, 700082, 50173, 70043, 50132, 50133], 'grantGone'),
  ...numbers([50076, 50079, 50078, 50074], 'mfa'),
  ...numbers([53003, 53000, 50131], 'conditionalAccess'),
  ...numbers([65001, 90094, 90095], 'adminConsent'),
  ...numbers([50105], 'notAssigned'),
  ...numbers([700016, 700011, 7000112, 70001], 'appUnknown'),
  ...numbers([7000215, 70002, 7000222], 'secretBad'),
  ...numbers([700027, 50012, 700030], 'certBad'),
  ...numbers([54005, 70000, 9002313, 50089], 'codeBad'),
  ...numbers([50011, 70004], 'redirectBad'),
  ...numbers([7000218], 'webAppNoCredential'),
  ...numbers([700025], 'publicSentCredential'),
  ...numbers([501481], 'pkce'),
  ...numbers([90055, 50196], 'throttled'),
  ...numbers([65004], 'declined'),
};

/** Per OAuth `error`: the verdict without a known number, and the numbers' verdicts it admits. */
interface Family {
  fallback: RuleName;
  admits: readonly RuleName[] | 'any';
}
const BUSY: Family = { fallback: 'transient', admits: ['throttled', 'transient'] };
const GRANT: Family = { fallback: 'grantGone', admits: 'any' };
const FAMILIES: Record<string, Family> = {
  temporarily_unavailable: BUSY,
  server_error: BUSY,
  // MsalNetwork's name for a body that is not JSON: a proxy's or gateway's error page.
  invalid_response: BUSY,
  slow_down: { fallback: 'throttled', admits: ['throttled'] },
  // RFC 8628 §3.5's device-code answers.
  expired_token: { fallback: 'deviceExpired', admits: [] },
  authorization_declined: { fallback: 'deviceDeclined', admits: [] },
  bad_verification_code: { fallback: 'deviceInvalid', admits: [] },
  invalid_grant: GRANT,
  interaction_required: GRANT,
  login_required: GRANT,
  consent_required: GRANT,
  // MSAL's own interaction-required codes: the cache has no usable refresh token.
  no_tokens_found: GRANT,
  refresh_token_expired: GRANT,
  bad_token: GRANT,
  access_denied: { fallback: 'declined', admits: ['declined', 'conditionalAccess', 'notAssigned', 'adminConsent', 'mfa', 'appUnknown', 'grantGone'] },
  invalid_client: { fallback: 'secretBad', admits: ['secretBad', 'certBad', 'appUnknown', 'redirectBad', 'webAppNoCredential', 'publicSentCredential'] },
  unauthorized_client: { fallback: 'appUnknown', admits: ['appUnknown', 'secretBad', 'certBad', 'redirectBad', 'notAssigned', 'webAppNoCredential', 'publicSentCredential'] },
  invalid_request: { fallback: 'unknown', admits: 'any' },
  invalid_scope: { fallback: 'scope', admits: ['scope', 'adminConsent'] },
  invalid_resource: { fallback: 'scope', admits: ['scope', 'appUnknown'] },
};

export function classifyTokenError(input: TokenErrorInput, context: ClassifyContext = {}): AppError {
  const ctx: ClassifyContext = { ...context, adminConsentUrl: context.adminConsentUrl ?? input.adminConsentUrl };
  const aadsts = input.errorCodes?.[0] ?? aadstsIn(input.errorDescription);
  let rule: Rule = RULES[chooseRule(input, aadsts)];
  if (rule === RULES.transient && input.status === 429) rule = RULES.throttled;
  // AADSTS50199 (a confirmation interrupt) and Conditional Access are how policy refuses device code.
  if (ctx.deviceCode && (rule === RULES.conditionalAccess || aadsts === 50199)) rule = RULES.deviceBlocked;
  const label = [input.error, aadsts !== undefined ? `AADSTS${aadsts}` : undefined].filter(Boolean).join(', ');
  const said = shortDescription(input.errorDescription);
  const message = `${rule.what}${label ? ` (${label})` : ''}${said ? `: ${said}` : '.'}`;
  const retryable = rule.retryable === true;
  return new AppError(rule.code, message, {
    advice: rule.advice(ctx),
    retryable,
    ...(aadsts !== undefined ? { aadsts } : {}),
    ...(retryable && input.retryAfterSeconds !== undefined ? { retryAfterMs: input.retryAfterSeconds * 1000 } : {}),
    ...(rule === RULES.adminConsent && ctx.adminConsentUrl ? { link: ctx.adminConsentUrl } : {}),
  });
}

function chooseRule(input: TokenErrorInput, aadsts: number | undefined): RuleName {
  const byNumber = aadsts === undefined ? undefined : BY_NUMBER[aadsts];
  const family = input.error && Object.hasOwn(FAMILIES, input.error) ? FAMILIES[input.error] : undefined;
  if (family) {
    return byNumber && (family.admits === 'any' || family.admits.includes(byNumber)) ? byNumber : family.fallback;
  }
  if (byNumber) return byNumber;
  if (input.status === 429) return 'throttled';
  if (input.status !== undefined && input.status >= 500) return 'transient';
  return 'unknown';
}

/** MSAL's client-side error codes (msal-common ClientAuthErrorCodes, msal-node's own). */
const MSAL_CLIENT_CODES: Record<string, { code: ErrorCode; what: string; advice: string }> = {
  ...Object.fromEntries(
    ['network_error', 'endpoints_resolution_error', 'openid_config_error', 'no_network_connectivity'].map((c) => [
      c,
      { code: 'transient', what: 'Could not reach Entra ID', advice: 'Check the network and proxy settings (HTTPS_PROXY, NO_PROXY); the daemon retries on its own. If it persists, check `tenant` or `authority` in config.json.' },
    ]),
  ),
  state_mismatch: { code: 'redirect_invalid', what: 'The Reply URL’s state does not belong to this sign-in', advice: 'Start sign-in again from the popup or with `ews-daemon consent`.' },
  nonce_mismatch: { code: 'code_invalid', what: 'The sign-in answer was not made for this sign-in', advice: 'Start sign-in again from the popup or with `ews-daemon consent`.' },
  no_account_found: { code: 'no_account', what: 'The token cache has no such account', advice: SIGN_IN_AGAIN },
  device_code_expired: { code: 'device_code_expired', what: RULES.deviceExpired.what, advice: RULES.deviceExpired.advice() },
  user_timeout_reached: { code: 'device_code_expired', what: RULES.deviceExpired.what, advice: RULES.deviceExpired.advice() },
  device_code_polling_cancelled: { code: 'cancelled', what: 'The device code sign-in was cancelled', advice: 'Run `ews-daemon consent --device-code` again when you are ready.' },
  no_account_in_silent_request: { code: 'no_account', what: 'No account was given for a silent token request', advice: SIGN_IN_AGAIN },
  invalid_client_credential: { code: 'credential_invalid', what: 'MSAL has no usable client credential', advice: 'Set exactly one of `clientSecret`, `clientSecretFile` or `certificate` in config.json.' },
  invalid_assertion: { code: 'credential_invalid', what: 'MSAL could not build the client assertion', advice: 'Check `certificate.privateKeyPath` and `certificate.certificatePath` in config.json.' },
};

interface MsalErrorShape {
  name: string;
  errorCode: string;
  errorMessage?: string;
  subError?: string;
  errorNo?: string | number;
  status?: number;
  httpStatus?: number;
}

/**
 * MSAL's errors (ServerError, InteractionRequiredAuthError, ClientAuthError, NetworkError,
 * ClientConfigurationError) as AppError; our own AppError (e.g. Http's 'transient') unchanged.
 */
export function classifyMsalError(e: unknown, context: ClassifyContext = {}): AppError {
  if (isAppError(e)) return e;
  if (!isMsalError(e)) return internal(`MSAL failed unexpectedly (${e instanceof Error ? e.name : typeof e}).`, e);
  if (e.name === 'ServerError' || e.name === 'InteractionRequiredAuthError' || e.errorNo !== undefined) return fromServerError(e, context);
  const known = Object.hasOwn(MSAL_CLIENT_CODES, e.errorCode) ? MSAL_CLIENT_CODES[e.errorCode] : undefined;
  const detail = clip(e.errorMessage ?? '');
  if (known) {
    return new AppError(known.code, `${known.what} (${e.errorCode})${detail ? `: ${detail}` : '.'}`, { advice: known.advice, retryable: known.code === 'transient' }, { cause: e });
  }
  if (e.name === 'ClientConfigurationError') {
    return new AppError('app_misconfigured', `MSAL refused the configuration (${e.errorCode})${detail ? `: ${detail}` : '.'}`, { advice: 'Check config.json against the README, then restart the daemon.', retryable: false }, { cause: e });
  }
  return internal(`MSAL failed (${e.errorCode})${detail ? `: ${detail}` : '.'}`, e);
}

function fromServerError(e: MsalErrorShape, context: ClassifyContext): AppError {
  // MSAL's throttling cache rethrows a ServerError whose errorCode is the AADSTS numbers joined.
  const numericCode = /^\d+( \d+)*$/.test(e.errorCode);
  const errorNo = e.errorNo === undefined || e.errorNo === '' ? undefined : Number(e.errorNo);
  const aadsts = Number.isInteger(errorNo) ? errorNo : numericCode ? Number(e.errorCode.split(' ')[0]) : aadstsIn(e.errorMessage);
  const input: TokenErrorInput = {
    error: numericCode || e.errorCode === '' ? undefined : e.errorCode,
    errorDescription: e.errorMessage,
    errorCodes: aadsts === undefined ? undefined : [aadsts],
    status: e.status ?? e.httpStatus,
    subError: e.subError,
  };
  const classified = classifyTokenError(input, context);
  const interaction = e.name === 'InteractionRequiredAuthError';
  if (classified.code !== 'internal' || (input.error !== undefined && !interaction)) return withCause(classified, e);
  // An unknown interaction-required code still means the grant needs a person; a ServerError
  // with no code, number or status means Entra answered oddly: keep the grant and retry.
  return withCause(classifyTokenError({ ...input, error: interaction ? 'interaction_required' : 'temporarily_unavailable' }, context), e);
}

function isMsalError(e: unknown): e is MsalErrorShape {
  return e instanceof Error && typeof (e as { errorCode?: unknown }).errorCode === 'string';
}

/**
 * Only the error's type, never its message: a foreign error's message may quote what it was
 * parsing (Node's JSON.parse quotes its input), which could be a token response.
 */
function internal(message: string, cause: unknown): AppError {
  return new AppError('internal', message, { advice: 'This is likely a bug in ews-daemon: the daemon log has the detail; report it if it repeats.', retryable: false }, { cause });
}

function withCause(e: AppError, cause: unknown): AppError {
  const { code, ...fields } = e.data;
  return new AppError(code, e.message, fields, { cause });
}

function aadstsIn(text: string | undefined): number | undefined {
  const m = text ? /AADSTS(\d+)/.exec(text) : null;
  return m ? Number(m[1]) : undefined;
}

/** Entra's description without the AADSTS prefix, trace and correlation ids, and MSAL's framing. */
function shortDescription(text: string | undefined): string {
  if (!text) return '';
  const framed = /Description: ([\s\S]*?)(?: - Correlation ID:|$)/.exec(text);
  const body = (framed?.[1] ?? text).replace(/^AADSTS\d+:\s*/, '').split(/\r?\n|\s+Trace ID:/)[0] ?? '';
  return clip(body.trim());
}

/** Long enough for Entra's one-sentence reasons, short enough for a status line. */
const MAX_DETAIL_CHARS = 300;
function clip(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}

function numbers(list: number[], rule: RuleName): Record<number, RuleName> {
  return Object.fromEntries(list.map((n) => [n, rule]));
}

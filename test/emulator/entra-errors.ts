// Entra ID's errors as it sends them: the AADSTS texts the emulator uses, the token endpoint's
// JSON body ({error, error_description "AADSTSnnnn: …", error_codes, trace_id, correlation_id,
// timestamp, error_uri}), the error parameters of a redirect, and the sign-in error page.
import crypto from 'node:crypto';
import { escapeHtml } from './http-util';

/** What Entra says for each number the emulator produces on its own; `{name}` is filled in. */
export const AADSTS_TEXT: Record<number, string> = {
  50011: "The redirect URI '{redirectUri}' specified in the request does not match the redirect URIs configured for the application '{clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
  50027: 'JWT token is invalid or malformed.',
  50034: "The user account {user} does not exist in the '{tenant}' directory. To sign into this application, the account must be added to the directory.",
  50058: 'A silent sign-in request was sent but no user is signed in.',
  50105: "Your administrator has configured the application {appName} ('{clientId}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '{user}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.",
  50126: 'Error validating credentials due to invalid username or password.',
  50173: "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{issued}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{validFrom}'.",
  50199: 'For security reasons, user confirmation is required for this request. Please repeat the request allowing user interaction.',
  53003: 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
  54005: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  65001: "The user or administrator has not consented to use the application with ID '{clientId}' named '{appName}'. Send an interactive authorization request for this user and resource.",
  65004: 'User declined to consent to access the app.',
  70000: "The provided value for the 'code' parameter is not valid.",
  70003: "The app requested an unsupported grant type '{grantType}'.",
  70004: "The redirect URI '{redirectUri}' provided in the request does not match the redirect URI used when the authorization code was requested.",
  70008: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  70011: "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not valid.",
  90002: "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
  90033: 'A transient error has occurred. Please try again.',
  90055: 'The request is throttled temporarily. Please try after some time.',
  90094: 'The grant requires admin permission.',
  500011: "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
  501481: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
  501491: "Invalid size of Code_Challenge parameter, or unsupported code_challenge_method '{method}'.",
  700016: "Application with identifier '{clientId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  700021: "Client assertion application identifier doesn't match 'client_id' parameter.",
  700022: "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid.",
  700024: 'Client assertion is not within its valid time range.',
  700025: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
  700027: 'Client assertion failed signature validation. {reason}',
  700054: "response_type '{responseType}' is not enabled for the application.",
  700082: "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for {inactive}.",
  900144: "The request body must contain the following parameter: '{param}'.",
  7000215: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.",
  7000218: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  9002313: 'Invalid request. Request is malformed or invalid.',
};

export interface EntraError {
  status: number;
  error: string;
  aadsts: number;
  /** The text after "AADSTSnnnn: "; defaults to AADSTS_TEXT filled with `vars`. */
  text?: string;
  vars?: Record<string, string>;
}

export interface ErrorIds {
  traceId: string;
  correlationId: string;
  /** Entra's format: `2026-11-24 07:01:02Z`. */
  timestamp: string;
}

export function newErrorIds(now: number, correlationId?: string): ErrorIds {
  return { traceId: crypto.randomUUID(), correlationId: correlationId || crypto.randomUUID(), timestamp: entraTimestamp(now) };
}

export function entraTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

export function errorText(e: EntraError): string {
  const template = e.text ?? AADSTS_TEXT[e.aadsts] ?? 'An error occurred.';
  return template.replace(/\{(\w+)\}/g, (_, k: string) => e.vars?.[k] ?? `{${k}}`);
}

/** "AADSTSnnnn: text" followed by the trace lines Entra appends. */
export function errorDescription(e: EntraError, ids: ErrorIds): string {
  return `AADSTS${e.aadsts}: ${errorText(e)}\r\nTrace ID: ${ids.traceId}\r\nCorrelation ID: ${ids.correlationId}\r\nTimestamp: ${ids.timestamp}`;
}

export function errorBody(e: EntraError, ids: ErrorIds, baseUrl: string): Record<string, unknown> {
  return {
    error: e.error,
    error_description: errorDescription(e, ids),
    error_codes: [e.aadsts],
    timestamp: ids.timestamp,
    trace_id: ids.traceId,
    correlation_id: ids.correlationId,
    error_uri: `${baseUrl}/error?code=${e.aadsts}`,
  };
}

/** The query (or fragment) parameters of an error redirect to the Reply URL. */
export function redirectErrorParams(e: EntraError, ids: ErrorIds, state: string | undefined): Record<string, string> {
  const params: Record<string, string> = { error: e.error, error_description: errorDescription(e, ids) };
  if (state !== undefined) params.state = state;
  return params;
}

/** The page Entra shows when it cannot (or must not) redirect back to the app. */
export function errorPage(e: EntraError, ids: ErrorIds): string {
  const text = `AADSTS${e.aadsts}: ${errorText(e)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body><main>
<h1>Sorry, but we’re having trouble signing you in.</h1>
<p role="alert" id="error">${escapeHtml(text)}</p>
<dl>
<dt>Request Id</dt><dd>${ids.traceId}</dd>
<dt>Correlation Id</dt><dd>${ids.correlationId}</dd>
<dt>Timestamp</dt><dd>${ids.timestamp}</dd>
</dl>
</main></body></html>`;
}

/** GET /error?code=n: what Entra's error lookup page tells about a number. */
export function errorLookupPage(code: string): string {
  const n = Number(code);
  const text = AADSTS_TEXT[n] ?? 'No description in the emulator for this code.';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AADSTS${escapeHtml(code)}</title></head><body><main><h1>AADSTS${escapeHtml(code)}</h1><p>${escapeHtml(text)}</p></main></body></html>`;
}

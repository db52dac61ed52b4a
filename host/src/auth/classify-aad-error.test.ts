import { AuthError, ClientAuthError, ClientConfigurationError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../../shared/errors';
import { classifyFailure } from '../daemon/refresh-outcome';
import { classifyMsalError, classifyTokenError } from './classify-aad-error';

// One row per number of the AADSTS table in docs/platform-notes.md, with the `error` Entra sends alongside.
const TABLE: [number, string, ErrorCode][] = [
  [70008, 'invalid_grant', 'needs_consent'],
  [700082, 'invalid_grant', 'needs_consent'],
  [50173, 'invalid_grant', 'needs_consent'],
  [70043, 'invalid_grant', 'needs_consent'],
  [50132, 'invalid_grant', 'needs_consent'],
  [50133, 'invalid_grant', 'needs_consent'],
  [50076, 'interaction_required', 'mfa_required'],
  [50079, 'interaction_required', 'mfa_required'],
  [50078, 'invalid_grant', 'mfa_required'],
  [50074, 'interaction_required', 'mfa_required'],
  [53003, 'invalid_grant', 'conditional_access'],
  [53000, 'invalid_grant', 'conditional_access'],
  [50131, 'access_denied', 'conditional_access'],
  [65001, 'invalid_grant', 'admin_consent_required'],
  [90094, 'invalid_grant', 'admin_consent_required'],
  [90095, 'access_denied', 'admin_consent_required'],
  [50105, 'invalid_grant', 'user_not_assigned'],
  [700016, 'unauthorized_client', 'app_misconfigured'],
  [700011, 'unauthorized_client', 'app_misconfigured'],
  [7000112, 'unauthorized_client', 'app_misconfigured'],
  [70001, 'unauthorized_client', 'app_misconfigured'],
  [7000215, 'invalid_client', 'credential_invalid'],
  [70002, 'invalid_client', 'credential_invalid'],
  [7000222, 'invalid_client', 'credential_invalid'],
  [700027, 'invalid_client', 'credential_invalid'],
  [50012, 'invalid_client', 'credential_invalid'],
  [700030, 'invalid_client', 'credential_invalid'],
  [54005, 'invalid_grant', 'code_invalid'],
  [70000, 'invalid_grant', 'code_invalid'],
  [9002313, 'invalid_request', 'code_invalid'],
  [50089, 'invalid_grant', 'code_invalid'],
  [50011, 'invalid_request', 'app_misconfigured'],
  [70004, 'invalid_client', 'app_misconfigured'],
  [7000218, 'invalid_client', 'app_misconfigured'],
  [700025, 'invalid_client', 'app_misconfigured'],
  [501481, 'invalid_grant', 'pkce_mismatch'],
  [90055, 'temporarily_unavailable', 'throttled'],
  [50196, 'invalid_grant', 'throttled'],
  [65004, 'access_denied', 'consent_denied'],
];

describe('classifyTokenError', () => {
  it.each(TABLE)('maps AADSTS%i (%s) to %s and names the number', (n, error, code) => {
    const e = classifyTokenError({ error, errorDescription: `AADSTS${n}: Something Entra says.\r\nTrace ID: t Correlation ID: c`, errorCodes: [n], status: 400 });
    expect(e.code).toBe(code);
    expect(e.data.aadsts).toBe(n);
    expect(e.message).toContain(`AADSTS${n}`);
    expect(e.message).toContain('Something Entra says.');
    expect(e.message).not.toContain('Trace ID');
    expect(e.data.retryable).toBe(code === 'throttled' || code === 'transient');
  });

  it('reads the number from the description when error_codes is missing', () => {
    expect(classifyTokenError({ error: 'invalid_grant', errorDescription: 'AADSTS700082: The refresh token has expired due to inactivity.' })).toMatchObject({ data: { code: 'needs_consent', aadsts: 700082 } });
  });

  it.each([
    ['a busy error with a grant-loss number', { error: 'temporarily_unavailable', errorCodes: [70008] }, 'transient'],
    ['invalid_client with a grant-loss number', { error: 'invalid_client', errorCodes: [70008] }, 'credential_invalid'],
    ['invalid_grant with an unknown number', { error: 'invalid_grant', errorCodes: [999999] }, 'needs_consent'],
    ['interaction_required without a number', { error: 'interaction_required' }, 'needs_consent'],
    ['access_denied without a number', { error: 'access_denied', errorDescription: 'The user has denied access.' }, 'consent_denied'],
    ['invalid_client without a number', { error: 'invalid_client' }, 'credential_invalid'],
    ['a gateway page that is not JSON', { error: 'invalid_response', status: 502 }, 'transient'],
    ['HTTP 503 with no body', { status: 503 }, 'transient'],
    ['an unknown error on HTTP 400', { error: 'something_new', status: 400 }, 'internal'],
    ['an error named like an Object property', { error: 'constructor', status: 400 }, 'internal'],
  ])('branches on error first when given %s', (_what, input, code) => {
    expect(classifyTokenError(input).code).toBe(code);
  });

  it('turns HTTP 429 into throttled and honours Retry-After', () => {
    const e = classifyTokenError({ error: 'temporarily_unavailable', status: 429, retryAfterSeconds: 7 });
    expect(e.data).toMatchObject({ code: 'throttled', retryable: true, retryAfterMs: 7000 });
    expect(classifyTokenError({ status: 429, retryAfterSeconds: 2 }).data).toMatchObject({ code: 'throttled', retryAfterMs: 2000 });
  });

  it('offers the admin-consent link when it is given one', () => {
    const url = 'https://login.microsoftonline.com/contoso.example/v2.0/adminconsent?client_id=x';
    for (const e of [classifyTokenError({ error: 'invalid_grant', errorCodes: [65001] }, { adminConsentUrl: url }), classifyTokenError({ error: 'invalid_grant', errorCodes: [65001], adminConsentUrl: url })]) {
      expect(e.data.advice).toContain(url);
      expect(e.data.link).toBe(url);
    }
    expect(classifyTokenError({ error: 'invalid_grant', errorCodes: [65001] }).data.advice).toContain('ews-daemon consent --admin');
  });

  it('tells an unassigned user what the administrator must do', () => {
    expect(classifyTokenError({ error: 'invalid_grant', errorCodes: [50105] }).data.advice).toBe('An administrator must assign you to the application in Entra ID (Enterprise applications → Users and groups).');
  });

  it('names the configured Reply URL for a redirect URI mismatch', () => {
    expect(classifyTokenError({ error: 'invalid_request', errorCodes: [50011] }, { redirectUri: 'http://localhost:53100/callback' }).data.advice).toContain('http://localhost:53100/callback');
  });

  it.each([
    ['expired_token', 'device_code_expired'],
    ['authorization_declined', 'device_code_declined'],
    ['bad_verification_code', 'device_code_invalid'],
  ])('names the device code answer %s as %s', (error, code) => {
    expect(classifyTokenError({ error, errorCodes: [70000] }, { deviceCode: true }).code).toBe(code);
  });

  it('points a device code refused by policy (AADSTS53003, 50199) at --listen and --paste', () => {
    for (const [error, n] of [['invalid_grant', 53003], ['interaction_required', 50199]] as const) {
      const e = classifyTokenError({ error, errorCodes: [n] }, { deviceCode: true });
      expect(e.code).toBe('conditional_access');
      expect(e.data.advice).toMatch(/`ews-daemon consent --listen`.*`--paste`/);
    }
    expect(classifyTokenError({ error: 'invalid_grant', errorCodes: [53003] }).data.advice).not.toContain('--paste');
  });

  it("sends a public client's Reply URL mismatch (AADSTS50011) to the Mobile and desktop platform", () => {
    const e = classifyTokenError({ error: 'invalid_request', errorCodes: [50011] }, { redirectUri: 'http://localhost:53100', client: 'public' });
    expect(e.message).toContain('not registered for the app on this platform');
    expect(e.data.advice).toContain('"Mobile and desktop applications" platform: add http://localhost there');
  });

  it('turns a registration that does not fit the client into advice (AADSTS7000218, AADSTS700025)', () => {
    const web = classifyTokenError({ error: 'invalid_client', errorCodes: [7000218] });
    expect(web.message).toContain('registered as a Web app');
    expect(web.data.advice).toMatch(/`clientSecretFile` or `certificate`.*"Allow public client flows" Yes.*"Mobile and desktop applications" platform with Reply URL http:\/\/localhost/);
    const pub = classifyTokenError({ error: 'invalid_client', errorCodes: [700025] });
    expect(pub.message).toContain('registered as a public client');
    expect(pub.data.advice).toContain('Remove `clientSecret`, `clientSecretFile` or `certificate`');
    expect([web, pub].map(classifyFailure)).toEqual(['config', 'config']);
  });
});

describe('what the refresher does with each Entra answer', () => {
  it.each(TABLE)('sorts AADSTS%i (%s → %s) into stop-and-ask-a-person, configuration, or retry', (n, error, code) => {
    const e = classifyTokenError({ error, errorCodes: [n] });
    const verdicts: ErrorCode[] = ['needs_consent', 'mfa_required', 'conditional_access', 'admin_consent_required', 'user_not_assigned', 'consent_denied'];
    const config: ErrorCode[] = ['app_misconfigured', 'credential_invalid', 'pkce_mismatch'];
    expect(classifyFailure(e)).toBe(verdicts.includes(code) ? 'verdict' : config.includes(code) ? 'config' : 'transitory');
  });
});

describe('classifyMsalError', () => {
  const expiredDescription = 'AADSTS700082: The refresh token has expired due to inactivity.';

  it.each([
    ['ServerError invalid_grant with errorNo as a string', new ServerError('invalid_grant', 'corr', expiredDescription, '', '700082'), 'needs_consent', 700082],
    ['ServerError with errorNo as a number', new ServerError('invalid_grant', 'corr', expiredDescription, '', 700082 as unknown as string), 'needs_consent', 700082],
    [
      'ServerError with the number only in MSAL’s framed message',
      new ServerError('invalid_grant', 'corr', `Error(s): 700082 - Timestamp: 2026-11-24 - Description: ${expiredDescription} Trace ID: t - Correlation ID: c - Trace ID: t`),
      'needs_consent',
      700082,
    ],
    ['ServerError invalid_client 7000215', new ServerError('invalid_client', 'corr', 'AADSTS7000215: Invalid client secret provided.', '', '7000215'), 'credential_invalid', 7000215],
    ['InteractionRequiredAuthError for MFA', new InteractionRequiredAuthError('interaction_required', 'corr', 'AADSTS50076: Due to a configuration change…', 'basic_action', '', '', '', '50076'), 'mfa_required', 50076],
    ['InteractionRequiredAuthError with an unknown code', new InteractionRequiredAuthError('ui_not_allowed', 'corr'), 'needs_consent', undefined],
    ['MSAL’s throttling cache (numbers as the error code)', new ServerError('50196', 'corr', 'loop detected'), 'throttled', 50196],
    ['a ServerError with nothing in it', new ServerError('', 'corr'), 'transient', undefined],
    ['ServerError temporarily_unavailable', new ServerError('temporarily_unavailable', 'corr', 'AADSTS90055: Too many requests.', '', '90055'), 'throttled', 90055],
  ])('classifies %s', (_what, error, code, aadsts) => {
    const e = classifyMsalError(error);
    expect(e.code).toBe(code);
    expect(e.data.aadsts).toBe(aadsts);
    expect(e.cause).toBe(error);
  });

  it.each(['network_error', 'endpoints_resolution_error', 'openid_config_error', 'no_network_connectivity'])('treats ClientAuthError %s as transient', (code) => {
    const e = classifyMsalError(new ClientAuthError(code, 'corr'));
    expect(e.data).toMatchObject({ code: 'transient', retryable: true });
  });

  it('classifies a state mismatch as an invalid Reply URL', () => {
    expect(classifyMsalError(new ClientAuthError('state_mismatch', 'corr')).code).toBe('redirect_invalid');
  });

  it('classifies a ClientConfigurationError as a misconfigured app', () => {
    expect(classifyMsalError(new ClientConfigurationError('invalid_authority_type', 'corr')).code).toBe('app_misconfigured');
  });

  it('passes our own AppError through unchanged', () => {
    const ours = new AppError('transient', 'Could not reach login.example: ECONNRESET', { advice: 'x', retryable: true });
    expect(classifyMsalError(ours)).toBe(ours);
  });

  it('keeps a foreign error’s message out of the classified message', () => {
    const leak = new SyntaxError('Unexpected token, "{"refresh_token":"0.AAA-secret"..." is not valid JSON');
    const e = classifyMsalError(leak);
    expect(e.code).toBe('internal');
    expect(e.message).not.toContain('secret');
    expect(e.message).toContain('SyntaxError');
  });

  it('classifies an unknown MSAL AuthError as internal with its code', () => {
    expect(classifyMsalError(new AuthError('multiple_matching_tokens', 'corr')).message).toContain('multiple_matching_tokens');
  });
});

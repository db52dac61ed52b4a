import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { parseReplyUrl } from './reply-url';

const EXPECTED = 'http://localhost:53100/callback';
const CODE = '0.AXoA-secret-authorization-code';

function refusal(received: string, expected = EXPECTED): AppError {
  try {
    parseReplyUrl(received, expected);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error(`parseReplyUrl accepted ${received}`);
}

describe('parseReplyUrl', () => {
  it.each([
    ['a query', `${EXPECTED}?code=${CODE}&state=s1&session_state=x`],
    ['a fragment (response_mode=fragment)', `${EXPECTED}#code=${CODE}&state=s1`],
    ['surrounding whitespace from a paste', `  ${EXPECTED}?code=${CODE}&state=s1\n`],
  ])('reads code and state from %s', (_how, received) => {
    expect(parseReplyUrl(received, EXPECTED)).toEqual({ kind: 'code', code: CODE, state: 's1' });
  });

  it('reads an error before a code, with its AADSTS number', () => {
    const received = `${EXPECTED}?code=${CODE}&error=access_denied&error_description=${encodeURIComponent('AADSTS65004: User declined to consent.')}&state=s1`;
    expect(parseReplyUrl(received, EXPECTED)).toEqual({
      kind: 'error',
      state: 's1',
      error: 'access_denied',
      description: 'AADSTS65004: User declined to consent.',
      aadsts: 65004,
    });
  });

  it('returns an error without state as state null', () => {
    expect(parseReplyUrl(`${EXPECTED}?error=server_error`, EXPECTED)).toEqual({ kind: 'error', state: null, error: 'server_error', description: '' });
  });

  it('reads an admin-consent answer', () => {
    expect(parseReplyUrl(`${EXPECTED}?admin_consent=True&tenant=contoso.example&state=s2`, EXPECTED)).toEqual({ kind: 'admin-consent', tenant: 'contoso.example', state: 's2' });
  });

  it.each([
    ['localhost for 127.0.0.1', `http://127.0.0.1:53100/callback?code=c&state=s`, /host is 127\.0\.0\.1, expected localhost/],
    ['another port', `http://localhost:53101/callback?code=c&state=s`, /port is 53101, expected 53100/],
    ['https for http', `https://localhost:53100/callback?code=c&state=s`, /scheme is https, expected http/],
    ['a trailing slash', `${EXPECTED}/?code=c&state=s`, /path is \/callback\/, expected \/callback/],
    ['a path climbing out', `${EXPECTED}/../evil?code=c&state=s`, /path is \/evil/],
    ['another host', `http://evil.example:53100/callback?code=c&state=s`, /host is evil\.example/],
  ])('refuses %s and says what differs', (_what, received, message) => {
    const e = refusal(received);
    expect(e.code).toBe('redirect_invalid');
    expect(e.message).toMatch(message);
    expect(e.data.advice).toMatch(/Start sign-in again/);
  });

  it.each([
    ['not an absolute URL', 'localhost/callback?code=c', /not an absolute URL/],
    ['no state', `${EXPECTED}?code=c`, /no "state"/],
    ['neither code nor error', `${EXPECTED}?state=s`, /neither a "code" nor an "error"/],
    ['two codes', `${EXPECTED}?code=a&code=b&state=s`, /"code" more than once/],
    ['two states (query and fragment)', `${EXPECTED}?code=a&state=s#state=t`, /"state" more than once/],
    ['admin_consent without tenant', `${EXPECTED}?admin_consent=True&state=s`, /admin_consent=True with a "tenant"/],
  ])('refuses a Reply URL with %s', (_what, received, message) => {
    const e = refusal(received);
    expect(e.code).toBe('redirect_invalid');
    expect(e.message).toMatch(message);
  });

  it('never puts the authorization code into its error', () => {
    const e = refusal(`http://127.0.0.1:53100/callback?code=${CODE}&state=s`);
    expect(JSON.stringify({ message: e.message, data: e.data })).not.toContain(CODE);
  });
});

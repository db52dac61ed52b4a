import { describe, expect, it } from 'vitest';
import { decodeJwt } from './jwt-view';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const SIGNATURE = 'c2lnbmF0dXJlLWJ5dGVzLXRoYXQtbXVzdC1uZXZlci1sZWF2ZQ';
const header = { typ: 'JWT', alg: 'RS256', kid: 'abc' };
const claims = { aud: 'https://outlook.office365.com', upn: 'alice@contoso.example', exp: 1_800_000_000, scp: 'EWS.AccessAsUser.All' };

describe('decodeJwt', () => {
  it('decodes the header and claims of a signed token', () => {
    expect(decodeJwt(`${b64(header)}.${b64(claims)}.${SIGNATURE}`)).toEqual({ header, claims });
  });

  it('never returns the signature or the raw token', () => {
    const token = `${b64(header)}.${b64(claims)}.${SIGNATURE}`;
    const out = JSON.stringify(decodeJwt(token));
    expect(out).not.toContain(SIGNATURE);
    expect(out).not.toContain(token);
  });

  it('decodes an unsigned token (empty signature part)', () => {
    expect(decodeJwt(`${b64({ alg: 'none' })}.${b64(claims)}.`)?.claims).toEqual(claims);
  });

  it.each([
    ['an opaque refresh token', '0.AAAA-opaque-refresh-token-string'],
    ['an encrypted (5-part JWE) token', `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.key.iv.cipher.tag`],
    ['a payload that is not JSON', `${b64(header)}.${b64('not json')}.${SIGNATURE}`],
    ['a payload that is a JSON array', `${b64(header)}.${b64([1, 2])}.${SIGNATURE}`],
    ['a header without alg', `${b64({ typ: 'JWT' })}.${b64(claims)}.${SIGNATURE}`],
    ['segments with characters outside base64url', `${b64(header)}.${b64(claims)}==.${SIGNATURE}`],
    ['an empty string', ''],
  ])('returns null for %s', (_what, token) => {
    expect(decodeJwt(token)).toBeNull();
  });
});

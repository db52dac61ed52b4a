// Compact JWS for the emulator: signs its tokens with RS256 and checks client assertions
// (RS256 or PS256, as MSAL sends them). Pure: keys in, strings or verdicts out.
import crypto from 'node:crypto';

export type JwtHeader = Record<string, unknown> & { alg?: string };
export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export function signJwt(header: JwtHeader, claims: JwtClaims, privateKey: crypto.KeyObject): string {
  const input = `${b64url({ ...header, alg: 'RS256' })}.${b64url(claims)}`;
  const signature = crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
  return `${input}.${signature}`;
}

/** Splits and parses a JWS; null when it is not three base64url JSON parts. */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, c, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (!isRecord(header) || !isRecord(claims)) return null;
    return { header, claims, signingInput: `${h}.${c}`, signature: Buffer.from(s, 'base64url') };
  } catch {
    return null;
  }
}

/** Checks an RS256 or PS256 signature; any other algorithm is refused. */
export function verifySignature(jwt: DecodedJwt, publicKey: crypto.KeyObject): boolean {
  const data = Buffer.from(jwt.signingInput);
  try {
    if (jwt.header.alg === 'RS256') return crypto.verify('sha256', data, publicKey, jwt.signature);
    if (jwt.header.alg === 'PS256') {
      return crypto.verify('sha256', data, { key: publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO }, jwt.signature);
    }
  } catch {
    return false;
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JWK of an RSA public key, as a JWKS publishes it. */
export function publicJwk(publicKey: crypto.KeyObject, kid: string): Record<string, unknown> {
  const jwk = publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e };
}

/** A key id like Entra's: base64url of a SHA-1 over the public key's DER. */
export function keyId(publicKey: crypto.KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return crypto.createHash('sha1').update(der).digest('base64url');
}

// Decodes a JWT's header and claims for the token viewer. Pure. Guarantees: the result never
// holds the signature or the raw token string; encrypted (JWE) and opaque tokens give null.

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** base64url with no padding, as RFC 7515 §2 requires: anything else is not a JWS segment. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A compact JWS (`header.payload.signature`, RFC 7515 §7.1) decoded, or null when the token is
 * anything else: an opaque string, a 5-part JWE (its payload is ciphertext), or bad JSON.
 */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const header = decodeSegment(parts[0] ?? '');
  const claims = decodeSegment(parts[1] ?? '');
  // RFC 7515 §4.1.1: "alg" MUST be present in a JWS header.
  if (!header || !claims || typeof header.alg !== 'string') return null;
  return { header, claims };
}

function decodeSegment(segment: string): Record<string, unknown> | null {
  if (!BASE64URL.test(segment)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  return isPlainObject(value) ? value : null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

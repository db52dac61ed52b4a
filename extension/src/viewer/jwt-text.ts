// Decoded JWT parts as the viewer prints them: indented JSON, with every time claim (seconds
// since the epoch) followed by a comment in the reader's local time. Copying takes the plain
// JSON. Pure: the time zone is the only thing read from the environment (via formatLocalTime).
import { formatLocalTime } from '../lib/format';

/** Claims that hold NumericDate values (RFC 7519 §2, OpenID Connect Core, Entra's extras). */
export const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at', 'pwd_exp', 'xms_tcdt', 'rh_exp']);

/** The plain JSON that the copy button copies. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** The JSON with "// <local time>" after each top-level time claim. */
export function annotatedJson(value: Record<string, unknown>): string {
  return jsonText(value)
    .split('\n')
    .map((line) => {
      const m = /^ {2}"([^"]+)": (\d+)(,?)$/.exec(line);
      if (!m || !TIME_CLAIMS.has(m[1]!)) return line;
      return `${line}  // ${formatLocalTime(Number(m[2]) * 1000)}`;
    })
    .join('\n');
}

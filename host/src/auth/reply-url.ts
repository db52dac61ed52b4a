// Checks a Reply URL caught after sign-in (by the extension, the loopback listener or a paste)
// and reads what Entra put in it. Pure. Guarantees: the URL's origin and path equal the
// configured redirectUri exactly; an error is read before a code; the code never reaches an
// error message (messages name only the parts that differ, never the whole URL).
import { AppError } from '../../../shared/errors';

export type ReplyUrl =
  | { kind: 'code'; code: string; state: string }
  | { kind: 'error'; state: string | null; error: string; description: string; aadsts?: number }
  | { kind: 'admin-consent'; tenant: string; state: string };

const START_AGAIN = 'Start sign-in again from the popup or with `ews-daemon consent`.';
/** Parameters that must appear at most once: two values would let a forger pick which one we read. */
const SINGLE = ['code', 'state', 'error', 'admin_consent', 'tenant'] as const;

export function parseReplyUrl(received: string, expectedRedirectUri: string): ReplyUrl {
  const url = parseAbsolute(received.trim());
  const expected = new URL(expectedRedirectUri);
  const differences = describeDifferences(url, expected);
  if (differences.length > 0) {
    throw invalid(`The Reply URL does not match the configured redirectUri ${expected.origin}${expected.pathname}: ${differences.join('; ')}.`, `${START_AGAIN} If you changed the Reply URL, it must equal \`redirectUri\` in config.json and the app registration.`);
  }
  const params = collectParams(url);
  const one = (name: string) => params.get(name)?.[0] ?? null;
  for (const name of SINGLE) {
    if ((params.get(name)?.length ?? 0) > 1) throw invalid(`The Reply URL carries "${name}" more than once.`, START_AGAIN);
  }
  const state = one('state');
  const error = one('error');
  if (error !== null) {
    const description = one('error_description') ?? '';
    const aadsts = /AADSTS(\d+)/.exec(description)?.[1];
    return { kind: 'error', state, error, description, ...(aadsts ? { aadsts: Number(aadsts) } : {}) };
  }
  if (!state) throw invalid('The Reply URL has no "state": it does not come from a sign-in this daemon started.', START_AGAIN);
  const adminConsent = one('admin_consent');
  if (adminConsent !== null) return adminConsentResult(adminConsent, one('tenant'), state);
  const code = one('code');
  if (code) return { kind: 'code', code, state };
  throw invalid('The Reply URL has neither a "code" nor an "error": it is not the answer to a sign-in.', START_AGAIN);
}

function parseAbsolute(received: string): URL {
  try {
    return new URL(received);
  } catch {
    throw invalid('The Reply URL is not an absolute URL (it must start like http://localhost:…/…).', `Copy the whole address from the browser's address bar. ${START_AGAIN}`);
  }
}

/** Scheme, host and port (so localhost ≠ 127.0.0.1) and path, each compared exactly. */
function describeDifferences(url: URL, expected: URL): string[] {
  const checks: [string, string, string][] = [
    ['scheme', url.protocol.replace(/:$/, ''), expected.protocol.replace(/:$/, '')],
    ['host', url.hostname, expected.hostname],
    ['port', url.port || '(default)', expected.port || '(default)'],
    ['path', url.pathname, expected.pathname],
  ];
  return checks.filter(([, got, want]) => got !== want).map(([what, got, want]) => `${what} is ${got}, expected ${want}`);
}

/** Query and fragment parameters together (response_mode=fragment puts them after #). */
function collectParams(url: URL): Map<string, string[]> {
  const params = new Map<string, string[]>();
  const sources = [url.searchParams, new URLSearchParams(url.hash.replace(/^#/, ''))];
  for (const source of sources) {
    for (const [name, value] of source) params.set(name, [...(params.get(name) ?? []), value]);
  }
  return params;
}

function adminConsentResult(adminConsent: string, tenant: string | null, state: string): ReplyUrl {
  if (adminConsent.toLowerCase() !== 'true' || !tenant) {
    throw invalid('The Reply URL has "admin_consent" but not admin_consent=True with a "tenant".', 'Start the admin consent again with `ews-daemon consent --admin`.');
  }
  return { kind: 'admin-consent', tenant, state };
}

function invalid(message: string, advice: string): AppError {
  return new AppError('redirect_invalid', message, { advice, retryable: false });
}

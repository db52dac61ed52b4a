// The cache versions the crash test's writers write: large, valid msal-node cache JSON, each one
// (writer, seq) deterministic and different in every secret, so the test can tell a whole
// version from a mix of two. Built from one template, so a writer spends its time writing.
import { makeCacheJson } from './msal-cache-fixture';

const ACCOUNTS = [1, 2, 3, 4, 5].map((n) => ({ uid: `uid-${n}`, utid: 'tenant', username: `user${n}@contoso.example`, name: `User ${n}` }));
const MARK = 'VERSIONMARK';
/** About 150 kB: five accounts with twenty access tokens each, like a busy real cache. */
const TEMPLATE = makeCacheJson({ clientId: 'crash-test-client', accounts: ACCOUNTS, nowSec: 1_700_000_000, accessTokensPerAccount: 20 }).replace(
  /"secret":"/g,
  `"secret":"${MARK}`,
);

export function cacheVersion(writer: string, seq: number): string {
  return `{"Version":{"writer":"${writer}","seq":${seq}},${TEMPLATE.slice(1).replaceAll(MARK, `${writer}.${seq}.`)}`;
}

/** The (writer, seq) a cache file claims to be, or null when it is not a version at all. */
export function versionOf(text: string): { writer: string; seq: number } | null {
  try {
    const v = (JSON.parse(text) as { Version?: { writer?: unknown; seq?: unknown } }).Version;
    return typeof v?.writer === 'string' && typeof v.seq === 'number' ? { writer: v.writer, seq: v.seq } : null;
  } catch {
    return null;
  }
}

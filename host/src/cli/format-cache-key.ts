// One line for `status` and `tokens`: where the token cache's key is, or why the cache is plain
// or cannot be read, with the fix. Pure. Text from elsewhere (a keyring's error, a path) is
// shown without its control characters: ESC starts terminal escape sequences (ECMA-48).
import type { CacheKeyInfo } from '../../../shared/protocol';

/** C0 and C1 controls, DEL, and bidirectional overrides (Unicode TR #9), each shown as '?'. */
// Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

export function formatCacheKey(info: CacheKeyInfo | undefined): string[] {
  return lines(info).map((l) => l.replace(UNSAFE, '?'));
}

function lines(info: CacheKeyInfo | undefined): string[] {
  if (!info) return []; // an older daemon
  if (info.error) return [`Token cache: cannot be read (${info.error.code}): ${info.error.message} Fix: ${info.error.advice}`];
  switch (info.kind) {
    case 'keyring':
      return ['Token cache: encrypted; key in the OS keyring (ews-daemon/token-cache-key).'];
    case 'file':
      return [`Token cache: encrypted; key in the file ${info.where ?? '?'} ("cacheKeyFile").`];
    case 'systemd':
      return [`Token cache: encrypted; key from the systemd credential ${info.where ?? '?'}.`];
    case 'none':
      return [`Token cache: NOT encrypted. ${info.advice ?? ''}`.trim()];
  }
}

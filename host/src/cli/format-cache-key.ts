// One line for `status` and `tokens`: where the token cache's key is, or why the cache is plain
// or cannot be read, with the fix. Pure. Text from elsewhere (a keyring's error, a path) is
// quoted as it came: main.ts passes every line through terminal-text.ts, as for every formatter.
import type { CacheKeyInfo } from '../../../shared/protocol';

export function formatCacheKey(info: CacheKeyInfo | undefined): string[] {
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

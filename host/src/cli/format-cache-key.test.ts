import { describe, expect, it } from 'vitest';
import { formatCacheKey } from './format-cache-key';
import { terminalText } from './terminal-text';

describe('the token cache key line', () => {
  it('names where the key is, or says the cache is plain with the fix', () => {
    expect(formatCacheKey({ kind: 'keyring', where: 'OS keyring' })).toEqual(['Token cache: encrypted; key in the OS keyring (ews-daemon/token-cache-key).']);
    expect(formatCacheKey({ kind: 'file', where: '/k/cache.key' })).toEqual(['Token cache: encrypted; key in the file /k/cache.key ("cacheKeyFile").']);
    expect(formatCacheKey({ kind: 'systemd', where: '/run/credentials/x/ews-daemon-cache-key' })).toEqual(['Token cache: encrypted; key from the systemd credential /run/credentials/x/ews-daemon-cache-key.']);
    expect(formatCacheKey({ kind: 'none', advice: 'Set "cacheKeyFile".' })).toEqual(['Token cache: NOT encrypted. Set "cacheKeyFile".']);
    expect(formatCacheKey(undefined)).toEqual([]);
  });

  it('shows an error with its fix, and no terminal escape sequence from the keyring reaches the terminal', () => {
    const error = { code: 'keyring_locked' as const, message: 'The OS keyring is locked (\u001b]0;pwned\u0007).', advice: 'Unlock it.', retryable: true, at: 0 };
    // What the CLI writes: every line through terminalText (main.ts).
    expect(formatCacheKey({ kind: 'keyring', error }).map(terminalText)).toEqual(['Token cache: cannot be read (keyring_locked): The OS keyring is locked (]0;pwned). Fix: Unlock it.']);
  });
});

// doctor's "token cache key" line: where the key of the token cache is, or why the cache is
// plain (a warning with the fix) or cannot be read (a failure with the fix). The probe asks the
// same sources as the daemon (auth/cache-key.ts) in the same order, but never makes a key.
import type { CacheKeyInfo } from '../../../shared/protocol';
import { isSealed } from '../auth/cache-crypto';
import { PLAIN_ADVICE, resolveCacheKey } from '../auth/cache-key';
import type { Config } from '../config/config';
import type { Clock, FileSystem } from '../deps';
import type { Check } from './doctor-manifests';

const NAME = 'token cache key';

export function cacheKeyVerdict(info: CacheKeyInfo): Check {
  if (info.error) return { name: NAME, ok: false, detail: info.error.message, fix: info.error.advice };
  if (info.kind === 'none') return { name: NAME, ok: true, warning: true, detail: 'none: the token cache is stored unencrypted (0600)', fix: info.advice ?? PLAIN_ADVICE };
  const where = info.kind === 'keyring' ? 'the OS keyring' : info.kind === 'file' ? `the key file ${info.where ?? ''}` : `the systemd credential ${info.where ?? ''}`;
  return { name: NAME, ok: true, detail: `the token cache is encrypted with the key in ${where}` };
}

export async function probeCacheKey(
  config: Config,
  cacheFile: string,
  env: Record<string, string | undefined>,
  deps: { fs: Pick<FileSystem, 'stat' | 'readBytes'>; clock: Pick<Clock, 'now'> },
): Promise<CacheKeyInfo> {
  const { osKeyring } = await import('../auth/keyring');
  const head = await deps.fs.readBytes(cacheFile).catch(() => null);
  const sealed = head !== null && isSealed(head);
  const found = await resolveCacheKey({ cacheKeyFile: config.cacheKeyFile, credentialsDirectory: env.CREDENTIALS_DIRECTORY, keyring: osKeyring, fs: deps.fs }, { create: false });
  if (found.kind === 'key') return { kind: found.key.source, where: found.key.where };
  if (found.kind === 'none') return { kind: 'none', advice: found.advice };
  // No keyring key yet and no sealed cache: the daemon makes one at its next start.
  if (found.source === 'keyring' && found.error.code === 'cache_key_missing' && !sealed) return { kind: 'keyring', where: 'OS keyring (the key is made at the daemon\'s next start)' };
  const e = found.error;
  return { kind: found.source, error: { code: e.code, message: e.message, advice: e.data.advice, retryable: e.data.retryable, at: deps.clock.now() } };
}

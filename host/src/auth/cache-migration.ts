// Sealing what an older version (or a quarantine) left in plain text, once a key is known:
// the plain cache itself, in place under the cache lock, and its corrupt copies moved aside.
// Guarantees: each file is replaced whole (temp file, fsync, rename), so a kill at any moment
// leaves the plain version or the sealed one, both readable with the key; nothing is dropped.
import type { FileSystem, Log } from '../deps';
import { withLock } from '../io/file-lock';
import { isSealed } from './cache-crypto';
import type { CacheProtector } from './cache-protector';
import { corruptCopies, isJsonObject, readSnapshot } from './token-store-files';

export interface Sealing {
  file: string;
  protector: CacheProtector;
  log: Log;
  fs: Pick<FileSystem, 'readdir' | 'readBytes' | 'writeFileAtomic'>;
}

/**
 * Seals a plain cache (or one sealed under the previous key: the keyring's before a key file was
 * set, say) with the key under the lock; true when it wrote (false: gone, done or corrupt).
 */
export function sealPlainFile(s: Sealing & { lockFile: string; lockTimeoutMs?: number }): Promise<boolean> {
  return withLock(
    s.lockFile,
    async () => {
      const snap = await readSnapshot(s.file);
      const reseal = snap !== null && s.protector.needsReseal(snap.bytes);
      if (!snap || (isSealed(snap.bytes) && !reseal)) return false;
      const decoded = s.protector.decode(snap.bytes);
      // Corrupt: the store's load moves it aside as before.
      if (decoded.kind !== 'text' || !isJsonObject(decoded.text)) return false;
      await s.fs.writeFileAtomic(s.file, s.protector.encode(decoded.text), 0o600);
      const done = reseal ? 'sealed the token cache again with the new key' : 'encrypted the plain token cache';
      s.log.info(done, { file: s.file, key: s.protector.describe().kind });
      return true;
    },
    { timeoutMs: s.lockTimeoutMs },
  );
}

/**
 * Corrupt copies moved aside (`<file>.corrupt-<time>`) may hold refresh tokens in plain text:
 * each is sealed as it is (its bytes kept, for a person to look at with the key).
 */
export async function sealCorruptCopies(s: Sealing): Promise<void> {
  for (const copy of await corruptCopies(s.fs, s.file)) {
    const bytes = await s.fs.readBytes(copy).catch(() => null);
    if (bytes === null || isSealed(bytes)) continue;
    await s.fs.writeFileAtomic(copy, s.protector.encode(bytes), 0o600);
    s.log.info('encrypted a corrupt token-cache copy', { file: copy });
  }
}

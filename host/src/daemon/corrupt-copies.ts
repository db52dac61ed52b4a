// What `logout` does with the token cache's corrupt copies (`token-cache.json.corrupt-<time>`,
// moved aside by the token store so a person can look at them). They may hold refresh tokens,
// so signing out must not leave them behind. Guarantees, for the accounts signed out:
// - a copy whose text names one of them (home account id or username) is removed whole, even
//   when it names other accounts too: the daemon never reads a copy back, the other accounts'
//   live tokens are in the cache itself, and keeping the copy would keep the signed-out grant;
// - once nobody is signed in any more, every copy is removed, including those that name no
//   account one can read (garbled, truncated before any name, encrypted): nothing is left to keep.
import path from 'node:path';
import { corruptCopies } from '../auth/token-store-files';
import type { FileSystem, Log } from '../deps';

export interface SignedOut {
  id: string;
  username: string;
}

/**
 * Removes the corrupt copies beside `cacheFile` that the rule above says; returns their names.
 * `readable` turns a copy's bytes into text to search (the token store opens a sealed copy).
 */
export async function removeCorruptCopies(
  cacheFile: string,
  signedOut: SignedOut[],
  nobodyLeft: boolean,
  deps: { fs: Pick<FileSystem, 'readdir' | 'readBytes' | 'rm'>; log: Log; readable?: (bytes: Buffer) => string },
): Promise<string[]> {
  const { fs, log } = deps;
  const readable = deps.readable ?? ((b: Buffer) => b.toString('latin1'));
  const needles = signedOut.flatMap((a) => [a.id, a.username]).filter((s) => s.length > 0).map((s) => s.toLowerCase());
  const removed: string[] = [];
  for (const file of await corruptCopies(fs, cacheFile)) {
    const bytes = await fs.readBytes(file).catch(() => null);
    const text = bytes === null ? '' : readable(bytes).toLowerCase();
    if (!nobodyLeft && !needles.some((n) => text.includes(n))) continue;
    await fs.rm(file);
    removed.push(path.basename(file));
  }
  if (removed.length) log.info('removed corrupt token-cache copies of the signed-out account', { files: removed });
  return removed;
}


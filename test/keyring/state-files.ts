// What the daemon left on disk: every regular file under its folder, searched for secrets.
import fs from 'node:fs/promises';
import path from 'node:path';

/** The first bytes of a sealed cache (host/src/auth/cache-crypto.ts). */
export const SEALED_MAGIC = 'EWSDCACH';

export function readCache(home: string): Promise<Buffer> {
  return fs.readFile(path.join(home, 'token-cache.json'));
}

/** Paths (relative to `dir`) of the regular files that contain any of `needles`. */
export async function filesHolding(dir: string, needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue; // sockets, folders
    const file = path.join(entry.parentPath, entry.name);
    const text = (await fs.readFile(file)).toString('latin1');
    if (needles.some((n) => n.length > 0 && text.includes(n))) found.push(path.relative(dir, file));
  }
  return found;
}

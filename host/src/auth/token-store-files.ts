// The token store's file helpers, pure or one read each: the signature that tells a changed
// file, a snapshot of bytes and signature of one version, the first bytes of a file, the
// entry keys of msal-node's serialized cache, and where corrupt copies are moved aside.
import path from 'node:path';
import type { ISerializableTokenCache } from '@azure/msal-node';
import type { FileSystem } from '../deps';
import { openIfExists } from '../io/atomic-file';

/** Where a corrupt cache is moved aside at `at` (ms): `<file>.corrupt-<UTC time>`, for a person to look at. */
export function corruptCopyPath(file: string, at: number): string {
  return `${file}.corrupt-${new Date(at).toISOString().replace(/[-:.]/g, '')}`;
}

/** The corrupt copies moved aside beside `file` (full paths); none when its folder is missing. */
export async function corruptCopies(fs: Pick<FileSystem, 'readdir'>, file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.corrupt-`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix)).map((n) => path.join(dir, n));
}

/** Enough of a file to read a sealed header (cache-crypto.ts: 30 bytes). */
const HEAD_BYTES = 64;

export interface Snapshot {
  bytes: Buffer;
  sig: string;
}

/** Bytes and signature of the same file version (fstat on the descriptor we read). */
export async function readSnapshot(file: string): Promise<Snapshot | null> {
  const fh = await openIfExists(file);
  if (!fh) return null;
  try {
    const st = await fh.stat();
    return { bytes: await fh.readFile(), sig: signatureOf(st) };
  } finally {
    await fh.close();
  }
}

/** The first bytes of the file (enough for a sealed header), or null when it does not exist. */
export async function readHead(file: string): Promise<Buffer | null> {
  const fh = await openIfExists(file);
  if (!fh) return null;
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export function signatureOf(st: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** The five sections of msal-node's serialized cache. */
const SECTIONS = ['Account', 'IdToken', 'AccessToken', 'RefreshToken', 'AppMetadata'] as const;

export function entryKeys(text: string): Set<string> {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const keys = new Set<string>();
  for (const section of SECTIONS) {
    const entries = parsed[section];
    if (typeof entries === 'object' && entries !== null) for (const key of Object.keys(entries)) keys.add(key);
  }
  return keys;
}

export function liveStoreOf(cache: ISerializableTokenCache): Record<string, unknown> | undefined {
  if (!('getKVStore' in cache) || typeof cache.getKVStore !== 'function') return undefined;
  const kv: unknown = cache.getKVStore();
  return typeof kv === 'object' && kv !== null ? (kv as Record<string, unknown>) : undefined;
}

export function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

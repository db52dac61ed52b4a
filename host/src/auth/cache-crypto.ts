// The token cache's sealed file format, pure (no I/O). A sealed file is AES-256-GCM (NIST SP
// 800-38D) under a random 256-bit key, with a fresh 96-bit nonce per write:
//
//   offset  size  field
//   0       8     magic "EWSDCACH"
//   8       1     format version (1)
//   9       1     where the key lives: 1 OS keyring, 2 key file, 3 systemd credential
//   10      8     key id: the first 8 bytes of SHA-256("ews-daemon cache key id\0" || key)
//   18      12    nonce
//   30      n     ciphertext of the cache JSON (UTF-8)
//   30+n    16    GCM tag
//
// Bytes 0-29 (the header) are the additional authenticated data: nobody can swap the key hint
// or the id without the tag failing. The key id tells a wrong key (ids differ) from a damaged
// file (ids equal, tag fails) without trying to decrypt; it is a one-way hash of the key and
// reveals nothing of it. A file that does not start with the magic is the plain JSON cache of
// older versions (it starts with "{").
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const MAGIC = Buffer.from('EWSDCACH', 'ascii');
export const FORMAT_VERSION = 1;
/** 256-bit key (AES-256). */
export const KEY_BYTES = 32;
/** 96-bit nonce: GCM's recommended size (SP 800-38D §5.2.1.1); random per write. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 8;
const HEADER_BYTES = MAGIC.length + 1 + 1 + KEY_ID_BYTES + NONCE_BYTES;

/** Where a key is kept, as the user would name it. */
export type KeySourceKind = 'keyring' | 'file' | 'systemd';
const SOURCE_BYTE: Record<KeySourceKind, number> = { keyring: 1, file: 2, systemd: 3 };

export interface CacheKey {
  key: Buffer;
  source: KeySourceKind;
  /** For people: "OS keyring", or the key file's / credential's path. */
  where: string;
}

export type Opened =
  | { kind: 'plain'; text: string }
  | { kind: 'sealed'; text: string }
  /** Sealed under another key than the one given, or no key was given. */
  | { kind: 'locked'; source: KeySourceKind | 'unknown'; keyId: string; haveKey: boolean }
  /** Sealed (the magic is there) but truncated, of an unknown version, or altered. */
  | { kind: 'damaged'; reason: string };

export function keyIdOf(key: Buffer): Buffer {
  return createHash('sha256').update('ews-daemon cache key id\0').update(key).digest().subarray(0, KEY_ID_BYTES);
}

export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && Buffer.from(bytes.subarray(0, MAGIC.length)).equals(MAGIC);
}

/** What a sealed file says of its key, without a key; null when the file is not sealed. */
export function sealedKeyHint(bytes: Uint8Array): { source: KeySourceKind | 'unknown'; keyId: string } | null {
  if (!isSealed(bytes) || bytes.length < HEADER_BYTES) return null;
  const b = Buffer.from(bytes);
  return { source: sourceOf(b[MAGIC.length + 1]!), keyId: b.subarray(10, 18).toString('hex') };
}

/** `text` is the cache JSON; raw bytes too (a corrupt copy is sealed as it is). */
export function seal(text: string | Uint8Array, key: CacheKey): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION, SOURCE_BYTE[key.source]]), keyIdOf(key.key), nonce]);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(typeof text === 'string' ? Buffer.from(text, 'utf8') : text), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** Reads either form. Never throws: a bad file is 'damaged', a key that does not fit 'locked'. */
export function openCache(bytes: Uint8Array, key: CacheKey | null): Opened {
  const b = Buffer.from(bytes);
  if (!isSealed(b)) return { kind: 'plain', text: b.toString('utf8') };
  if (b.length < HEADER_BYTES + TAG_BYTES) return { kind: 'damaged', reason: 'the file is cut short' };
  const version = b[MAGIC.length]!;
  if (version !== FORMAT_VERSION) return { kind: 'damaged', reason: `unknown format version ${version} (a newer ews-daemon wrote it?)` };
  const hint = sealedKeyHint(b)!;
  if (!key || !keyIdOf(key.key).equals(b.subarray(10, 18))) return { kind: 'locked', ...hint, haveKey: key !== null };
  const header = b.subarray(0, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key.key, b.subarray(18, HEADER_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(header);
  decipher.setAuthTag(b.subarray(b.length - TAG_BYTES));
  try {
    const text = Buffer.concat([decipher.update(b.subarray(HEADER_BYTES, b.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    return { kind: 'sealed', text };
  } catch {
    return { kind: 'damaged', reason: 'the authentication tag does not match (the file was altered or damaged)' };
  }
}

function sourceOf(byte: number): KeySourceKind | 'unknown' {
  const found = (Object.keys(SOURCE_BYTE) as KeySourceKind[]).find((k) => SOURCE_BYTE[k] === byte);
  return found ?? 'unknown';
}

/**
 * A key file's content: exactly 32 bytes, or those bytes written as 64 hex digits or as base64
 * (44 characters with padding), surrounding white space allowed. Anything else is refused:
 * a short or typed password would make a weak key. Returns an error sentence on refusal.
 */
export function parseKeyBytes(raw: Buffer): { key: Buffer } | { error: string } {
  if (raw.length === KEY_BYTES) return { key: Buffer.from(raw) };
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return { key: Buffer.from(text, 'hex') };
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return { key: Buffer.from(text, 'base64') };
  return { error: `holds ${raw.length} bytes; it must hold 32 random bytes, or them as 64 hex digits or base64 (make one with \`head -c 32 /dev/urandom > FILE\`)` };
}

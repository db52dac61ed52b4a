// The token store's encryption seam: which key seals the cache (cache-key.ts), what the file's
// bytes say (cache-crypto.ts), and what status/tokens report about it. Guarantees: bytes sealed
// under a key we do not hold are never decoded as empty and never written over (assertWritable),
// and a key is only made when no sealed file exists.
import { AppError } from '../../../shared/errors';
import type { CacheKeyInfo } from '../../../shared/protocol';
import { isSealed, openCache, sealedKeyHint, seal, keyIdOf, type CacheKey, type KeySourceKind } from './cache-crypto';
import { missingKey, type KeyResolution } from './cache-key';

export type ResolveKey = (opts: { create: boolean; only?: KeySourceKind }) => Promise<KeyResolution>;

/** What bytes on disk hold: text to load, or damage to move aside. Throws AppError when locked. */
export type Decoded = { kind: 'text'; text: string } | { kind: 'damaged'; reason: string };

/** The key id a sealed file names (hex), of a key we hold. */
function idOf(key: CacheKey): string {
  return keyIdOf(key.key).toString('hex');
}

const SOURCE_NAME: Record<KeySourceKind | 'unknown', string> = {
  keyring: 'OS keyring',
  file: '"cacheKeyFile"',
  systemd: 'systemd credential ews-daemon-cache-key',
  unknown: 'unknown key store',
};

export class CacheProtector {
  private key: CacheKey | null = null;
  /**
   * The key of another source that the sealed file was sealed with (the keyring's, before a
   * "cacheKeyFile" was set, say): read with it, written with `key`, so the cache moves over.
   */
  private previous: CacheKey | null = null;
  private info: CacheKeyInfo = { kind: 'none', advice: 'The daemon has not opened the token cache yet.' };
  /** Why the cache could not be read, until it can. */
  private failure: AppError | null = null;

  /** Without `resolve` the cache is plain (tests, and callers that never want a key). */
  constructor(
    private readonly resolve: ResolveKey | undefined,
    /** Stamps the error's `at` (ms since the epoch): the store's Clock. */
    private readonly now: () => number,
  ) {}

  /** For status and tokens: where the key is, or why there is none. */
  describe(): CacheKeyInfo {
    return this.info;
  }

  /** The key error that keeps the cache unread, or null. */
  error(): AppError | null {
    return this.failure;
  }

  get sealing(): boolean {
    return this.key !== null;
  }

  /** True when bytes on disk are sealed under the previous key: to be sealed again with `key`. */
  needsReseal(bytes: Uint8Array | null): boolean {
    const hint = bytes ? sealedKeyHint(bytes) : null;
    return hint !== null && this.previous !== null && hint.keyId === idOf(this.previous);
  }

  /** Finds the key for the file as it is now (null: no file). Throws AppError when it cannot. */
  async prepare(current: Uint8Array | null): Promise<void> {
    if (!this.resolve) {
      this.info = { kind: 'none', advice: 'This process keeps the token cache plain.' };
      return;
    }
    const sealed = current !== null && isSealed(current);
    const found = await this.resolve({ create: !sealed });
    if (found.kind === 'key') {
      this.key = found.key;
      this.info = { kind: found.key.source, where: found.key.where };
      this.failure = null;
      this.previous = sealed ? await this.previousKey(current, found.key) : null;
      return;
    }
    if (found.kind === 'none' && !sealed) {
      this.info = { kind: 'none', advice: `The token cache is stored unencrypted: ${found.why}. ${found.advice}` };
      return;
    }
    // No key, and a sealed file: say which store held its key.
    if (found.kind === 'none') throw this.fail(missingKey(SOURCE_NAME[sealedKeyHint(current!)?.source ?? 'unknown']), 'none');
    throw this.fail(found.error, found.source);
  }

  /** The key of the source the sealed file names, when it is not the one found first and it fits. */
  private async previousKey(current: Uint8Array, key: CacheKey): Promise<CacheKey | null> {
    const hint = sealedKeyHint(current);
    if (!hint || hint.source === 'unknown' || hint.source === key.source || !this.resolve) return null;
    if (hint.keyId === idOf(key)) return null;
    const other = await this.resolve({ create: false, only: hint.source }).catch(() => null);
    return other?.kind === 'key' && idOf(other.key) === hint.keyId ? other.key : null;
  }

  decode(bytes: Uint8Array): Decoded {
    const opened = openCache(bytes, this.keyFor(bytes));
    if (opened.kind === 'plain' || opened.kind === 'sealed') {
      if (this.failure) this.info = this.key ? { kind: this.key.source, where: this.key.where } : this.info;
      this.failure = null;
      return { kind: 'text', text: opened.text };
    }
    if (opened.kind === 'damaged') {
      if (opened.reason.startsWith('unknown format version')) throw new AppError('cache_key_wrong', `The token cache has ${opened.reason}.`, { advice: 'Update ews-daemon to the version that wrote it. The cache is kept as it is.', retryable: false });
      return opened;
    }
    throw this.fail(this.lockedError(opened.source), this.key?.source ?? 'none');
  }

  private fail(error: AppError, kind: CacheKeyInfo['kind']): AppError {
    this.failure = error;
    this.info = { kind, ...(this.key ? { where: this.key.where } : {}), error: { code: error.code, message: error.message, advice: error.data.advice, retryable: error.data.retryable, at: this.now() } };
    return error;
  }

  /** The key whose id the file names (the previous one while the cache moves over), else ours. */
  private keyFor(bytes: Uint8Array): CacheKey | null {
    return this.needsReseal(bytes) ? this.previous : this.key;
  }

  /** A copy's text for searching: opened when sealed under a key we hold, else its bytes as they are. Never throws. */
  peek(bytes: Uint8Array): string {
    const opened = openCache(bytes, this.keyFor(bytes));
    return opened.kind === 'plain' || opened.kind === 'sealed' ? opened.text : Buffer.from(bytes).toString('latin1');
  }

  encode(text: string | Buffer): string | Buffer {
    return this.key ? seal(text, this.key) : text;
  }

  /** Throws when the file on disk is sealed under a key we do not hold: it must not be replaced. */
  assertWritable(head: Uint8Array | null): void {
    if (head === null || !isSealed(head)) return;
    const hint = sealedKeyHint(head);
    if (hint && this.key && (hint.keyId === idOf(this.key) || this.needsReseal(head))) return;
    throw this.lockedError(hint?.source ?? 'unknown');
  }

  private lockedError(source: KeySourceKind | 'unknown'): AppError {
    if (!this.key) return missingKey(SOURCE_NAME[source]);
    const was = SOURCE_NAME[source];
    const now = this.key.source === 'keyring' ? 'the OS keyring' : this.key.where;
    return new AppError('cache_key_wrong', `The token cache is encrypted under another key than the one in ${now} (it was sealed with the key in the ${was}).`, {
      advice: 'Put the right key back (or remove "cacheKeyFile" if the cache was sealed in the keyring). The cache is kept as it is; to start over instead, move it away and sign in again.',
      retryable: false,
    });
  }
}

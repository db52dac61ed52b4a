// MSAL's cache plugin over one file, 0600 in a 0700 folder. A warm access costs one stat and no
// lock: the file is read and parsed again only when its signature (inode, size, mtime, ctime)
// moved since this process last read or wrote it. A change is written whole (temp file, fsync,
// rename) under the cross-process lock `<file>.lock`. A corrupt file is moved aside, not lost.
// With a key (cache-protector.ts) the file is sealed with AES-256-GCM; a plain file found at
// open is sealed in place under the lock (no new sign-in), and a file sealed under a key this
// process lacks is neither loaded as empty, nor moved aside, nor written over: every access then
// fails with the key's error (keyring_locked, cache_key_missing, cache_key_wrong) and its fix.
//
// Policy when another process wrote the file between our read and our write: last writer wins
// for the whole cache. One daemon per user owns the cache (the daemon lock), so another writer
// is rare, and MSAL only writes after it changed something; merging two views of a refresh-token
// rotation could not pick a winner better than that anyway.
import path from 'node:path';
import type { ICachePlugin, ISerializableTokenCache, TokenCacheContext } from '@azure/msal-node';
import type { Clock, FileSystem, Log } from '../deps';
import type { AppError } from '../../../shared/errors';
import type { CacheKeyInfo } from '../../../shared/protocol';
import { ensurePrivateDir, errCode, removeStaleTempFiles } from '../io/atomic-file';
import { systemClock } from '../io/clock';
import { nodeFileSystem } from '../io/node-fs';
import { removeOrphanBreakMarkers, withLock } from '../io/file-lock';
import { isSealed } from './cache-crypto';
import { CacheProtector, type ResolveKey } from './cache-protector';
import { sealCorruptCopies, sealPlainFile } from './cache-migration';
import { corruptCopyPath, entryKeys, isJsonObject, liveStoreOf, readHead, readSnapshot, signatureOf, type Snapshot } from './token-store-files';

export interface TokenStoreDeps {
  /** The cache file (Paths.cacheFile); its folder is created 0700. */
  file: string;
  log: Log;
  /** How long a write waits for another process's lock before giving up (default 10 s). */
  lockTimeoutMs?: number;
  /** Names the moved-aside corrupt file and spaces write retries (default: the system clock). */
  clock?: Clock;
  /** Stats, tightens and moves the cache file (default: the real file system). */
  fs?: FileSystem;
  /** Finds the key that seals the file (cache-key.ts); without it the file stays plain JSON. */
  resolveKey?: ResolveKey;
}

/** Counters for tests and benchmarks: file reads, MSAL deserializations, file writes. */
export interface TokenStoreStats {
  reads: number;
  parses: number;
  writes: number;
}

/** The signature of a missing file. */
const ABSENT = 'absent';
/** After a failed write, accesses try again no sooner than this (a full disk should not slow every token). */
const RETRY_WRITE_AFTER_MS = 5_000;
/** Re-reads tried when a file judged corrupt was replaced while we waited for the lock. */
const MAX_LOAD_ATTEMPTS = 3;
const IS_WINDOWS = process.platform === 'win32';

export class TokenStore implements ICachePlugin {
  readonly stats: TokenStoreStats = { reads: 0, parses: 0, writes: 0 };
  /** For each MSAL cache: the signature of the file content it holds. */
  private readonly loaded = new WeakMap<ISerializableTokenCache, string>();
  /** For each MSAL cache: the entry keys of that content (what memory holds from files). */
  private readonly keys = new WeakMap<ISerializableTokenCache, Set<string>>();
  /** Caches whose last write failed: written again on their next access or on flush(). */
  private readonly unsaved = new Set<ISerializableTokenCache>();
  /** Writes run one at a time, each serializing the newest in-memory state. */
  private queue: Promise<void> = Promise.resolve();
  private pendingWrites = 0;
  /** When an access may next retry a failed write (flush always does). */
  private retryWriteAt = 0;
  /** True while a background retry of failed writes waits (scheduleRetry). */
  private retryPending = false;
  private opening: Promise<void> | undefined;
  /** True once open() succeeded: before that nothing is written (the key may be unknown). */
  private opened = false;
  private readonly lockFile: string;
  private readonly clock: Clock;
  private readonly fs: FileSystem;
  private readonly protector: CacheProtector;

  constructor(private readonly deps: TokenStoreDeps) {
    this.lockFile = `${deps.file}.lock`;
    this.clock = deps.clock ?? systemClock;
    this.fs = deps.fs ?? nodeFileSystem;
    this.protector = new CacheProtector(deps.resolveKey, () => this.clock.now());
  }

  /** Where the key is (or why there is none, or why it could not be had). */
  keyInfo(): CacheKeyInfo {
    return this.protector.describe();
  }

  /** A corrupt copy's text, opened with the key when sealed (logout searches it for the account). */
  readableCopy(bytes: Buffer): string {
    return this.protector.peek(bytes);
  }

  /** The error that keeps the cache unread (its key locked, missing or wrong), or null. */
  keyError(): AppError | null {
    return this.protector.error();
  }

  async beforeCacheAccess(ctx: TokenCacheContext): Promise<void> {
    const cache = ctx.tokenCache;
    // Our in-memory view is newer than the file while a write of it is queued or failed:
    // reloading now would drop tokens MSAL just stored.
    if (this.pendingWrites > 0 || this.unsaved.has(cache)) return;
    await this.ensureOpen();
    if (this.loaded.get(cache) === this.signature()) return;
    await this.load(cache);
  }

  async afterCacheAccess(ctx: TokenCacheContext): Promise<void> {
    const cache = ctx.tokenCache;
    // msal-node calls this from a `finally` even when beforeCacheAccess threw (a locked keyring):
    // then what it holds must not reach the file, which may be sealed under a key we lack.
    if (!this.opened) return;
    const retry = this.unsaved.has(cache) && this.clock.now() >= this.retryWriteAt;
    if (!ctx.cacheHasChanged && !retry) return;
    // msal-node's acquireTokenSilent rebuilds its memory from the text last passed to
    // deserialize() (TokenCache.overwriteCache), whatever the plugin does: bring that snapshot
    // up to date now, or the next silent call would forget what MSAL just stored.
    if (ctx.cacheHasChanged) cache.deserialize(cache.serialize());
    await this.enqueueWrite(cache);
  }

  /** Resolves when every write in progress (and a retry of any failed one) is done. */
  async flush(): Promise<void> {
    const retries = [...this.unsaved].map((cache) => this.enqueueWrite(cache));
    await Promise.all(retries);
    let seen: Promise<void>;
    do {
      seen = this.queue;
      await seen;
    } while (seen !== this.queue);
  }

  /** The cache JSON on disk, for the token viewer; null when absent, empty or corrupt. Never log it. */
  async readRaw(): Promise<string | null> {
    await this.ensureOpen();
    const snap = await this.readSnapshot();
    if (!snap) return null;
    const decoded = this.protector.decode(snap.bytes);
    return decoded.kind === 'text' && isJsonObject(decoded.text) ? decoded.text : null;
  }

  /** Opens once; a failed open (a locked keyring, say) is tried again on the next access. */
  private ensureOpen(): Promise<void> {
    return (this.opening ??= this.open().catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    }));
  }

  private async open(): Promise<void> {
    const dir = path.dirname(this.deps.file);
    await ensurePrivateDir(dir);
    const removed = [...(await removeStaleTempFiles(dir)), ...(await removeOrphanBreakMarkers(this.lockFile))];
    if (removed.length > 0) this.deps.log.info('removed temp files left by a crashed writer', { dir, count: removed.length });
    await this.tightenMode();
    const current = await readHead(this.deps.file);
    await this.protector.prepare(current);
    if (this.protector.sealing) {
      const sealing = { file: this.deps.file, lockFile: this.lockFile, lockTimeoutMs: this.deps.lockTimeoutMs, protector: this.protector, log: this.deps.log, fs: this.fs };
      const moveOver = current !== null && (!isSealed(current) || this.protector.needsReseal(current));
      if (moveOver && (await sealPlainFile(sealing))) this.stats.writes++;
      await sealCorruptCopies(sealing);
    }
    this.opened = true;
  }

  private async tightenMode(): Promise<void> {
    if (IS_WINDOWS) return;
    const st = await this.fs.stat(this.deps.file).catch(() => null);
    if (!st || (st.mode & 0o077) === 0) return;
    await this.fs.chmod(this.deps.file, 0o600);
    this.deps.log.warn('the token cache file was readable by other users; made it 0600 (anyone who read it may hold your tokens: sign out and in again if in doubt)', {
      file: this.deps.file,
      mode: (st.mode & 0o777).toString(8),
    });
  }

  private async load(cache: ISerializableTokenCache, attempt = 1): Promise<void> {
    const snap = await this.readSnapshot();
    // Sealed under a key we lack: throws, and the file stays as it is. The next access finds
    // the key again (the right key file may be back, the keyring unlocked).
    const decoded = snap ? this.decodeOrReopen(snap.bytes) : null;
    const text = decoded?.kind === 'text' ? decoded.text : null;
    if (!snap || text?.trim() === '') {
      this.replace(cache, '{}', snap?.sig ?? ABSENT); // no file, or an empty one: an empty cache
      return;
    }
    if (text !== null && isJsonObject(text) && this.tryReplace(cache, text, snap.sig)) return;
    const held = this.keys.get(cache)?.size ?? 0;
    const movedAside = await this.quarantine(snap.sig, held);
    if (!movedAside && attempt < MAX_LOAD_ATTEMPTS) return this.load(cache, attempt + 1);
    this.loaded.set(cache, ABSENT);
    // What this process holds is good: keep it and write it back (after this access, or on flush).
    if (held > 0) this.unsaved.add(cache);
  }

  /**
   * Makes MSAL's cache hold exactly the file's entries. deserialize() only merges into memory, so
   * entries the file no longer has (another process removed them, or the file itself) are
   * dropped from msal-node's live key-value store (TokenCache.getKVStore, msal-node 7).
   * Throws when MSAL cannot read the text, leaving memory as it was.
   */
  private decodeOrReopen(bytes: Buffer): ReturnType<CacheProtector['decode']> {
    try {
      return this.protector.decode(bytes);
    } catch (err) {
      this.opening = undefined;
      this.opened = false;
      throw err;
    }
  }

  private replace(cache: ISerializableTokenCache, text: string, sig: string): void {
    cache.deserialize(text);
    this.stats.parses++;
    const now = entryKeys(text);
    const kv = liveStoreOf(cache);
    for (const key of this.keys.get(cache) ?? []) if (kv && !now.has(key)) delete kv[key];
    this.keys.set(cache, now);
    this.loaded.set(cache, sig);
  }

  private tryReplace(cache: ISerializableTokenCache, text: string, sig: string): boolean {
    try {
      this.replace(cache, text, sig);
      return true;
    } catch {
      return false; // valid JSON in a shape MSAL cannot read: as corrupt as garbage
    }
  }

  /** Moves a corrupt file aside (0600) under the lock; false when it was replaced meanwhile. */
  private async quarantine(badSig: string, heldEntries: number): Promise<boolean> {
    const { file, log } = this.deps;
    return withLock(
      this.lockFile,
      async () => {
        if (this.signature() !== badSig) return false;
        const aside = corruptCopyPath(file, this.clock.now());
        await this.fs.rename(file, aside);
        if (!IS_WINDOWS) await this.fs.chmod(aside, 0o600);
        if (this.protector.sealing) await sealCorruptCopies({ file, protector: this.protector, log, fs: this.fs });
        const outcome =
          heldEntries > 0
            ? 'this process still holds the accounts and writes them back'
            : 'started with an empty cache: sign in again (`ews-daemon consent`)';
        log.warn(`the token cache file was corrupt; moved it aside and ${outcome}`, { file, movedTo: aside });
        return true;
      },
      { timeoutMs: this.deps.lockTimeoutMs },
    );
  }

  private enqueueWrite(cache: ISerializableTokenCache): Promise<void> {
    this.pendingWrites++;
    const job = this.queue.then(() => this.save(cache)).finally(() => this.pendingWrites--);
    this.queue = job;
    return job;
  }

  /** Never rejects: a failed write is logged and kept for a retry; the tokens stay in memory. */
  private async save(cache: ISerializableTokenCache): Promise<void> {
    try {
      await withLock(this.lockFile, () => this.writeLocked(cache), { timeoutMs: this.deps.lockTimeoutMs });
      this.unsaved.delete(cache);
    } catch (err) {
      this.unsaved.add(cache);
      this.retryWriteAt = this.clock.now() + RETRY_WRITE_AFTER_MS;
      this.scheduleRetry();
      this.deps.log.error('could not write the token cache; the tokens stay in memory and the write is retried', {
        file: this.deps.file,
        errorCode: errCode(err) || undefined,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /**
   * A failed write (a full disk) is also retried on its own, every RETRY_WRITE_AFTER_MS until it
   * succeeds: the cache reaches the disk once space returns even if nothing asks for a token.
   * The wait is unref'd: it never keeps a stopping daemon alive.
   */
  private scheduleRetry(): void {
    if (this.retryPending) return;
    this.retryPending = true;
    void this.clock.sleep(RETRY_WRITE_AFTER_MS, undefined, { unref: true }).then(() => {
      this.retryPending = false;
      for (const cache of this.unsaved) void this.enqueueWrite(cache);
    });
  }

  private async writeLocked(cache: ISerializableTokenCache): Promise<void> {
    const known = this.loaded.get(cache);
    if (known !== undefined && known !== this.signature()) {
      this.deps.log.info('another process changed the token cache since we read it; our copy replaces it (last writer wins)', { file: this.deps.file });
    }
    const text = cache.serialize();
    this.protector.assertWritable(await readHead(this.deps.file));
    await this.fs.writeFileAtomic(this.deps.file, this.protector.encode(text), 0o600);
    this.stats.writes++;
    this.loaded.set(cache, this.signature());
    this.keys.set(cache, entryKeys(text));
  }

  /**
   * A change of inode, size or times means someone replaced or rewrote the file. Synchronous on
   * purpose (FileSystem.statSync): a local stat takes ~3 µs, the thread-pool round trip of the
   * promise form ~40 µs, and this runs on every token request.
   */
  private signature(): string {
    const st = this.fs.statSync(this.deps.file);
    return st ? signatureOf(st) : ABSENT;
  }

  /** Bytes and signature of the same file version; null when there is no file. */
  private async readSnapshot(): Promise<Snapshot | null> {
    const snap = await readSnapshot(this.deps.file);
    if (snap) this.stats.reads++;
    return snap;
  }

}

// Where the token cache's key comes from, first match wins:
//   1. `cacheKeyFile` in config.json (an explicit choice beats a found one);
//   2. the systemd credential `$CREDENTIALS_DIRECTORY/ews-daemon-cache-key` (LoadCredential= or
//      LoadCredentialEncrypted= in the unit; systemd.exec(5) "Credentials");
//   3. the OS keyring, entry `token-cache-key` of service `ews-daemon` (made on first use);
//   4. none: the cache stays plain JSON (0600), and status/doctor say so with the fix.
// Guarantees: a key is never made while a sealed cache exists (that would orphan it); a locked
// keyring or an unusable key file is an error, never a silent fall back to a plain cache.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../../shared/errors';
import type { FileSystem } from '../deps';
import { errCode } from '../io/atomic-file';
import { KEY_BYTES, parseKeyBytes, type CacheKey, type KeySourceKind } from './cache-crypto';
import { CACHE_KEY_ENTRY, KeyringError, type Keyring } from './keyring';

/** The systemd credential's name (`LoadCredential=ews-daemon-cache-key:/path`). */
export const SYSTEMD_CREDENTIAL = 'ews-daemon-cache-key';

export type KeyResolution =
  | { kind: 'key'; key: CacheKey }
  /** No key anywhere: the cache stays plain. `why` names what was tried, `advice` the fix. */
  | { kind: 'none'; why: string; advice: string }
  | { kind: 'error'; source: KeySourceKind; error: AppError };

export interface CacheKeySources {
  /** Absolute path from config's `cacheKeyFile`, or null. */
  cacheKeyFile: string | null;
  /** $CREDENTIALS_DIRECTORY, set by systemd for a unit with credentials. */
  credentialsDirectory: string | undefined;
  /** Loaded lazily by the default (keyring.ts). */
  keyring: Keyring;
  /** Reads the key files. */
  fs: Pick<FileSystem, 'stat' | 'readBytes'>;
}

export const PLAIN_ADVICE =
  'Encrypt it: run the daemon in a desktop session with a keyring (Secret Service, Keychain, Credential Manager), ' +
  'or set "cacheKeyFile" in config.json to a 0600 file of 32 random bytes (`head -c 32 /dev/urandom > FILE; chmod 600 FILE`), ' +
  'or give a systemd unit `LoadCredentialEncrypted=ews-daemon-cache-key:…` (README, Files).';

/**
 * `create`: make a keyring key when there is none (false while a sealed cache exists).
 * `only`: ask that one source (the one a sealed cache names, to re-seal it under the new key).
 */
export async function resolveCacheKey(src: CacheKeySources, opts: { create: boolean; only?: KeySourceKind }): Promise<KeyResolution> {
  if (opts.only) return resolveOnly(src, opts.only);
  if (src.cacheKeyFile !== null) return readKeyFile(src.fs, src.cacheKeyFile, 'file', true);
  if (src.credentialsDirectory) {
    const cred = path.join(src.credentialsDirectory, SYSTEMD_CREDENTIAL);
    // systemd makes the credentials folder readable by the unit's user only: no mode check.
    if (await src.fs.stat(cred).then((st) => st !== null, () => false)) return readKeyFile(src.fs, cred, 'systemd', false);
  }
  return fromKeyring(src.keyring, opts.create);
}

async function resolveOnly(src: CacheKeySources, only: KeySourceKind): Promise<KeyResolution> {
  const none: KeyResolution = { kind: 'none', why: `no ${only} key`, advice: PLAIN_ADVICE };
  if (only === 'keyring') return fromKeyring(src.keyring, false);
  if (only === 'file') return src.cacheKeyFile === null ? none : readKeyFile(src.fs, src.cacheKeyFile, 'file', true);
  const cred = src.credentialsDirectory ? path.join(src.credentialsDirectory, SYSTEMD_CREDENTIAL) : null;
  return cred === null ? none : readKeyFile(src.fs, cred, 'systemd', false);
}

async function fromKeyring(keyring: Keyring, create: boolean): Promise<KeyResolution> {
  const where = 'OS keyring';
  try {
    const stored = await keyring.get(CACHE_KEY_ENTRY);
    if (stored !== null) {
      const parsed = parseKeyBytes(Buffer.from(stored, 'utf8'));
      if ('key' in parsed) return { kind: 'key', key: { key: parsed.key, source: 'keyring', where } };
      return { kind: 'error', source: 'keyring', error: keyErr('cache_key_wrong', `The keyring entry ews-daemon/${CACHE_KEY_ENTRY} is not a cache key.`, 'Something else wrote that entry: restore it, or delete the entry and the cache and sign in again.') };
    }
    if (!create) return { kind: 'error', source: 'keyring', error: missingKey(where) };
    return await makeKeyringKey(keyring);
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    if (err.reason === 'locked') {
      return {
        kind: 'error',
        source: 'keyring',
        error: keyErr('keyring_locked', `The OS keyring is locked (${err.message}).`, 'Unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock`), then retry; or set "cacheKeyFile" in config.json.'),
      };
    }
    return { kind: 'none', why: `no OS keyring answered (${err.message}), no "cacheKeyFile" in config.json, no systemd credential`, advice: PLAIN_ADVICE };
  }
}

/** A keyring that answered a read but will not store (locked, or no default collection) is locked to us. */
async function makeKeyringKey(keyring: Keyring): Promise<KeyResolution> {
  const key = randomBytes(KEY_BYTES);
  try {
    await keyring.set(CACHE_KEY_ENTRY, key.toString('base64'));
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    throw new KeyringError('locked', `it answered but would not store the key: ${err.message}`);
  }
  return { kind: 'key', key: { key, source: 'keyring', where: 'OS keyring' } };
}

async function readKeyFile(fs: CacheKeySources['fs'], file: string, source: 'file' | 'systemd', checkMode: boolean): Promise<KeyResolution> {
  const what = source === 'file' ? `"cacheKeyFile" ${file}` : `the systemd credential ${file}`;
  const fail = (problem: string, advice: string): KeyResolution => ({ kind: 'error', source, error: keyErr(source === 'file' ? 'config_invalid' : 'cache_key_missing', `${what}: ${problem}.`, advice) });
  const st = await fs.stat(file).catch((err: unknown) => errCode(err) || String(err));
  if (st === null || typeof st === 'string') {
    return fail(st === null ? 'no such file' : `cannot be read (${st})`, `Make it: \`head -c 32 /dev/urandom > ${file}; chmod 600 ${file}\`, or fix the path.`);
  }
  const uid = process.getuid?.();
  if (checkMode && process.platform !== 'win32') {
    if ((st.mode & 0o077) !== 0) return fail(`others may read it (mode ${(st.mode & 0o777).toString(8)})`, `Run \`chmod 600 ${file}\`.`);
    if (uid !== undefined && st.uid !== uid) return fail(`it belongs to another user (uid ${st.uid})`, `Run \`chown ${uid} ${file}\` or use a key file of your own.`);
  }
  const parsed = parseKeyBytes(await fs.readBytes(file));
  if ('error' in parsed) return fail(parsed.error, 'Write a new key only if no cache was sealed with the old one (else restore the old key).');
  return { kind: 'key', key: { key: parsed.key, source, where: file } };
}

export function missingKey(where: string): AppError {
  return keyErr(
    'cache_key_missing',
    `The token cache is encrypted, but its key is not in the ${where}.`,
    'Restore the key (the keyring entry ews-daemon/token-cache-key, the "cacheKeyFile", or the systemd credential), or start the daemon where that keyring is reachable. The cache is kept as it is; to start over instead, move it away and sign in again.',
  );
}

function keyErr(code: 'cache_key_missing' | 'cache_key_wrong' | 'keyring_locked' | 'config_invalid', message: string, advice: string): AppError {
  return new AppError(code, message, { advice, retryable: code === 'keyring_locked' });
}

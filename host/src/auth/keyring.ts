// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
// through @napi-rs/keyring, loaded only when first used: the native-host relay never imports
// this module, and the daemon's start does not pay for the native module unless it needs it.
// Guarantees: every call ends (an answer, or a KeyringError after KEYRING_TIMEOUT_MS), and a
// failure says whether no keyring answered at all ('unavailable': e.g. no D-Bus session on a
// headless server) or one answered but would not open ('locked').
import type { AsyncEntry as AsyncEntryType, EntryOptions } from '@napi-rs/keyring';

/** The service name our entries are filed under (Secret Service attribute `service`). */
export const KEYRING_SERVICE = 'ews-daemon';
/** The entry that holds the token cache's key (base64 of 32 bytes). */
export const CACHE_KEY_ENTRY = 'token-cache-key';
/** The entry that holds the client secret of one app registration. */
export function clientSecretEntry(clientId: string): string {
  return `client-secret:${clientId}`;
}
/**
 * A call waits this long at most. A locked desktop keyring shows an unlock prompt and the call
 * waits for the person to answer it; a headless one fails at once.
 */
export const KEYRING_TIMEOUT_MS = 60_000;

export type KeyringFailure = 'unavailable' | 'locked';

export class KeyringError extends Error {
  constructor(
    readonly reason: KeyringFailure,
    detail: string,
  ) {
    super(detail);
    this.name = 'KeyringError';
  }
}

/** The operations the daemon and the CLI need; tests may pass their own. */
export interface Keyring {
  get(entry: string): Promise<string | null>;
  set(entry: string, value: string): Promise<void>;
  /** True when there was an entry to delete. */
  delete(entry: string): Promise<boolean>;
}

type EntryCtor = new (service: string, user: string, options?: EntryOptions) => AsyncEntryType;
/**
 * On Linux, @napi-rs/keyring falls back silently to the kernel's keyutils store when no Secret
 * Service answers; that store "will not persist across reboots" (its README), so a cache key kept
 * there would be lost at the next boot with the cache it opens. Require the Secret Service.
 */
const ENTRY_OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };
let loading: Promise<EntryCtor> | undefined;

async function entryClass(): Promise<EntryCtor> {
  loading ??= import('@napi-rs/keyring').then((m) => m.AsyncEntry).catch((err: unknown) => {
    loading = undefined;
    throw new KeyringError('unavailable', `the keyring module could not load (${err instanceof Error ? err.message : String(err)})`);
  });
  return loading;
}

async function call<T>(entry: string, op: (e: AsyncEntryType, signal: AbortSignal) => Promise<T>): Promise<T> {
  const Entry = await entryClass();
  const signal = AbortSignal.timeout(KEYRING_TIMEOUT_MS);
  try {
    return await op(new Entry(KEYRING_SERVICE, entry, ENTRY_OPTIONS), signal);
  } catch (err) {
    throw classifyKeyringError(err, signal.aborted);
  }
}

/** The system's keyring. */
export const osKeyring: Keyring = {
  get: (entry) => call(entry, (e, signal) => e.getPassword(signal)),
  set: (entry, value) => call(entry, (e, signal) => e.setPassword(value, signal)),
  delete: (entry) => call(entry, (e, signal) => e.deletePassword(signal)),
};

/**
 * The keyring crate's errors reach JavaScript as text only ("Couldn't access platform storage:
 * …", "Platform secure storage failure: …"); a locked Secret Service collection whose unlock
 * prompt could not be shown or was declined says "prompt was dismissed" (docs.rs/keyring,
 * secret-service's Error::Locked / prompt handling).
 */
export function classifyKeyringError(err: unknown, timedOut: boolean): KeyringError {
  const text = err instanceof Error ? err.message : String(err);
  if (timedOut) return new KeyringError('locked', `the keyring did not answer within ${KEYRING_TIMEOUT_MS / 1000} s (an unlock prompt left open?)`);
  if (/dismissed|locked|unlock/i.test(text)) return new KeyringError('locked', text);
  return new KeyringError('unavailable', text);
}

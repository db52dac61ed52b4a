// The client secret kept in the OS keyring (`ews-daemon secret set`), entry
// `client-secret:<clientId>` of service `ews-daemon`. The config uses it only when it says
// "clientSecretFrom": "keyring" (explicit: a config with no credential may mean a public client).
// Guarantees: the secret never appears in an error or a log; a locked or absent keyring is a
// sentence the config loader reports with its fix.
import { clientSecretEntry, KeyringError, osKeyring, type Keyring } from './keyring';

export async function readKeyringSecret(clientId: string, keyring: Keyring = osKeyring): Promise<{ secret: string | null } | { problem: string }> {
  try {
    const secret = await keyring.get(clientSecretEntry(clientId));
    return { secret: secret === null || secret.trim() === '' ? null : secret.trim() };
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    return err.reason === 'locked'
      ? { problem: `the OS keyring is locked (${err.message}); unlock it (log in to the desktop session) and retry` }
      : { problem: `no OS keyring answered (${err.message}); run the daemon in a session with a keyring, or use "clientSecretFile"` };
  }
}

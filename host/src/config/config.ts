// The daemon's configuration once loaded and checked (the file's format is in the README and
// DESIGN.md). Loading lives in load-config.ts; this file holds the resolved shape and defaults.
import type { BackendSetting } from '../../../shared/protocol';

export type Credential =
  | { kind: 'secret'; secret: string; /** where it came from: 'config', 'keyring' or the secret file's path */ source: string }
  | {
      kind: 'certificate';
      privateKeyPem: string;
      certificatePem: string;
      /** SHA-256 of the certificate's DER, hex upper-case, as MSAL's thumbprintSha256 wants. */
      thumbprintSha256: string;
      /** The certificate chain, base64 DER, for the x5c header. */
      x5c: string;
      notBefore: number;
      notAfter: number;
      privateKeyPath: string;
      certificatePath: string;
    };

export interface Config {
  /** The file it came from. */
  file: string;
  clientId: string;
  /** An https URL ending in the tenant (no trailing slash), e.g. https://login.microsoftonline.com/contoso.com */
  authority: string;
  /** The authority's host[:port]; set when it is not a Microsoft cloud host, so MSAL trusts it as known. */
  knownAuthorityHost: string | null;
  credential: Credential;
  redirectUri: string;
  ewsUrl: string;
  /** One resource's scope(s): EWS's delegated scope. */
  ewsScope: string;
  graphUrl: string;
  graphScope: string;
  backend: BackendSetting;
  /** Extension ids allowed over native messaging beside the project's own. */
  extensionIds: string[];
  /** While the extension listens, how often the daemon re-counts each inbox (seconds). */
  pollIntervalSeconds: number;
  /** Absolute path of the token cache's key file (32 bytes, 0600), or null: keyring, systemd, plain (auth/cache-key.ts). */
  cacheKeyFile: string | null;
}

export const DEFAULTS = {
  authorityHost: 'https://login.microsoftonline.com',
  redirectUri: 'http://localhost:53100/callback',
  ewsUrl: 'https://outlook.office365.com/EWS/Exchange.asmx',
  ewsScope: 'https://outlook.office365.com/EWS.AccessAsUser.All',
  graphUrl: 'https://graph.microsoft.com/v1.0',
  graphScope: 'https://graph.microsoft.com/Mail.ReadBasic',
  backend: 'auto' as BackendSetting,
  pollIntervalSeconds: 60,
} as const;

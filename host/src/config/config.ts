// The daemon's configuration once loaded and checked (the file's format is in the README,
// "Configuration"). Loading lives in load-config.ts; this file holds the resolved shape and defaults.
import type { BackendSetting } from '../../../shared/protocol';

/**
 * How the app proves itself to Entra ID. `none`: a public client (no secret, no certificate),
 * registered under "Mobile and desktop applications"; the sign-in is protected by PKCE alone.
 */
export type Credential =
  | { kind: 'none' }
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
  /** false: no EWS streaming notifications; counts are polled. */
  realtime: boolean;
  /** Run (no shell) when an account needs sign-in, is signed in again, or finds EWS turned off. */
  notifyCommand: string[] | null;
}

/** A confidential client proves itself with a secret or a certificate; a public client cannot. */
export type ClientKind = 'public' | 'confidential';
export function clientKind(credential: Credential): ClientKind {
  return credential.kind === 'none' ? 'public' : 'confidential';
}

export const DEFAULTS = {
  authorityHost: 'https://login.microsoftonline.com',
  redirectUri: 'http://localhost:53100/callback',
  /**
   * A public client's: the "Mobile and desktop applications" platform registers http://localhost,
   * and Entra ignores the port of a localhost Reply URL but not its path (the path is "/").
   */
  publicRedirectUri: 'http://localhost:53100',
  ewsUrl: 'https://outlook.office365.com/EWS/Exchange.asmx',
  ewsScope: 'https://outlook.office365.com/EWS.AccessAsUser.All',
  graphUrl: 'https://graph.microsoft.com/v1.0',
  graphScope: 'https://graph.microsoft.com/Mail.ReadBasic',
  backend: 'auto' as BackendSetting,
  pollIntervalSeconds: 60,
  realtime: true,
} as const;

// What the daemon needs of a token provider: an access token for an account and a resource,
// acquired silently. MSAL stands behind it in the product (msal-client.ts), a fake in tests;
// the refresher and the mailbox backends consume it. Types only.
import type { Backend } from '../../../shared/protocol';

export interface AcquiredToken {
  accessToken: string;
  /** ms since the epoch */
  expiresOn: number;
  scopes: string[];
  /** false: the refresh token was used (and Entra issued a new one). */
  fromCache: boolean;
}

/** Silent acquisition (MSAL's acquireTokenSilent behind it). Throws AppError, already classified. */
export interface TokenSource {
  acquire(accountId: string, resource: Backend, opts: { forceRefresh: boolean; signal?: AbortSignal }): Promise<AcquiredToken>;
}

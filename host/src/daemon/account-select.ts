// Which signed-in account a call means: the one named by username (any case) or id, or the only
// one when none is named. Every miss is an AppError that lists who is signed in. Pure.
import { AppError } from '../../../shared/errors';

export interface Account {
  /** MSAL's homeAccountId (uid.utid). */
  id: string;
  username: string;
  name?: string;
  tenantId: string;
}

/**
 * `unreadable` is the token cache's key error when the cache could not be read: with nobody
 * known for that reason, the caller hears why, not "nobody is signed in".
 */
export function selectAccount(all: readonly Account[], selector: string | undefined, unreadable: AppError | null): Account {
  if (all.length === 0 && unreadable) throw unreadable;
  if (all.length === 0) throw new AppError('no_account', 'Nobody is signed in.', { advice: 'Sign in from the extension popup or with `ews-daemon consent`.', retryable: false });
  if (selector === undefined) {
    if (all.length === 1) return all[0]!;
    throw new AppError('invalid_params', `${all.length} accounts are signed in; say which one.`, { advice: `Name one with --account: ${names(all)}.`, retryable: false });
  }
  const wanted = selector.toLowerCase();
  const found = all.find((a) => a.id === selector || a.username.toLowerCase() === wanted);
  if (!found) throw new AppError('no_account', `No signed-in account is named ${selector}.`, { advice: `Signed in: ${names(all)}.`, retryable: false });
  return found;
}

function names(all: readonly Account[]): string {
  return all.map((a) => a.username).join(', ');
}

// One account as `status` shows it, put together from the parts that keep it: the refresher
// (grant state, tokens, renewals), the inbox service (backend, last count), realtime (how counts
// arrive) and the last failed count. Pure.
//
// `lastError` is the error a person should read: while the grant is failing (retrying, needs
// consent) the state's own error, whatever else failed since; otherwise the newer of the last
// failed renewal (kept after it recovered) and the last count, if it failed. Clients show this one field.
import type { AccountStatus, BackendStatus, ErrorInfo, InboxCount, RealtimeStatus } from '../../../shared/protocol';
import type { Account } from './account-select';
import type { RefreshStatus } from './refresher';
import { newest } from './token-slot';

export interface AccountParts {
  refresh: RefreshStatus;
  /** The last inbox count that failed, until one succeeds. */
  inboxError: ErrorInfo | null;
  backend: BackendStatus;
  inbox: InboxCount | null;
  realtime: RealtimeStatus;
}

export function accountStatus(a: Account, p: AccountParts): AccountStatus {
  const { state } = p.refresh;
  const lastError = state.kind === 'retrying' || state.kind === 'needs-consent' ? state.error : newest([p.refresh.lastError, p.inboxError]);
  return {
    id: a.id,
    username: a.username,
    ...(a.name ? { name: a.name } : {}),
    tenantId: a.tenantId,
    state,
    accessTokens: p.refresh.accessTokens,
    lastRefreshAt: p.refresh.lastRefreshAt,
    nextRefreshAt: p.refresh.nextRefreshAt,
    lastError,
    refreshTokenLapsesAt: p.refresh.refreshTokenLapsesAt,
    backend: p.backend,
    inbox: p.inbox,
    realtime: p.realtime,
  };
}

// The flat method → handler table: each protocol method is one line onto DaemonCore. Params
// arrive already checked against shared/protocol.ts's schemas by the server.
import { notification } from '../../../shared/jsonrpc';
import type { ParamsOf } from '../../../shared/protocol';
import type { DaemonCore } from './core';
import type { Connection, Handlers } from './server';

export function makeHandlers(core: DaemonCore, subscriptions: Map<number, () => void>): Handlers {
  return {
    status: async () => core.status(),
    'consent.begin': async (p) => core.beginConsent(p as ParamsOf<'consent.begin'>),
    'consent.complete': async (p) => core.completeConsent((p as ParamsOf<'consent.complete'>).redirectUrl),
    'consent.cancel': async (p) => core.cancelConsent((p as ParamsOf<'consent.cancel'>).state),
    'inbox.count': async (p) => {
      const { account, maxAgeMs, allowStale } = p as ParamsOf<'inbox.count'>;
      return core.inboxCount(account, maxAgeMs, allowStale);
    },
    'tokens.view': async (p) => core.tokensView((p as ParamsOf<'tokens.view'>)?.account),
    'account.remove': async (p) => core.removeAccount((p as ParamsOf<'account.remove'>)?.account),
    'token.get': async (p) => {
      const params = (p ?? {}) as NonNullable<ParamsOf<'token.get'>>;
      const t = await core.tokenGet(params.account, params.resource, params.forceRefresh ?? false);
      return { accessToken: t.accessToken, expiresOn: t.expiresOn, scopes: t.scopes, account: t.account, resource: t.resource };
    },
    'events.subscribe': async (_p, conn: Connection) => {
      if (!subscriptions.has(conn.id)) {
        subscriptions.set(conn.id, core.subscribe((method, params) => conn.send(notification(method, params))));
      }
      return { subscribed: true as const };
    },
  };
}

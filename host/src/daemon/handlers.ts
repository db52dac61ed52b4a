// The flat method → handler table: each protocol method is one line onto DaemonCore, typed from
// its descriptor in shared/protocol.ts (params arrive checked by the server, results are what
// the protocol says). The relay's hello sets who the connection speaks for.
import { AppError } from '../../../shared/errors';
import { notification } from '../../../shared/jsonrpc';
import type { DaemonCore } from './core';
import type { Handlers } from './server';

export function makeHandlers(core: DaemonCore, subscriptions: Map<number, () => void>, isAllowedOrigin: (origin: string) => boolean): Handlers {
  return {
    status: async () => core.status(),
    'consent.begin': async (p) => core.consents.begin(p),
    'consent.complete': async (p) => core.consents.complete(p.redirectUrl),
    'consent.cancel': async (p) => core.consents.cancel(p.state),
    'consent.deviceCode.begin': async () => core.consents.beginDeviceCode(),
    'consent.deviceCode.wait': async (p, conn) => {
      // The waiter went away (Ctrl-C, a closed popup's port): nobody will see the outcome, stop polling.
      conn.onClose(() => core.consents.cancelDeviceCode(p.flowId));
      return core.consents.waitDeviceCode(p.flowId);
    },
    'consent.deviceCode.cancel': async (p) => core.consents.cancelDeviceCode(p.flowId),
    'inbox.count': async (p) => core.inboxCount(p.account, p.maxAgeMs, p.allowStale),
    'tokens.view': async (p) => core.tokensView(p?.account),
    'account.remove': async (p) => core.removeAccount(p?.account),
    'token.get': async (p) => {
      const t = await core.tokenGet(p?.account, p?.resource, p?.forceRefresh ?? false);
      return { accessToken: t.accessToken, expiresOn: t.expiresOn, scopes: t.scopes, account: t.account, resource: t.resource };
    },
    'events.subscribe': async (p, conn) => {
      // A second call on the same connection replaces the first (e.g. the popup opened: watching).
      subscriptions.get(conn.id)?.();
      subscriptions.set(conn.id, core.subscribe((method, params) => conn.send(notification(method, params)), { watching: p?.watching ?? false }));
      return { subscribed: true as const };
    },
    'relay.hello': helloHandler(isAllowedOrigin),
  };
}

/** The native host's hello: an allowed origin makes the connection an extension's; any other ends it. */
export function helloHandler(isAllowedOrigin: (origin: string) => boolean): Handlers['relay.hello'] {
  return async ({ origin }, conn) => {
    if (!isAllowedOrigin(origin)) {
      conn.endAfterReply();
      throw new AppError('origin_forbidden', `The extension ${origin} is not allowed to talk to ews-daemon.`, {
        advice: `Add its id to "extensionIds" in the config, or run \`ews-daemon install --extension-id <id>\`.`,
        retryable: false,
      });
    }
    conn.origin = origin;
    return { accepted: true as const };
  };
}

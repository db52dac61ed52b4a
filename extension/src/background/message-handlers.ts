// The flat request → handler table for the popup, the token viewer and the callback page. Each
// handler is one step onto the companion client, the sign-in capture or the view store; the
// dispatcher turns every outcome into a Reply envelope, so pages never see a thrown object.
import { AppError } from '../../../shared/errors';
import { toWireError, type Replies, type Reply, type Request, type RequestType } from '../lib/messages';
import type { ConsentCapture } from './consent-capture';
import type { NativeClient } from './native-port';
import type { ViewStore } from './view-store';

export interface HandlerDeps {
  client: Pick<NativeClient, 'call' | 'ensureOpen'>;
  capture: Pick<ConsentCapture, 'begin' | 'complete'>;
  store: Pick<ViewStore, 'current' | 'applyInbox' | 'setStatus' | 'setConsent'>;
  now(): number;
}

/** Who sent a request: the tab, for the callback page (runtime.MessageSender's subset). */
export interface Sender {
  tab?: { id?: number };
}

type Handlers = { [K in RequestType]: (req: Extract<Request, { type: K }>, sender: Sender) => Promise<Replies[K]> };

export function makeHandlers(d: HandlerDeps): Handlers {
  const refreshStatus = async () => d.store.setStatus(await d.client.call('status'), d.now());
  return {
    status: async () => {
      d.client.ensureOpen();
      return d.store.current;
    },
    signIn: async (req) => {
      d.store.setConsent(null);
      return d.capture.begin(req.loginHint ? { loginHint: req.loginHint, prompt: 'select_account' } : { prompt: 'select_account' });
    },
    signInAdmin: async () => {
      d.store.setConsent(null);
      return d.capture.begin({ admin: true });
    },
    refresh: async (req) => {
      const count = await d.client.call('inbox.count', { ...(req.account ? { account: req.account } : {}), maxAgeMs: 0 });
      d.store.applyInbox(count);
      void refreshStatus().catch(() => undefined);
      return count;
    },
    signOut: async (req) => {
      const result = await d.client.call('account.remove', req.account ? { account: req.account } : {});
      await refreshStatus();
      return result;
    },
    tokens: async (req) => d.client.call('tokens.view', req.account ? { account: req.account } : {}),
    completeConsent: async (req, sender) => d.capture.complete(req.url, sender.tab?.id),
  };
}

export async function dispatch(handlers: Handlers, req: Request, sender: Sender): Promise<Reply<unknown>> {
  const handler = handlers[req.type] as ((r: Request, s: Sender) => Promise<unknown>) | undefined;
  if (!handler) {
    const error = new AppError('method_not_found', `The service worker has no request named ${req.type}.`, {
      advice: 'Reload the extension: its pages and its service worker are from different versions.',
      retryable: false,
    });
    return { ok: false, error: toWireError(error) };
  }
  try {
    return { ok: true, value: await handler(req, sender) };
  } catch (e) {
    return { ok: false, error: toWireError(e) };
  }
}

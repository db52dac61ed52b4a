import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import type { ConsentNotice } from '../lib/messages';
import { account, status, T0, view } from '../test-support';
import { dispatch, makeHandlers, type HandlerDeps } from './message-handlers';

function deps(calls: Array<[string, unknown]>, notices: Array<ConsentNotice | null> = []): HandlerDeps {
  return {
    client: {
      ensureOpen: () => undefined,
      call: (async (method: string, params: unknown) => {
        calls.push([method, params]);
        if (method === 'inbox.count') return { account: 'alice@contoso.example', total: 1, unread: 1, fetchedAt: T0, backend: 'ews' };
        if (method === 'status') return status([account()]);
        if (method === 'account.remove') throw new AppError('no_account', 'Nobody by that name.', { advice: 'Check the name.', retryable: false });
        return {};
      }) as HandlerDeps['client']['call'],
    },
    capture: { begin: async () => ({ tabId: 3 }), complete: async () => ({ kind: 'admin-consented', tenant: 't' }) },
    store: { current: view(), applyInbox: () => undefined, setStatus: () => undefined, setConsent: (n) => void notices.push(n) },
    now: () => T0,
  };
}

describe('the request table', () => {
  it('refreshes with maxAgeMs 0, so the count is fetched now', async () => {
    const calls: Array<[string, unknown]> = [];
    const reply = await dispatch(makeHandlers(deps(calls)), { type: 'refresh', account: 'alice@contoso.example' }, {});
    expect(reply.ok).toBe(true);
    expect(calls[0]).toEqual(['inbox.count', { account: 'alice@contoso.example', maxAgeMs: 0 }]);
  });

  it('turns a thrown AppError into an error reply with its code and advice', async () => {
    const reply = await dispatch(makeHandlers(deps([])), { type: 'signOut', account: 'carol' }, {});
    expect(reply).toEqual({ ok: false, error: { message: 'Nobody by that name.', code: 'no_account', advice: 'Check the name.', retryable: false } });
  });

  it('clears the last sign-in notice when a new sign-in starts', async () => {
    const notices: Array<ConsentNotice | null> = [];
    await dispatch(makeHandlers(deps([], notices)), { type: 'signIn' }, {});
    expect(notices).toEqual([null]);
  });

  it('answers an unknown request with method_not_found instead of silence', async () => {
    const reply = await dispatch(makeHandlers(deps([])), { type: 'nonsense' } as never, {});
    expect(reply).toMatchObject({ ok: false, error: { code: 'method_not_found' } });
  });
});

import { describe, expect, it } from 'vitest';
import { account, status } from '../test-support';
import { SignInNotice, type NotificationsApi } from './sign-in-notice';

const needsConsent = { kind: 'needs-consent' as const, error: { code: 'needs_consent' as const, message: 'x', advice: 'Sign in again: the refresh token expired.', retryable: false, at: 0 } };

function setup(buttons = true) {
  const created: { id: string; title: string; message: string; buttons?: unknown }[] = [];
  const cleared: string[] = [];
  const signIns: string[] = [];
  let button: (id: string, i: number) => void = () => undefined;
  let click: (id: string) => void = () => undefined;
  const notifications: NotificationsApi = {
    async create(id, o) {
      if (o.buttons && !buttons) throw new Error('buttons is not supported');
      created.push({ id, title: o.title, message: o.message, buttons: o.buttons });
      return id;
    },
    async clear(id) {
      cleared.push(id);
      return true;
    },
    onButtonClicked: { addListener: (fn) => void (button = fn) },
    onClicked: { addListener: (fn) => void (click = fn) },
  };
  const notice = new SignInNotice({ notifications, iconUrl: 'icon.png', signIn: (u) => void signIns.push(u), log: () => undefined });
  return { notice, created, cleared, signIns, button: (id: string) => button(id, 0), click: (id: string) => click(id) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('SignInNotice', () => {
  it('announces a move to needs-consent once, with the advice and a Sign in button that signs that account in', async () => {
    const t = setup();
    t.notice.update(status([account()]));
    t.notice.update(status([account({ state: needsConsent })]));
    t.notice.update(status([account({ state: needsConsent })]));
    await flush();
    expect(t.created).toEqual([{ id: 'needs-sign-in:alice@contoso.example', title: 'ews-daemon: alice@contoso.example needs sign-in', message: 'Sign in again: the refresh token expired.', buttons: [{ title: 'Sign in' }] }]);
    t.button('needs-sign-in:alice@contoso.example');
    expect(t.signIns).toEqual(['alice@contoso.example']);
  });

  it('clears the notification once signed in, and announces a later lapse again', async () => {
    const t = setup();
    t.notice.update(status([account({ state: needsConsent })]));
    t.notice.update(status([account()]));
    t.notice.update(status([account({ state: needsConsent })]));
    await flush();
    expect(t.cleared).toEqual(['needs-sign-in:alice@contoso.example']);
    expect(t.created).toHaveLength(2);
  });

  it('falls back to a clickable notification where buttons are not supported', async () => {
    const t = setup(false);
    t.notice.update(status([account({ state: needsConsent })]));
    await flush();
    expect(t.created[0]?.message).toContain('Click to sign in.');
    t.click('needs-sign-in:alice@contoso.example');
    t.click('something-else');
    expect(t.signIns).toEqual(['alice@contoso.example']);
  });
});

// The Reply URL's stand-in: the capture rule sends the sign-in tab here with the identity
// provider's query. It hands its own address to the service worker (which checks that this tab
// is a sign-in it started) and shows the outcome; the service worker closes the tab either way.
import { ask } from '../lib/ask';
import { h } from '../lib/dom';
import { toWireError } from '../lib/messages';
import { ERROR_TEXT } from '../popup/error-text';

const outcome = document.getElementById('outcome')!;
const href = location.href;
// The code is single use and now in the service worker's hands: keep it out of history.
history.replaceState(null, '', location.pathname);

ask({ type: 'completeConsent', url: href }).then(
  (result) => {
    const text = result.kind === 'signed-in' ? `Signed in as ${result.account.username}. This tab closes by itself.` : `Approved for tenant ${result.tenant}. This tab closes by itself.`;
    outcome.replaceChildren(h('p', { 'data-testid': 'callback-ok' }, text));
  },
  (e: unknown) => {
    const err = toWireError(e);
    outcome.replaceChildren(
      h(
        'div',
        { class: 'error', 'data-testid': 'callback-error', 'data-code': err.code },
        h('p', { class: 'error-title' }, ERROR_TEXT[err.code]?.title ?? err.code),
        h('p', {}, err.message),
        h('p', { 'data-testid': 'error-advice' }, err.advice),
      ),
    );
  },
);

// The token viewer: asks the service worker for tokens.view and shows the daemon's token cache
// grouped by account (account, ID tokens, access tokens per scope, refresh token), with JWT
// headers and claims decoded by the daemon. Reload redraws from a fresh answer.
import type { TokensViewResult } from '../../../shared/protocol';
import { ask } from '../lib/ask';
import { h } from '../lib/dom';
import { toWireError } from '../lib/messages';
import { errorBox } from '../popup/error-box';
import { groupEntries } from './group-entries';
import { tokenEntry } from './token-entry';

const content = document.getElementById('content')!;

function render(result: TokensViewResult): void {
  const now = Date.now();
  const groups = groupEntries(result.entries);
  content.replaceChildren(
    h('p', { class: 'muted' }, 'Token cache: ', h('code', { 'data-testid': 'cache-path' }, result.cachePath)),
    groups.length === 0 ? h('p', { 'data-testid': 'empty' }, 'The token cache is empty: nobody is signed in.') : '',
    ...groups.map((g) => h('section', { class: 'group', 'aria-label': g.title }, h('h2', {}, g.title), ...g.entries.map((e) => tokenEntry(e, now)))),
  );
}

async function load(): Promise<void> {
  content.setAttribute('aria-busy', 'true');
  try {
    render(await ask({ type: 'tokens' }));
  } catch (e) {
    content.replaceChildren(errorBox(toWireError(e), 'viewer-error', 'Could not read the tokens'));
  } finally {
    content.setAttribute('aria-busy', 'false');
  }
}

document.getElementById('reload')!.addEventListener('click', () => void load());
void load();

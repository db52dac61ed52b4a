// The panel shown when the browser cannot start the companion: what is wrong, the exact install
// command for this browser (copyable), and what to do after.
import { copyText, h } from '../lib/dom';
import type { InstallHint, WireError } from '../lib/messages';

export function companionPanel(hint: InstallHint, error: WireError): HTMLElement {
  const status = h('span', { class: 'copied', role: 'status', 'aria-live': 'polite' });
  const copy = (text: string) => async () => {
    status.textContent = (await copyText(text)) ? 'Copied.' : 'Select the command and copy it.';
  };
  return h(
    'section',
    { id: 'companion-missing', 'aria-labelledby': 'companion-missing-title' },
    h('h2', { id: 'companion-missing-title' }, 'Install the ews-daemon companion'),
    h('p', {}, 'This extension shows what the ews-daemon companion app sees; the browser could not start it.'),
    h('p', { class: 'muted', 'data-testid': 'companion-reason' }, error.message),
    h('p', {}, 'Run this in a terminal:'),
    h(
      'div',
      { class: 'command' },
      h('code', { id: 'install-command' }, hint.command),
      h('button', { type: 'button', id: 'copy-install', 'data-key': 'copy-install', 'aria-label': 'Copy the install command', onclick: copy(hint.command) }, 'Copy'),
    ),
    h('p', {}, 'or, from a clone of the repository:'),
    h(
      'div',
      { class: 'command' },
      h('code', { id: 'install-command-clone' }, hint.fromClone),
      h('button', { type: 'button', 'data-key': 'copy-clone', 'aria-label': 'Copy the install command for a clone', onclick: copy(hint.fromClone) }, 'Copy'),
    ),
    h('p', {}, 'Then reopen this popup. A browser started with --user-data-dir needs the same --user-data-dir on install.'),
    error.advice.includes(hint.command) ? null : h('p', { class: 'muted', 'data-testid': 'error-advice' }, error.advice),
    status,
  );
}

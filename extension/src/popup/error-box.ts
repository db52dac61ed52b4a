// One error as the popup shows it: its title in words, the message, the AADSTS number when
// Entra gave one, and the advice a person can act on (with its link, if any).
import type { ErrorCode } from '../../../shared/errors';
import { h } from '../lib/dom';
import { ERROR_TEXT } from './error-text';

/** Microsoft's own page that explains an AADSTS number. */
const AADSTS_LOOKUP = 'https://login.microsoftonline.com/error?code=';

export interface ShownError {
  code: ErrorCode;
  message: string;
  advice: string;
  aadsts?: number;
  link?: string;
}

export function errorBox(e: ShownError, testid: string, heading?: string): HTMLElement {
  const title = ERROR_TEXT[e.code]?.title ?? e.code;
  return h(
    'div',
    { class: 'error', role: 'alert', 'data-testid': testid, 'data-code': e.code },
    h('p', { class: 'error-title' }, heading ? `${heading}: ${title}` : title),
    h('p', { class: 'error-message' }, e.message),
    e.aadsts
      ? h('p', { class: 'aadsts' }, 'Entra error code ', h('a', { href: `${AADSTS_LOOKUP}${e.aadsts}`, target: '_blank', rel: 'noopener', 'data-testid': 'aadsts' }, `AADSTS${e.aadsts}`))
      : null,
    e.advice ? h('p', { class: 'advice', 'data-testid': 'error-advice' }, e.advice) : null,
    e.link ? h('p', {}, h('a', { href: e.link, target: '_blank', rel: 'noopener' }, 'More help')) : null,
  );
}

// The toolbar badge: the unread count in four characters, or "!" when someone must act (an
// account needs sign-in, or the companion is missing). Pure choice (badgeFor) apart from the
// one call that paints it (paintBadge).
import type { View } from '../lib/messages';
import { formatCount, formatCountShort } from '../lib/format';

export interface Badge {
  text: string;
  /** Background colour: red asks for action, neutral grey just informs. */
  color: string;
  title: string;
}

export const BADGE_RED = '#c5221f';
export const BADGE_NEUTRAL = '#5f6368';

export function badgeFor(view: View): Badge {
  const { connection, status } = view;
  if (connection.kind === 'failed' && connection.error.code === 'companion_missing') {
    return { text: '!', color: BADGE_RED, title: 'ews-daemon: the companion is not installed. Open to see how.' };
  }
  const accounts = status?.accounts ?? [];
  const lapsed = accounts.filter((a) => a.state.kind === 'needs-consent').map((a) => a.username);
  if (lapsed.length > 0) return { text: '!', color: BADGE_RED, title: `ews-daemon: sign-in needed for ${lapsed.join(', ')}` };
  const counted = accounts.filter((a) => a.inbox);
  if (counted.length === 0) {
    const title = accounts.length === 0 ? 'ews-daemon: nobody is signed in' : 'ews-daemon: waiting for the inbox count';
    return { text: '', color: BADGE_NEUTRAL, title };
  }
  const unread = counted.reduce((sum, a) => sum + a.inbox!.unread, 0);
  const total = counted.reduce((sum, a) => sum + a.inbox!.total, 0);
  const each = counted.length > 1 ? ` (${counted.map((a) => `${a.username} ${formatCount(a.inbox!.unread, 'en-US')}`).join(', ')})` : '';
  return {
    text: unread > 0 ? formatCountShort(unread) : '',
    color: BADGE_NEUTRAL,
    title: `ews-daemon: ${formatCount(unread, 'en-US')} unread of ${formatCount(total, 'en-US')} in the Inbox${each}`,
  };
}

export interface ActionApi {
  setBadgeText(details: { text: string }): Promise<void>;
  setBadgeBackgroundColor(details: { color: string }): Promise<void>;
  setTitle(details: { title: string }): Promise<void>;
}

/** Paints only what changed since the last call, so frequent events cost nothing. */
export function badgePainter(action: ActionApi): (b: Badge) => Promise<void> {
  let last: Badge | null = null;
  return async (b) => {
    if (last && last.text === b.text && last.color === b.color && last.title === b.title) return;
    last = b;
    await Promise.all([action.setBadgeText({ text: b.text }), action.setBadgeBackgroundColor({ color: b.color }), action.setTitle({ title: b.title })]);
  };
}

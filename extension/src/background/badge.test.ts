import { describe, expect, it } from 'vitest';
import { account, status, view } from '../test-support';
import { BADGE_NEUTRAL, BADGE_RED, badgeFor, badgePainter, type Badge } from './badge';

const needsConsent = { kind: 'needs-consent' as const, error: { code: 'needs_consent' as const, message: 'x', advice: 'y', retryable: false, at: 0 } };

describe('badgeFor', () => {
  it('shows the unread count in a neutral colour when all is well', () => {
    expect(badgeFor(view())).toMatchObject({ text: '23', color: BADGE_NEUTRAL });
    expect(badgeFor(view()).title).toContain('23 unread of 4,817');
  });

  it('shortens large counts', () => {
    const a = account({ inbox: { account: 'alice@contoso.example', total: 9000, unread: 1234, fetchedAt: 0, backend: 'graph' } });
    expect(badgeFor(view({ status: status([a]) })).text).toBe('1.2k');
  });

  it('shows a red ! when an account needs sign-in, whatever the counts', () => {
    const b = badgeFor(view({ status: status([account(), account({ username: 'bob@contoso.example', state: needsConsent })]) }));
    expect(b).toMatchObject({ text: '!', color: BADGE_RED });
    expect(b.title).toContain('bob@contoso.example');
  });

  it('adds up the unread of every account and names each in the tooltip', () => {
    const carol = account({ username: 'carol@contoso.example', inbox: { account: 'carol@contoso.example', total: 230, unread: 7, fetchedAt: 0, backend: 'ews' } });
    const b = badgeFor(view({ status: status([account(), carol]) }));
    expect(b).toMatchObject({ text: '30', color: BADGE_NEUTRAL });
    expect(b.title).toBe('ews-daemon: 30 unread of 5,047 in the Inbox (alice@contoso.example 23, carol@contoso.example 7)');
  });

  it('shows a red ! when the companion is missing', () => {
    const error = { code: 'companion_missing' as const, message: 'm', advice: 'a', retryable: false };
    expect(badgeFor(view({ connection: { kind: 'failed', error, nextAttemptAt: null } })).text).toBe('!');
  });

  it('shows nothing when nobody is signed in or nothing is unread', () => {
    expect(badgeFor(view({ status: status([]) })).text).toBe('');
    const a = account({ inbox: { account: 'alice@contoso.example', total: 5, unread: 0, fetchedAt: 0, backend: 'ews' } });
    expect(badgeFor(view({ status: status([a]) })).text).toBe('');
  });
});

describe('badgePainter', () => {
  it('paints only when the badge changes', async () => {
    const calls: string[] = [];
    const api = {
      setBadgeText: async (d: { text: string }) => void calls.push(`text:${d.text}`),
      setBadgeBackgroundColor: async (d: { color: string }) => void calls.push(`color:${d.color}`),
      setTitle: async (d: { title: string }) => void calls.push(`title:${d.title}`),
    };
    const paint = badgePainter(api);
    const b: Badge = { text: '1', color: BADGE_NEUTRAL, title: 't' };
    await paint(b);
    await paint({ ...b });
    await paint({ ...b, text: '2' });
    expect(calls.filter((c) => c.startsWith('text:'))).toEqual(['text:1', 'text:2']);
  });
});

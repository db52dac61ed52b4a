import { describe, expect, it } from 'vitest';
import { findCallerOrigin } from './caller-origin';

const ID = 'nkdohhffolcemclgncojieeenmkghhch';

describe('findCallerOrigin', () => {
  it.each([
    ['Chrome on Linux and macOS', [`chrome-extension://${ID}/`], `chrome-extension://${ID}/`],
    ['Chrome on Windows', [`chrome-extension://${ID}/`, '--parent-window=6620'], `chrome-extension://${ID}/`],
    ['Windows, flag first', ['--parent-window=0', `chrome-extension://${ID}/`], `chrome-extension://${ID}/`],
    ['the launcher', ['native-host', `chrome-extension://${ID}/`], `chrome-extension://${ID}/`],
    ['an origin without its slash', [`chrome-extension://${ID}`], `chrome-extension://${ID}/`],
    ['Firefox', ['/home/u/.mozilla/native-messaging-hosts/com.ews_daemon.companion.json', 'ews-daemon@ews-daemon.invalid'], 'ews-daemon@ews-daemon.invalid'],
    ['Firefox with a uuid id', ['C:\\Users\\u\\ews\\com.ews_daemon.companion.json', '{8c0cbd1b-5c58-4d6b-9d0e-1f2a3b4c5d6e}'], '{8c0cbd1b-5c58-4d6b-9d0e-1f2a3b4c5d6e}'],
    ['the launcher under Firefox', ['native-host', '/m/com.ews_daemon.companion.json', 'a@b'], 'a@b'],
    ['nothing', [], null],
    ['only flags and a stray word', ['--parent-window=1', 'hello'], null],
  ])('finds the caller when started by %s', (_by, args, expected) => {
    expect(findCallerOrigin(args)).toBe(expected);
  });
});

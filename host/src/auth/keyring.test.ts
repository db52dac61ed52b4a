// How a keyring failure is read: the messages are the ones @napi-rs/keyring gave on this
// project's CI machine (gnome-keyring over D-Bus, and no session bus at all).
import { describe, expect, it } from 'vitest';
import { classifyKeyringError, KEYRING_TIMEOUT_MS } from './keyring';

describe('classifyKeyringError', () => {
  it.each([
    ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", 'locked'],
    ['Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead', 'unavailable'],
    ['Platform failure: DBus error: Failed to connect to socket /nonexistent/x: No such file or directory', 'unavailable'],
    ["Couldn't access platform storage: Secret Service: no result found", 'unavailable'],
  ])('%s: %s', (message, reason) => {
    expect(classifyKeyringError(new Error(message), false)).toMatchObject({ reason, message });
  });

  it('calls a keyring that did not answer in time locked (an unlock prompt left open)', () => {
    expect(classifyKeyringError(new Error('aborted'), true)).toMatchObject({ reason: 'locked', message: `the keyring did not answer within ${KEYRING_TIMEOUT_MS / 1000} s (an unlock prompt left open?)` });
  });
});

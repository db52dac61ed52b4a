// Classifies why the native-messaging port closed into the project's error codes, with advice a
// person can act on (the exact install command when the browser could not start the companion).
// Pure: the browser's message and what the port had done so far are passed in.
import { AppError } from '../../../shared/errors';
import type { InstallHint } from '../lib/messages';

/** Chromium's messages (extensions/browser/api/messaging/native_message_host.cc; docs/platform-notes.md) and Firefox's equivalents. */
const NOT_INSTALLED = [/native messaging host not found/i, /No such native application/i];
const FORBIDDEN = [/Access to the specified native messaging host is forbidden/i, /not allowed to communicate/i];
const EXITED = [/Native host has exited/i, /Error when communicating with the native messaging host/i];

export interface PortEnd {
  /** runtime.lastError / port.error message, or undefined when the port closed cleanly. */
  reason: string | undefined;
  /** Whether the companion ever answered on this port. */
  answered: boolean;
}

export function classifyPortEnd(end: PortEnd, hint: InstallHint): AppError {
  const reason = end.reason ?? 'the companion closed the connection';
  const install = `Install it with \`${hint.command}\` (or \`${hint.fromClone}\` from a clone), then reopen this popup.`;
  if (NOT_INSTALLED.some((re) => re.test(reason))) {
    return new AppError('companion_missing', `The ews-daemon companion is not installed for this browser (${reason}).`, {
      advice: `${install} A browser started with --user-data-dir needs --user-data-dir on install too.`,
      retryable: false,
    });
  }
  if (FORBIDDEN.some((re) => re.test(reason))) {
    return new AppError('companion_missing', `The companion is installed but does not allow this extension (${reason}).`, {
      advice: `Reinstall it so that it lists this extension: \`${hint.command} --extension-id <this extension's id>\`.`,
      retryable: false,
    });
  }
  if (EXITED.some((re) => re.test(reason)) && !end.answered) {
    return new AppError('companion_missing', `The companion started but exited at once (${reason}).`, {
      advice: `Run \`ews-daemon doctor\` in a terminal to see why; if the command is missing, ${install.charAt(0).toLowerCase()}${install.slice(1)}`,
      retryable: true,
    });
  }
  return new AppError('daemon_unreachable', `Lost the connection to the ews-daemon companion (${reason}).`, {
    advice: 'The extension reconnects on its own; if this stays, run `ews-daemon status` in a terminal.',
    retryable: true,
  });
}

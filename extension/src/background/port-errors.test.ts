import { describe, expect, it } from 'vitest';
import { installHint } from '../lib/install-hint';
import { classifyPortEnd } from './port-errors';

const hint = installHint(['Chromium'], 'Chrome/156');

describe('classifyPortEnd', () => {
  it('says the companion is missing, with the install command, when Chromium cannot find the host', () => {
    const e = classifyPortEnd({ reason: 'Specified native messaging host not found.', answered: false }, hint);
    expect(e.code).toBe('companion_missing');
    expect(e.data.advice).toContain('ews-daemon install --browser chromium');
  });

  it('says the companion is missing when the host forbids this extension', () => {
    const e = classifyPortEnd({ reason: 'Access to the specified native messaging host is forbidden.', answered: false }, hint);
    expect(e.code).toBe('companion_missing');
    expect(e.data.advice).toContain('--extension-id');
  });

  it('says the companion is missing when the host exits before ever answering', () => {
    expect(classifyPortEnd({ reason: 'Native host has exited.', answered: false }, hint).code).toBe('companion_missing');
  });

  it('says the daemon went away when a host that answered exits (a daemon restart)', () => {
    const e = classifyPortEnd({ reason: 'Native host has exited.', answered: true }, hint);
    expect(e.code).toBe('daemon_unreachable');
    expect(e.data.retryable).toBe(true);
  });

  it('recognises Firefox wording for a missing host', () => {
    expect(classifyPortEnd({ reason: 'No such native application com.ews_daemon.companion', answered: false }, hint).code).toBe('companion_missing');
  });
});

// The notifier's own runner: a real program, stopped when its time is up on the daemon's clock.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock';
import { FakeLog } from '../../../test/support/fakes';
import { waitUntil } from '../../../test/support/wait';
import { NOTIFY_TIMEOUT_MS, NotifyCommand, type NoticeMemory, type NotifyEvent } from './notify-command';

const hang = [process.execPath, '-e', 'setInterval(() => {}, 1000)'];
const ALICE = { id: 'alice-oid.utid', username: 'alice@contoso.example' };

function memory(): NoticeMemory {
  const last = new Map<string, NotifyEvent>();
  return { lastNotice: (id) => last.get(id) ?? null, noteNotice: (id, e) => void last.set(id, e) };
}

describe('NotifyCommand', () => {
  it('stops a notifier that hangs once its 30 s are up on the clock, and logs why', async () => {
    const clock = new FakeClock();
    const log = new FakeLog();
    const notifier = new NotifyCommand({ argv: hang, log, clock, memory: memory() });
    const done = notifier.notify('needs-consent', ALICE, 'sign in');
    await waitUntil('the kill timer', async () => clock.pending, (n) => n === 1);
    await clock.advance(NOTIFY_TIMEOUT_MS - 1);
    expect(log.lines).toEqual([]); // not yet
    await clock.advance(1);
    await done;
    expect(log.lines).toEqual([{ level: 'warn', msg: 'notifyCommand failed', fields: expect.objectContaining({ event: 'needs-consent', error: 'stopped by SIGTERM' }) }]);
  });

  it('leaves no timer waiting after a notifier that ends by itself', async () => {
    const clock = new FakeClock();
    const log = new FakeLog();
    const notifier = new NotifyCommand({ argv: [process.execPath, '-e', ''], log, clock, memory: memory() });
    await notifier.notify('signed-in', ALICE, '');
    await clock.settle();
    expect(clock.pending).toBe(0);
    expect(log.lines.map((l) => l.msg)).toEqual(['notifyCommand ran']);
  });
});

// `ews-daemon watch` as a status bar runs it: the count at once, one line per change pushed by
// EWS streaming, nothing for an unchanged count, exit 0 on SIGINT, exit 3 when sign-in is needed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

const ALICE = 'alice@contoso.example';

/** `ews-daemon watch ARGS`, its printed lines as they come. */
function watch(stack: Stack, args: string[]) {
  const w = spawnCli(stack, ['watch', ...args]);
  return { child: w.child, get lines() { return w.lines(); }, stderr: w.stderr, exit: w.exited };
}

describe('ews-daemon watch', { timeout: 90_000 }, () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.signIn();
    await waitUntil('a stream open', async () => stack.emulator.admin.openStreams(ALICE), (n) => n === 1);
  }, 60_000);
  afterAll(async () => stack?.close());

  it('prints the count, then one JSON line per change, and exits 0 when interrupted', async () => {
    const w = watch(stack, ['--json']);
    await waitUntil('the first line', async () => w.lines.length, (n) => n === 1);
    expect(JSON.parse(w.lines[0]!)).toMatchObject({ account: ALICE, total: 4817, unread: 23, backend: 'ews' });
    stack.emulator.admin.setMailbox(ALICE, { total: 4818, unread: 24 });
    await waitUntil('a second line', async () => w.lines.length, (n) => n === 2);
    expect(JSON.parse(w.lines[1]!)).toMatchObject({ account: ALICE, total: 4818, unread: 24 });
    await stack.cli(['inbox', '--max-age', '0']); // an unchanged count prints nothing
    stack.emulator.admin.setMailbox(ALICE, { total: 4817, unread: 23 });
    await waitUntil('a third line', async () => w.lines.length, (n) => n === 3);
    expect(JSON.parse(w.lines[2]!)).toMatchObject({ total: 4817, unread: 23 });
    w.child.kill('SIGINT');
    expect(await w.exit).toBe(0);
    expect(w.lines).toHaveLength(3);
  });

  it('ends when its reader goes away (`watch | head -1`), at the next change', async () => {
    const w = watch(stack, ['--json']);
    await waitUntil('the first line', async () => w.lines.length, (n) => n === 1);
    w.child.stdout.destroy();
    stack.emulator.admin.setMailbox(ALICE, { total: 4818, unread: 23 });
    expect(await w.exit).toBe(0);
    stack.emulator.admin.setMailbox(ALICE, { total: 4817, unread: 23 });
    await waitUntil('the daemon has the count back', async () => (await stack.json<{ total: number }>(['inbox'])).total, (t) => t === 4817);
  });

  it('prints plain lines, and exits 3 with the advice once the account needs sign-in', async () => {
    const w = watch(stack, []);
    await waitUntil('the first line', async () => w.lines.length, (n) => n === 1);
    expect(w.lines[0]).toBe(`${ALICE}  4,817 items, 23 unread`);
    stack.emulator.admin.expireRefreshTokens(ALICE);
    await stack.cli(['token', '--force-refresh']);
    expect(await w.exit).toBe(3);
    expect(w.stderr()).toMatch(/needs sign-in: .*sign in/i);
  });
});

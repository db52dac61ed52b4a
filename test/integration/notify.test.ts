// The config's notifyCommand, run by the real daemon: a script that appends one line per call to
// a file hears signed-in, needs-consent (once, however often the refresh fails) and ews-disabled,
// with the account and the advice in its environment; a command that cannot run is logged and
// changes nothing else.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

const ALICE = 'alice@contoso.example';
const SCRIPT = `const fs = require('node:fs');
const e = process.env;
fs.appendFileSync(process.argv[2], JSON.stringify([e.EWS_DAEMON_EVENT, e.EWS_DAEMON_ACCOUNT, e.EWS_DAEMON_ADVICE]) + '\\n');`;

describe('notifyCommand', { timeout: 90_000 }, () => {
  const stacks: Stack[] = [];
  afterAll(async () => Promise.all(stacks.map((s) => s.close())));

  it('runs once per event per account, with the event, the account and the advice in its environment', async () => {
    const stack = await startStack();
    stacks.push(stack);
    const script = path.join(stack.home, 'notify.cjs');
    const out = path.join(stack.home, 'events.txt');
    await fs.writeFile(script, SCRIPT);
    await stack.writeConfig({ notifyCommand: [process.execPath, script, out] });
    const events = async () => (await fs.readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);

    await stack.signIn();
    await waitUntil('signed-in heard', events, (e) => e.length === 1);
    expect((await events())[0]?.slice(0, 2)).toEqual(['signed-in', ALICE]);

    stack.emulator.admin.expireRefreshTokens(ALICE);
    await stack.cli(['token', '--force-refresh']);
    await stack.cli(['token', '--force-refresh']);
    await waitUntil('needs-consent heard', events, (e) => e.length === 2);
    const [event, account, advice] = (await events())[1]!;
    expect([event, account]).toEqual(['needs-consent', ALICE]);
    expect(advice).toMatch(/sign in/i);

    await stack.signIn();
    stack.emulator.admin.setEwsDisabled(true);
    await stack.cli(['inbox', '--max-age', '0']);
    await waitUntil('signed-in, then ews-disabled heard', events, (e) => e.length === 4);
    expect((await events()).slice(2).map((e) => e[0])).toEqual(['signed-in', 'ews-disabled']);
    expect((await events())[3]?.[2]).toContain('EWSAllowedAppIDs');
  });

  it('logs a command that cannot run, and goes on', async () => {
    const stack = await startStack({ config: { notifyCommand: ['/nonexistent/ews-daemon-notifier'] } });
    stacks.push(stack);
    await stack.signIn();
    const log = path.join(stack.home, 'daemon.log');
    await waitUntil('the failure logged', async () => fs.readFile(log, 'utf8').catch(() => ''), (t) => t.includes('notifyCommand failed'));
    expect((await stack.cli(['inbox'])).code).toBe(0);
  });
});

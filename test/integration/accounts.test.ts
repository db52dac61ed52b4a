// Two accounts side by side through the CLI: each signs in without touching the other, `inbox`
// answers one line per account, `token` asks which one, --account picks one for every command,
// and signing one out leaves the other's tokens, count and renewal as they were, across a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult, TokensViewResult } from '../../shared/protocol';
import { startStack, type Stack } from '../support/stack';

const ALICE = 'alice@contoso.example';
const CAROL = 'carol@contoso.example';

describe('several accounts from the command line', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await stack.signIn(ALICE);
    await stack.signIn(CAROL);
  });
  afterAll(async () => stack?.close());

  it('signs the second account in beside the first', async () => {
    const s = await stack.json<StatusResult>(['status']);
    expect(s.accounts.map((a) => a.username).sort()).toEqual([ALICE, CAROL]);
    expect(s.accounts.every((a) => a.state.kind === 'signed-in')).toBe(true);
  });

  it('inbox without --account prints one line per account', async () => {
    const r = await stack.cli(['inbox']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^alice@contoso\.example {2}Inbox 4,817 items \(23 unread\) via EWS/);
    expect(lines[1]).toMatch(/^carol@contoso\.example {2}Inbox 230 items \(7 unread\) via EWS/);
    const counts = await stack.json<InboxCount[]>(['inbox']);
    expect(counts.map((c) => [c.account, c.unread]).sort()).toEqual([[ALICE, 23], [CAROL, 7]]);
    expect((await stack.json<InboxCount>(['inbox', '--account', CAROL])).total).toBe(230);
  });

  it('token without --account asks which one (exit 2, naming both); with it, answers', async () => {
    const r = await stack.cli(['token']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 accounts are signed in; say which one.');
    expect(r.stderr).toMatch(/--account: (alice|carol)@contoso\.example, (alice|carol)@contoso\.example/);
    expect((await stack.json<{ account: string }>(['token', '--account', CAROL])).account).toBe(CAROL);
    const carolOnly = await stack.json<TokensViewResult>(['tokens', '--account', CAROL]);
    expect(carolOnly.entries.length).toBeGreaterThan(0);
    expect(carolOnly.entries.every((e) => e.username === undefined || e.username === CAROL)).toBe(true);
  });

  it("signing one out leaves the other's tokens, count and renewal untouched, across a restart", async () => {
    const alice = (s: StatusResult) => s.accounts.find((a) => a.username === ALICE)!;
    const before = alice(await stack.json<StatusResult>(['status']));
    const aliceTokens = (await stack.json<TokensViewResult>(['tokens', '--account', ALICE])).entries.map((e) => e.key).sort();
    expect(await stack.json(['logout', '--account', CAROL])).toEqual({ removed: [CAROL] });
    const after = await stack.json<StatusResult>(['status']);
    expect(after.accounts.map((a) => a.username)).toEqual([ALICE]);
    expect(alice(after)).toMatchObject({ state: { kind: 'signed-in' }, nextRefreshAt: before.nextRefreshAt, accessTokens: before.accessTokens, inbox: { unread: 23 } });
    expect((await stack.json<TokensViewResult>(['tokens', '--account', ALICE])).entries.map((e) => e.key).sort()).toEqual(aliceTokens);
    await stack.stopDaemon();
    const restarted = await stack.json<StatusResult>(['status']);
    expect(restarted.accounts.map((a) => a.username)).toEqual([ALICE]);
    expect((await stack.json<{ account: string }>(['token', '--force-refresh'])).account).toBe(ALICE);
  });
});

// The daemon as a user meets it: signed in once through the CLI against the emulator, it counts
// the inbox, survives a restart without a new consent, and refuses forged or replayed Reply URLs.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { startStack, type Stack } from '../support/stack';

describe('signing in and staying signed in', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.close());

  it('says nobody is signed in, with exit code 3, before any consent', async () => {
    const r = await stack.cli(['inbox']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Nobody is signed in/);
    expect(r.stderr).toMatch(/ews-daemon consent/);
  });

  it('counts the inbox after one consent', async () => {
    await stack.signIn();
    const count = await stack.json<InboxCount>(['inbox']);
    expect(count).toMatchObject({ account: 'alice@contoso.example', total: 4817, unread: 23, backend: 'ews' });
    const human = await stack.cli(['inbox']);
    expect(human.stdout).toMatch(/^alice@contoso\.example {2}Inbox 4,817 items \(23 unread\) via EWS, fetched \d+ s ago; token renews in \d+/);
  });

  it('keeps the token cache private: 0600 file in a 0700 folder', async () => {
    const file = await fs.stat(path.join(stack.home, 'token-cache.json'));
    expect(file.mode & 0o777).toBe(0o600);
    expect((await fs.stat(stack.home)).mode & 0o077).toBe(0);
    const cache = await fs.readFile(path.join(stack.home, 'token-cache.json'), 'utf8');
    expect(Object.keys(JSON.parse(cache))).toEqual(expect.arrayContaining(['Account', 'RefreshToken', 'AccessToken']));
  });

  it('is still signed in after the daemon restarts, with no new consent', async () => {
    const before = stack.emulator.admin.stats().authorizeRequests;
    await stack.stopDaemon();
    stack.emulator.admin.setMailbox('alice@contoso.example', { total: 4818, unread: 24 });
    const count = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(count).toMatchObject({ total: 4818, unread: 24 });
    expect(stack.emulator.admin.stats().authorizeRequests).toBe(before);
    const status = await stack.json<StatusResult>(['status']);
    expect(status.accounts[0]?.state.kind).toBe('signed-in');
  });

  it('refuses a replayed Reply URL (state is single use)', async () => {
    const begun = await stack.json<{ authUrl: string }>(['consent', 'begin']);
    const reply = await stack.followAuthUrl(begun.authUrl);
    await stack.json(['consent', 'complete', reply]);
    const again = await stack.cli(['consent', 'complete', reply, '--json']);
    expect(again.code).toBe(3);
    expect(JSON.parse(again.stdout).error.data.code).toBe('consent_expired');
  });

  it('refuses a forged Reply URL: wrong state, wrong origin, wrong path', async () => {
    const begun = await stack.json<{ authUrl: string; redirectUri: string; state: string }>(['consent', 'begin']);
    const forged = `${begun.redirectUri}?code=stolen&state=not-the-state`;
    const r1 = await stack.cli(['consent', 'complete', forged, '--json']);
    expect(JSON.parse(r1.stdout).error.data.code).toBe('consent_expired');
    const elsewhere = begun.redirectUri.replace('localhost', '127.0.0.1');
    const r2 = await stack.cli(['consent', 'complete', `${elsewhere}?code=x&state=${begun.state}`, '--json']);
    expect(JSON.parse(r2.stdout).error.data.code).toBe('redirect_invalid');
    const r3 = await stack.cli(['consent', 'complete', `${begun.redirectUri}/../evil?code=x&state=${begun.state}`, '--json']);
    expect(JSON.parse(r3.stdout).error.data.code).toBe('redirect_invalid');
    // The genuine session survived the forgeries.
    const reply = await stack.followAuthUrl(begun.authUrl);
    const done = await stack.json<{ kind: string }>(['consent', 'complete', reply]);
    expect(done.kind).toBe('signed-in');
  });

  it('explains a user who is not assigned to the app (AADSTS50105)', async () => {
    const begun = await stack.json<{ authUrl: string }>(['consent', 'begin', '--login-hint', 'bob@contoso.example']);
    const reply = await stack.followAuthUrl(begun.authUrl);
    const r = await stack.cli(['consent', 'complete', reply]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/AADSTS50105/);
    expect(r.stderr).toMatch(/administrator must assign you/i);
  });

  it('never shows token strings in the viewer', async () => {
    const token = (await stack.cli(['token'])).stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const view = await stack.cli(['tokens']);
    expect(view.code).toBe(0);
    expect(view.stdout).toMatch(/access-token/);
    expect(view.stdout).not.toContain(token);
    const cache = JSON.parse(await fs.readFile(path.join(stack.home, 'token-cache.json'), 'utf8')) as Record<string, Record<string, { secret?: string }>>;
    for (const section of Object.values(cache)) for (const e of Object.values(section)) if (e.secret) expect(view.stdout).not.toContain(e.secret);
  });
});

// The CLI's own consent, without the extension: --listen serves the Reply URL's loopback port for
// one request and tells the browser it may close the tab; --paste reads the Reply URL from
// stdin; --admin builds the tenant-wide admin-consent URL; a tenant that needs an administrator
// answers with the admin-consent link.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult } from '../../shared/protocol';
import { REPO, consentByPaste, startStack, type Stack } from '../support/stack';
import { freePort } from '../support/free-port';
import { waitUntil } from '../support/wait';

describe('consent from the command line', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    // Entra (and the emulator) ignore the port of a localhost Reply URL when matching it.
    await stack.writeConfig({ redirectUri: `http://localhost:${await freePort()}/callback` });
  });
  afterAll(async () => stack?.close());

  it('--listen opens the browser, catches the Reply URL and tells the browser it may close the tab', async () => {
    const out = path.join(stack.home, 'browser-page.html');
    const r = await stack.cli(['consent', '--listen'], { env: { BROWSER: path.join(REPO, 'test/support/fake-browser.mjs'), FAKE_BROWSER_OUT: out } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Open this address to sign in:\n\n {2}https:\/\/localhost:\d+\/.*\/oauth2\/v2\.0\/authorize\?/);
    expect(r.stdout).toMatch(/^Signed in as alice@contoso\.example/);
    // The stand-in browser writes the page it was shown after the CLI has already answered.
    const page = (await waitUntil('the page the browser was shown', () => fs.readFile(out, 'utf8').catch(() => null), (t) => t !== null))!;
    expect(page).toMatch(/^200\n/);
    expect(page).toMatch(/You may close this tab/);
  });

  it('--paste reads the Reply URL the user pastes (the first line that is not blank)', async () => {
    const r = await consentByPaste(stack, 'alice@contoso.example', { before: '\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Signed in as alice@contoso\.example/);
  });

  it('answers a tenant that needs an administrator with the admin-consent link, and --admin unlocks it', async () => {
    stack.emulator.admin.requireAdminConsent(true);
    const signIn = async () => {
      const begun = await stack.json<{ authUrl: string }>(['consent', 'begin', '--login-hint', 'alice@contoso.example']);
      return stack.cli(['consent', 'complete', await stack.followAuthUrl(begun.authUrl), '--json']);
    };
    const refused = JSON.parse((await signIn()).stdout).error.data;
    expect(refused.code).toBe('admin_consent_required');
    expect(refused.link).toMatch(/\/v2\.0\/adminconsent\?client_id=/);
    expect((await stack.json<StatusResult>(['status'])).pendingConsents).toBe(0);

    const begun = await stack.json<{ authUrl: string; admin: boolean }>(['consent', 'begin', '--admin']);
    expect(begun.admin).toBe(true);
    expect(new URL(begun.authUrl).pathname).toMatch(/\/v2\.0\/adminconsent$/);
    const reply = await stack.followAuthUrl(`${begun.authUrl}&login_hint=admin%40contoso.example`);
    const done = await stack.json<{ kind: string; tenant: string }>(['consent', 'complete', reply]);
    expect(done).toEqual({ kind: 'admin-consented', tenant: stack.emulator.tenantId });
    expect(JSON.parse((await signIn()).stdout).kind).toBe('signed-in');
  });
});

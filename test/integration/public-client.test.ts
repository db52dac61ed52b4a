// A public client: a config with no secret and no certificate signs in through the Reply URL of
// the "Mobile and desktop applications" platform with PKCE alone (--listen and --paste), renews
// its tokens without a credential across a daemon restart with no secret anywhere on disk, and a
// registration that does not fit the config answers Entra's AADSTS with advice that fixes it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult, TokensViewResult } from '../../shared/protocol';
import { REPO, consentByPaste, startStack, type Stack } from '../support/stack';
import { freePort } from '../support/free-port';

interface RpcFailure {
  error: { data: { code: string; aadsts?: number; advice: string } };
}

describe('a public client (no secret, no certificate)', () => {
  let stack: Stack;
  let redirectUri: string;
  beforeAll(async () => {
    stack = await startStack();
    redirectUri = `http://localhost:${await freePort()}`;
    await stack.writeConfig({ clientSecret: undefined, redirectUri });
  });
  afterAll(async () => stack?.close());

  it('signs in with --listen, and status says it is a public client', async () => {
    const r = await stack.cli(['consent', '--listen'], { env: { BROWSER: path.join(REPO, 'test/support/fake-browser.mjs'), FAKE_BROWSER_OUT: path.join(stack.home, 'page.html') } });
    expect(r.stderr).toContain(`redirect_uri=${encodeURIComponent(redirectUri)}`);
    expect(r.stdout).toMatch(/^Signed in as alice@contoso\.example/);
    expect(r.code).toBe(0);
    const status = await stack.json<StatusResult>(['status']);
    expect(status.client).toEqual({ kind: 'public', credential: 'none', clientId: stack.emulator.clientId });
    expect((await stack.cli(['status'])).stdout).toContain('a public client (no secret: PKCE alone)');
    // Entra marks a token got without client authentication with appidacr 0.
    const view = await stack.json<TokensViewResult>(['tokens']);
    const access = view.entries.filter((e) => e.kind === 'access-token');
    expect(access.length).toBeGreaterThan(0);
    for (const e of access) expect(e.jwt?.claims.appidacr).toBe('0');
  });

  it('renews its tokens after a restart with no secret anywhere on disk', async () => {
    await stack.stopDaemon();
    const files = await fs.readdir(stack.home, { recursive: true });
    for (const f of files) {
      const text = await fs.readFile(path.join(stack.home, f), 'utf8').catch(() => '');
      expect(text, f).not.toContain(stack.emulator.clientSecret);
    }
    expect(JSON.parse(await fs.readFile(stack.configFile, 'utf8'))).not.toHaveProperty('clientSecret');
    const before = stack.emulator.admin.stats().tokenRequests.refresh_token;
    const token = await stack.json<{ account: string; expiresOn: number }>(['token', '--force-refresh']);
    expect(token.account).toBe('alice@contoso.example');
    expect(stack.emulator.admin.stats().tokenRequests.refresh_token).toBe(before + 1);
    expect((await stack.cli(['inbox'])).stdout).toMatch(/^alice@contoso\.example {2}Inbox 4,817 items \(23 unread\)/);
  });

  it('signs in with --paste', async () => {
    expect((await stack.cli(['logout'])).code).toBe(0);
    const r = await consentByPaste(stack, 'alice@contoso.example');
    expect(r.authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(r.authUrl.searchParams.get('state')).toBeTruthy();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Signed in as alice@contoso\.example/);
  });

  /** Signs in through the daemon and returns its refusal. */
  async function refusal(): Promise<RpcFailure['error']['data']> {
    const begun = await stack.json<{ authUrl: string }>(['consent', 'begin', '--login-hint', 'alice@contoso.example']);
    const r = await stack.cli(['consent', 'complete', await stack.followAuthUrl(begun.authUrl), '--json']);
    expect(r.code).toBe(1);
    return (JSON.parse(r.stdout) as RpcFailure).error.data;
  }

  it('AADSTS7000218: a public client whose Reply URL is on the Web platform is told to add a secret or allow public client flows', async () => {
    await stack.stopDaemon();
    await stack.writeConfig({ clientSecret: undefined, redirectUri: stack.emulator.redirectUris[0] });
    const e = await refusal();
    expect(e).toMatchObject({ code: 'app_misconfigured', aadsts: 7000218 });
    expect(e.advice).toContain('Allow public client flows');
    expect(e.advice).toContain('Mobile and desktop applications');
    expect(e.advice).toContain('clientSecretFile');
  });

  it('AADSTS7000218 at a renewal: a grant made for the Web platform, renewed after the secret left the config, is retried as a configuration error', async () => {
    await stack.stopDaemon();
    await stack.writeConfig({ redirectUri: stack.emulator.redirectUris[0] });
    await stack.signIn();
    await stack.stopDaemon();
    await stack.writeConfig({ clientSecret: undefined, redirectUri: stack.emulator.redirectUris[0] });
    const r = await stack.cli(['token', '--force-refresh', '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as RpcFailure).error.data).toMatchObject({ code: 'app_misconfigured', aadsts: 7000218 });
    const alice = (await stack.json<StatusResult>(['status'])).accounts[0]!;
    // Not a lost grant: signing in again would not help, fixing the config does.
    expect(alice.state.kind).toBe('retrying');
    expect(alice.lastError).toMatchObject({ code: 'app_misconfigured', aadsts: 7000218 });
    expect(alice.lastError!.advice).toContain('Allow public client flows');
    await stack.cli(['logout']);
  });

  it('AADSTS700025: a confidential client whose Reply URL is on the Mobile and desktop platform is told to drop the secret', async () => {
    await stack.stopDaemon();
    await stack.writeConfig({ redirectUri });
    const e = await refusal();
    expect(e).toMatchObject({ code: 'app_misconfigured', aadsts: 700025 });
    expect(e.advice).toMatch(/Remove `clientSecret`, `clientSecretFile` or `certificate`/);
    const status = await stack.json<StatusResult>(['status']);
    expect(status.client).toMatchObject({ kind: 'confidential', credential: 'secret' });
  });
});

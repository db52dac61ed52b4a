// The MSAL client against the emulator with the real msal-node: a stopping daemon does not wait
// for a token request that hangs. The refresher's stop aborts its signal; MSAL takes none, so
// the client's own network aborts the request through Http, and the acquisition fails at once.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { startEmulator, type Emulator } from '../../../test/emulator/index';
import { follow, httpFor, pkce, type TestHttp } from '../../../test/emulator/test-kit';
import { FakeLog } from '../../../test/support/fakes';
import { waitUntil } from '../../../test/support/wait';
import { loadConfig } from '../config/load-config';
import { Refresher } from '../daemon/refresher';
import { systemClock } from '../io/clock';
import { MsalClient } from './msal-client';

/** MSAL's cache kept in memory: this test is about the network, not the cache file. */
class MemoryCache implements ICachePlugin {
  private text = '';
  async beforeCacheAccess(ctx: TokenCacheContext) {
    if (this.text) ctx.tokenCache.deserialize(this.text);
  }
  async afterCacheAccess(ctx: TokenCacheContext) {
    if (ctx.cacheHasChanged) this.text = ctx.tokenCache.serialize();
  }
}

describe('MsalClient', () => {
  let emulator: Emulator;
  let http: TestHttp;
  let dir: string;
  let msal: MsalClient;
  let accountId: string;

  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-msal-'));
    const file = path.join(dir, 'config.json');
    await fs.writeFile(file, JSON.stringify({ clientId: emulator.clientId, authority: emulator.authority, clientSecret: emulator.clientSecret, redirectUri: emulator.redirectUris[0], ewsUrl: emulator.ewsUrl, graphUrl: emulator.graphUrl }), { mode: 0o600 });
    msal = new MsalClient({ config: await loadConfig(file), http, log: new FakeLog(), cachePlugin: new MemoryCache() });
    const { verifier, challenge } = pkce();
    const reply = await follow(http, await msal.authCodeUrl({ state: 's1', nonce: 'n1', codeChallenge: challenge }));
    const account = await msal.redeemCode({ code: reply.searchParams.get('code')!, codeVerifier: verifier, state: 's1', nonce: 'n1' });
    accountId = account.homeAccountId;
  });
  afterAll(async () => {
    emulator.admin.release();
    await http?.close();
    await emulator?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('ends a token request in flight when its signal aborts, and the refresher’s stop does not wait for it', async () => {
    emulator.admin.hold('token');
    const refresher = new Refresher({ clock: systemClock, log: new FakeLog(), source: msal });
    refresher.track(accountId, ['ews']);
    const asked = refresher.getToken(accountId, 'ews', { forceRefresh: true }).catch((e: unknown) => e);
    await waitUntil('the refresh to reach the token endpoint', async () => emulator.admin.heldRequests('token'), (n) => n === 1);
    await refresher.stop();
    // The request is gone from the server's side too: the client hung up.
    await waitUntil('the held request to be hung up', async () => emulator.admin.heldRequests('token'), (n) => n === 0);
    expect(await asked).toBeInstanceOf(AppError);
  });

  it('refuses to start an acquisition whose signal already aborted', async () => {
    const stopped = AbortSignal.abort(new AppError('transient', 'The daemon is stopping.', { advice: '', retryable: true }));
    await expect(msal.acquire(accountId, 'ews', { forceRefresh: true, signal: stopped })).rejects.toMatchObject({ code: 'transient', message: 'The daemon is stopping.' });
  });
});

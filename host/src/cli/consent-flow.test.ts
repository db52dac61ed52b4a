// The --listen listener's deadline runs on the CLI's clock: nobody back in time is consent_expired,
// and a sign-in that came back leaves no wait behind. Real loopback sockets, a fake clock.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock';
import { freePort } from '../../../test/support/free-port';
import { waitUntil } from '../../../test/support/wait';
import { listenForReply } from './consent-flow';

const TEN_MINUTES = 10 * 60_000;

describe('listenForReply', () => {
  it('gives up with consent_expired when nobody comes back before the sign-in expires, and frees the port', async () => {
    const clock = new FakeClock();
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const outcome = listenForReply(clock, redirectUri, 'the-state', clock.now() + TEN_MINUTES, async () => 'done', (r) => r).then(
      () => null,
      (e: unknown) => e,
    );
    await waitUntil('the deadline wait', async () => clock.pending, (n) => n === 1);
    await clock.advance(TEN_MINUTES - 1);
    expect((await fetch(`${redirectUri}?state=other`)).status).toBe(400); // still listening
    await clock.advance(1);
    expect(await outcome).toMatchObject({ code: 'consent_expired' });
    await expect(fetch(`${redirectUri}?state=the-state`)).rejects.toThrow(); // nobody listens any more
  });

  it('hands over the Reply URL that carries the state and leaves no wait behind', async () => {
    const clock = new FakeClock();
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const got: string[] = [];
    const outcome = listenForReply(clock, redirectUri, 'the-state', clock.now() + TEN_MINUTES, async (url) => (got.push(url), 'alice'), (r) => `Signed in as ${r}`);
    await waitUntil('the deadline wait', async () => clock.pending, (n) => n === 1);
    const page = await fetch(`${redirectUri}?code=c&state=the-state`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in as alice');
    expect(await outcome).toBe('alice');
    expect(got).toEqual([`${redirectUri}?code=c&state=the-state`]);
    await clock.settle();
    expect(clock.pending).toBe(0);
  });
});

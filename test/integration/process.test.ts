// The daemon as a process: one per user even when two start at once, broken configs refused
// with the key, the file and the fix, and the token cache intact after repeated kill -9 in the
// middle of refreshes.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount } from '../../shared/protocol';
import { alive, LAUNCHER, startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/wait';

function runDaemon(env: Record<string, string>): Promise<{ code: number | null; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAUNCHER, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/listening on/.test(stderr)) resolve({ code: null, stderr, pid: child.pid! });
    });
    child.on('close', (code) => resolve({ code, stderr, pid: child.pid! }));
  });
}

describe('the daemon process', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.close());

  it('runs once per user: of two started at once, one serves and the other names it', async () => {
    const [a, b] = await Promise.all([runDaemon(stack.env), runDaemon(stack.env)]);
    const serving = [a, b].filter((r) => r.code === null);
    const refused = [a, b].filter((r) => r.code !== null);
    expect(serving).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.code).toBe(1);
    expect(refused[0]!.stderr).toContain(`already running (pid ${serving[0]!.pid})`);
    await stack.stopDaemon();
    expect(alive(serving[0]!.pid)).toBe(false);
    await expect(fs.stat(path.join(stack.home, 'daemon.sock'))).rejects.toThrow();
  });

  it('keeps the cache readable and the account signed in through repeated kill -9 mid-refresh', async () => {
    await stack.signIn();
    for (let i = 0; i < 6; i++) {
      // The refresh is held at the token endpoint until the daemon is waiting on it; then the
      // daemon is killed either while it waits (even rounds) or just as the answer arrives and
      // MSAL writes the cache (odd rounds).
      stack.emulator.admin.hold('token');
      const refreshes = Array.from({ length: 4 }, () => stack.cli(['token', '--force-refresh']));
      try {
        await waitUntil('a refresh at the token endpoint', async () => stack.emulator.admin.heldRequests('token'), (n) => n > 0, 60_000);
        if (i % 2 === 1) stack.emulator.admin.release('token');
        await stack.stopDaemon('SIGKILL');
      } finally {
        stack.emulator.admin.release('token');
      }
      await Promise.all(refreshes);
      const cache = await fs.readFile(path.join(stack.home, 'token-cache.json'), 'utf8');
      expect(() => JSON.parse(cache)).not.toThrow();
    }
    const count = await stack.json<InboxCount>(['inbox', '--max-age', '0']);
    expect(count.total).toBe(4817);
  }, 240_000);
});

describe('config mistakes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.close());

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a missing clientId', { clientId: undefined }, /"clientId"/],
    ['two credentials', { clientSecretFile: 'secret.txt' }, /clientSecret.*clientSecretFile|one credential/is],
    ['a non-https authority', { authority: 'http://login.example.com/x' }, /"authority" must be an https URL/],
    ['an unknown key, with a suggestion', { clientID: 'x' }, /"clientID".*did you mean "clientId"/is],
    ['a bad backend', { backend: 'imap' }, /"backend"/],
  ];
  for (const [what, extra, message] of cases) {
    it(`refuses ${what}, naming the key and the file`, async () => {
      await stack.writeConfig(extra);
      const r = await stack.cli(['run']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(stack.configFile);
      // A daemon started in the background has no terminal: the log says why it did not start.
      const log = await fs.readFile(path.join(stack.home, 'daemon.log'), 'utf8');
      const last = JSON.parse(log.trim().split('\n').pop()!) as { msg: string; error: string };
      expect(last.msg).toBe('cannot start');
      expect(last.error).toMatch(message);
    });
  }

  it('refuses a config holding a secret that others can read, with the chmod that fixes it', async () => {
    await stack.writeConfig({});
    await fs.chmod(stack.configFile, 0o644);
    const r = await stack.cli(['run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`chmod 600 '${stack.configFile}'`);
    expect(r.stderr).not.toContain(stack.emulator.clientSecret);
  });
});

// `ews-daemon doctor` on a real setup: every check passes for a signed-in daemon with the host
// installed into a browser profile, and a planted mistake fails its line with the fix.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack';

describe('doctor', () => {
  let stack: Stack;
  let profile: string;
  // A home of its own: doctor checks every browser whose folder exists in the user's home.
  const doctor = () => stack.cli(['doctor', '--user-data-dir', profile], { env: { HOME: path.join(stack.home, 'user') } });
  beforeAll(async () => {
    stack = await startStack();
    await stack.signIn();
    profile = path.join(stack.home, 'profile');
    await fs.mkdir(path.join(stack.home, 'user'));
    const r = await stack.cli(['install', '--user-data-dir', profile], { env: { HOME: path.join(stack.home, 'user') } });
    expect(r.code).toBe(0);
  });
  afterAll(async () => stack?.close());

  it('passes every check on a working setup', async () => {
    const r = await doctor();
    expect(r.stdout, r.stdout).not.toMatch(/FAIL/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/config/i);
    expect(r.stdout).toMatch(/EWS/);
  });

  it('finds a token cache others can read, and says how to fix it', async () => {
    const cache = path.join(stack.home, 'token-cache.json');
    await fs.chmod(cache, 0o644);
    try {
      const r = await doctor();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL.*token cache.*fix: .*chmod 600/i);
    } finally {
      await fs.chmod(cache, 0o600);
    }
  });
});

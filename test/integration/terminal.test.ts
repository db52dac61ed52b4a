// The CLI in a pipe and on a terminal, as real processes against the emulator: a reader that has
// gone (`ews-daemon tokens | head`) ends the command quietly with its own exit code, and text the
// server or tenant supplies (a display name, an error_description, an EWS MessageText) reaches
// the terminal without control characters, while --json keeps every value exact.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult, TokensViewResult } from '../../shared/protocol';
import { LAUNCHER, startStack, type Stack } from '../support/stack';

/** What must never reach a terminal raw: C0 but tab and newline, DEL, C1, bidi controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** A display name as a hostile tenant could set it: clear screen (ESC and 8-bit CSI), a bidi override. */
const EVIL_NAME = 'Mal\u001b[2Jlory \u009b31mRed\u202eevil';
const MALLORY = 'mallory@contoso.example';

/**
 * Runs the CLI with its standard output on a pipe that has no reader left, so its first write
 * already fails with EPIPE: the `| head` case made certain. (A reader that closes after the first
 * chunk may see the whole of a small output already buffered in the pipe, and prove nothing.)
 */
async function runIntoClosedPipe(stack: Stack, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const fifo = path.join(stack.home, `pipe-${process.hrtime.bigint()}`);
  execFileSync('mkfifo', [fifo]);
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  fs.closeSync(reader); // the reader leaves before the command has printed anything
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: stack.env, stdio: ['ignore', writer, 'pipe'] });
  fs.closeSync(writer); // the child holds its own copy
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  fs.rmSync(fifo, { force: true });
  return { code, signal, stderr };
}

describe('the CLI in a pipe and on a terminal', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    stack.emulator.admin.addUser({ username: MALLORY, name: EVIL_NAME });
    await stack.signIn(MALLORY);
  });
  afterAll(async () => stack?.close());

  it.each([
    ['tokens', ['tokens'], 0],
    ['tokens --json', ['tokens', '--json'], 0],
    ['status', ['status'], 0],
    ['--help', ['--help'], 0],
  ])('`%s` into a pipe whose reader has gone ends quietly with the command’s own exit code', async (_name, args, expected) => {
    const r = await runIntoClosedPipe(stack, args);
    expect(r.stderr).toBe('');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: expected, signal: null });
  });

  it('a display name with ESC, 8-bit CSI and a bidi override is printed without them; --json keeps it exact', async () => {
    const human = await stack.cli(['tokens']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/"name": "Mal\\u001b\[2Jlory 31mRedevil"/); // ESC as JSON.stringify's visible escape, U+009B and U+202E gone
    expect(human.stdout).not.toMatch(UNSAFE);

    const json = await stack.cli(['tokens', '--json']);
    expect(json.stdout).not.toMatch(UNSAFE);
    const view = JSON.parse(json.stdout) as TokensViewResult;
    const names = view.entries.map((e) => e.jwt?.claims.name).filter((n) => n !== undefined);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toBe(EVIL_NAME);
  });

  it('an error_description with ESC and 8-bit CSI reaches the terminal without them, on stderr and in status', async () => {
    const description = 'Due to a \u001b[2Jpolicy\u009b31m change made by your administrator, you must use multi-factor authentication.';
    stack.emulator.admin.failToken({ kind: 'aadsts', status: 400, error: 'invalid_grant', aadsts: 50076, description });
    const refused = await stack.cli(['token', '--account', MALLORY, '--force-refresh']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('Due to a [2Jpolicy31m change made by your administrator');
    expect(refused.stderr).not.toMatch(UNSAFE);

    const status = await stack.cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/NEEDS SIGN-IN[\s\S]*Due to a \[2Jpolicy31m change/);
    expect(status.stdout).not.toMatch(UNSAFE);

    const json = await stack.cli(['status', '--json']);
    expect(json.stdout).not.toMatch(UNSAFE);
    const account = (JSON.parse(json.stdout) as StatusResult).accounts.find((a) => a.username === MALLORY);
    expect(account?.state.kind === 'needs-consent' && account.state.error.message).toContain('Due to a \u001b[2Jpolicy\u009b31m change');
  });

  it('an EWS MessageText with 8-bit CSI and a bidi override is printed without them', async () => {
    await stack.signIn(MALLORY); // the previous test left the account needing sign-in
    stack.emulator.admin.failEws({ kind: 'error-message', responseCode: 'ErrorAccessDenied', messageText: 'Access \u009b2Jis\u202e denied.' }, 1);
    const r = await stack.cli(['inbox', '--account', MALLORY, '--max-age', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('EWS answered ErrorAccessDenied: Access 2Jis denied.');
    expect(r.stderr).not.toMatch(UNSAFE);
  });
});

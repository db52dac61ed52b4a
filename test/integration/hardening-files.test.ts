// A daemon a hostile machine cannot subvert or stall, through its files: a state folder others
// can write is refused (not repaired), a planted log link is never followed, a zombie holds no
// lock, a daemon that will not start says why in its log (and never "sonic boom is not ready"),
// logout takes the corrupt cache copies with it, and a full disk (a real tmpfs) stalls nothing.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxCount, StatusResult } from '../../shared/protocol';
import { alive, REPO, startStack, type Stack } from '../support/stack';
import { canMountTmpfs, mountTmpfs, unmount } from '../support/tmpfs';
import { waitUntil } from '../support/wait';


describe('the state folder and what is planted in it', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.close());

  it('refuses a state folder others can write, naming the fix, and leaves its mode alone', async () => {
    await fs.chmod(stack.home, 0o777);
    try {
      const r = await stack.cli(['run']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the folder ${stack.home} can be changed by other users (mode 0777); fix: chmod go-w '${stack.home}'`);
      expect((await fs.stat(stack.home)).mode & 0o777).toBe(0o777);
      // A command that would start the daemon says so at once, rather than "unreachable" later.
      const status = await stack.cli(['status']);
      expect(status.code).toBe(1);
      expect(status.stderr).toContain(`fix: chmod go-w '${stack.home}'`);
    } finally {
      await fs.chmod(stack.home, 0o700);
    }
  });

  it('refuses a daemon.log planted as a symbolic link, and never writes to its target', async () => {
    const target = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-target-')), 'victim');
    await fs.writeFile(target, 'untouched\n');
    await fs.rm(path.join(stack.home, 'daemon.log'), { force: true });
    await fs.symlink(target, path.join(stack.home, 'daemon.log'));
    try {
      const r = await stack.cli(['run']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${path.join(stack.home, 'daemon.log')} is a symbolic link`);
      expect(r.stderr).toContain(`rm '${path.join(stack.home, 'daemon.log')}'`);
      expect(await fs.readFile(target, 'utf8')).toBe('untouched\n');
    } finally {
      await fs.rm(path.join(stack.home, 'daemon.log'), { force: true });
      await fs.rm(path.dirname(target), { recursive: true, force: true });
    }
  });

  it('the native host never writes its log lines through a daemon.log planted as a link', async () => {
    await stack.cli(['status']); // the daemon runs, its own log already open
    const log = path.join(stack.home, 'daemon.log');
    const target = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-target-')), 'victim');
    await fs.writeFile(target, 'untouched\n');
    await fs.rename(log, `${log}.real`);
    await fs.symlink(target, log);
    try {
      // An extension the daemon refuses: the native host logs a warning, then exits 1.
      const host = spawn(process.execPath, [path.join(REPO, 'host', 'dist', 'native-host.mjs'), 'chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/'], { env: { ...stack.env, EWS_DAEMON_DEBUG: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      host.stderr.on('data', (d) => (stderr += d));
      expect(await new Promise((r) => host.on('close', r))).toBe(1);
      expect(stderr).toMatch(/refused the caller/);
      expect(await fs.readFile(target, 'utf8')).toBe('untouched\n');
    } finally {
      await fs.rm(log, { force: true });
      await fs.rename(`${log}.real`, log);
      await fs.rm(path.dirname(target), { recursive: true, force: true });
    }
  });

  it('never changes the mode of the folder a linked EWS_DAEMON_HOME points to', async () => {
    const target = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-linked-'));
    const link = `${target}-link`;
    await fs.chmod(target, 0o755);
    await fs.copyFile(stack.configFile, path.join(target, 'config.json'));
    await fs.symlink(target, link);
    try {
      const r = await stack.cli(['status', '--json'], { env: { EWS_DAEMON_HOME: link } });
      expect(r.code).toBe(0);
      expect((await fs.stat(target)).mode & 0o7777).toBe(0o755);
    } finally {
      const pid = Number(await fs.readFile(path.join(target, 'daemon.pid'), 'utf8').catch(() => '0'));
      if (pid) process.kill(pid, 'SIGTERM');
      if (pid) await waitUntil('the linked daemon to stop', async () => alive(pid), (a) => !a);
      await fs.rm(link, { force: true });
      await fs.rm(target, { recursive: true, force: true });
    }
  });

  it('names the config mistake every time, never "sonic boom is not ready yet" (a missing config: every run)', async () => {
    const aside = `${stack.configFile}.aside`;
    await fs.rename(stack.configFile, aside);
    try {
      const missing = await Promise.all(Array.from({ length: 4 }, () => stack.cli(['run'])));
      await fs.rename(aside, stack.configFile);
      await stack.writeConfig({ backend: 'imap' });
      const invalid = await Promise.all(Array.from({ length: 4 }, () => stack.cli(['run'])));
      for (const [r, mistake] of [...missing.map((r) => [r, /no config file there/] as const), ...invalid.map((r) => [r, /"backend"/] as const)]) {
        expect(r.stderr).not.toMatch(/sonic boom/i);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(mistake);
      }
    } finally {
      await fs.rename(aside, stack.configFile).catch(() => undefined);
      await stack.writeConfig({});
    }
  });

  it('says in its log why a second daemon would not start', async () => {
    await stack.cli(['status']); // starts the daemon
    const r = await stack.cli(['run']);
    expect(r.code).toBe(1);
    const lines = (await fs.readFile(path.join(stack.home, 'daemon.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { msg: string; error?: string });
    expect(lines.some((l) => l.msg === 'cannot start' && /already running \(pid \d+\)/.test(l.error ?? ''))).toBe(true);
  });

  it('takes over the lock of a zombie (exited, not reaped) instead of failing as "already running"', async () => {
    await stack.stopDaemon();
    // `sh` starts a short `sleep` in the background and becomes a long one, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(d.toString().trim()))));
      await waitUntil(`process ${pid} to be a zombie`, () => fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''), (s) => s.includes(') Z '));
      const record = { pid, hostname: os.hostname(), acquiredAt: Date.now(), token: 'ab'.repeat(16) };
      await fs.writeFile(path.join(stack.home, 'daemon.lock'), JSON.stringify(record), { mode: 0o600 });
      const r = await stack.cli(['status', '--json']);
      expect(r.stderr).toBe('');
      expect((JSON.parse(r.stdout) as StatusResult).daemon.pid).not.toBe(pid);
    } finally {
      parent.kill();
    }
  });

  it('removes the corrupt cache copies that hold the account on logout', async () => {
    await stack.signIn();
    const copy = path.join(stack.home, 'token-cache.json.corrupt-20261130T010203000Z');
    const stray = path.join(stack.home, 'token-cache.json.corrupt-20261130T010204000Z');
    await fs.writeFile(copy, '{"Account":{"x":{"username":"alice@contoso.example","secret":"rt-alice', { mode: 0o600 });
    await fs.writeFile(stray, '\u0000garbled', { mode: 0o600 });
    const r = await stack.cli(['logout']);
    expect(r.stdout).toContain('Signed out alice@contoso.example');
    await expect(fs.stat(copy)).rejects.toThrow(/ENOENT/);
    await expect(fs.stat(stray)).rejects.toThrow(/ENOENT/); // nobody is left signed in: no copy is kept
  });
});

// A real full disk: a 1 MiB tmpfs as the state folder, where one can be mounted (root, as in
// CI); host/src/io/log.test.ts injects ENOSPC where not.
describe.runIf(canMountTmpfs)(`a full disk${canMountTmpfs ? '' : ' (skipped: mounting a tmpfs needs root)'}`, () => {
  let stack: Stack;
  let mount: string;
  const filler = () => path.join(mount, 'filler');
  beforeAll(async () => {
    stack = await startStack();
    mount = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-tmpfs-'));
    mountTmpfs(mount, '1m');
    await fs.copyFile(stack.configFile, path.join(mount, 'config.json'));
    stack.env.EWS_DAEMON_HOME = mount;
    await stack.signIn();
  });
  afterAll(async () => {
    const pid = Number(await fs.readFile(path.join(mount, 'daemon.pid'), 'utf8').catch(() => '0'));
    if (pid) {
      process.kill(pid, 'SIGKILL');
      await waitUntil('the daemon to exit', async () => alive(pid), (a) => !a);
    }
    if (mount) unmount(mount);
    await stack?.close();
  });

  const status = async () => {
    const r = await stack.cli(['status', '--json']);
    return JSON.parse(r.stdout) as StatusResult;
  };

  it('keeps answering status and inbox, says logging is paused, and catches up once space returns', { timeout: 180_000 }, async () => {
    // Fill the disk to the last block.
    await fs.writeFile(filler(), Buffer.alloc(4 * 1024 * 1024)).catch((e: NodeJS.ErrnoException) => expect(e.code).toBe('ENOSPC'));
    const cacheBefore = (await fs.stat(path.join(mount, 'token-cache.json'))).mtimeMs;
    // Each forced refresh writes the cache (which fails at once: a new file needs a new page) and
    // logs (which may still fill the log's last page): refresh until the log has no room either.
    const paused = await waitUntil('status to say logging is paused', async () => {
      const t = await stack.cli(['token', '--force-refresh']);
      expect(t.code).toBe(0);
      expect(t.stdout.trim()).toMatch(/^ey/);
      return status();
    }, (s) => s.daemon.logPaused !== undefined, 60_000);
    expect(paused.daemon.logPaused?.reason).toBe('ENOSPC');
    expect(paused.accounts[0]?.state.kind).toBe('signed-in');
    expect((await stack.cli(['status'])).stdout).toMatch(/Logging paused since .* \(ENOSPC: the disk is full; \d+ line\(s\) dropped\)/);
    const count = JSON.parse((await stack.cli(['inbox', '--max-age', '0', '--json'])).stdout) as InboxCount;
    expect(count).toMatchObject({ total: 4817, unread: 23 });
    // The tokens are in memory: a token is still handed out.
    expect((await stack.cli(['token'])).code).toBe(0);
    expect((await fs.stat(path.join(mount, 'token-cache.json'))).mtimeMs).toBe(cacheBefore);

    await fs.rm(filler());
    await waitUntil('logging to resume', status, (s) => s.daemon.logPaused === undefined, 30_000);
    const log = await fs.readFile(path.join(mount, 'daemon.log'), 'utf8');
    expect(log).toMatch(/"msg":"logging resumed".*"reason":"ENOSPC"/);
    // The cache write that failed is retried on the next use once space is back.
    await waitUntil('the token cache to be written again', async () => {
      await stack.cli(['token']);
      return (await fs.stat(path.join(mount, 'token-cache.json'))).mtimeMs;
    }, (m) => m > cacheBefore, 30_000);
  });
});

// Crash test of sealing a plain cache on first start: a child opens the store over a large plain
// cache (which seals it in place under the lock) and is killed with SIGKILL at a random moment.
// After every kill the file is the plain cache or the sealed one, both holding every entry; the
// next start gets the lock and finishes the job; at the end nothing is left but the sealed file.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCache } from '../../host/src/auth/cache-crypto';

const KILLS = 25;
/** Entries of ~1 KiB: a cache of a few MB, so a write takes long enough to be cut into. */
const ENTRIES = 4000;
const here = path.dirname(fileURLToPath(import.meta.url));

let dir: string;
let script: string;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'token-store-migrate-'));
  script = path.join(dir, 'bin', 'migrate-writer.mjs');
  await build({
    entryPoints: [path.join(here, 'migrate-writer.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: script,
    external: ['@napi-rs/keyring', '@azure/msal-node'],
    logLevel: 'error',
  });
});
afterAll(async () => {
  for (const c of running) c.kill('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

function plainCache(): string {
  const rt: Record<string, unknown> = {};
  for (let i = 0; i < ENTRIES; i++) rt[`entry-${i}`] = { secret: randomBytes(500).toString('hex') };
  return JSON.stringify({ Account: {}, RefreshToken: rt });
}

/** Starts the child; resolves once it says it is opening the store. */
function start(file: string, key: Buffer): Promise<{ child: ChildProcess; exited: Promise<string> }> {
  const child = spawn(process.execPath, [script, file, key.toString('hex')], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<string>((r) => child.once('exit', (code, signal) => (running.delete(child), r(signal ?? `${code}${err ? `: ${err}` : ''}`))));
  return new Promise((resolve) => child.stdout!.once('data', () => resolve({ child, exited })));
}

describe('sealing a plain cache under kill -9', () => {
  it('always leaves the whole cache, plain or sealed, and the start after each kill finishes the job', async () => {
    const state = path.join(dir, 'state');
    await fs.mkdir(state, { mode: 0o700 });
    const file = path.join(state, 'token-cache.json');
    const key = randomBytes(32);
    const text = plainCache();
    // How long one sealing takes here, unhurried: kills land across that span.
    await fs.writeFile(file, text, { mode: 0o600 });
    const timed = await start(file, key);
    const t0 = Date.now();
    expect(await timed.exited).toBe('0');
    const span = Date.now() - t0;
    const outcomes = { plain: 0, sealed: 0, tempLeft: 0 };
    for (let k = 0; k < KILLS; k++) {
      await fs.writeFile(file, text, { mode: 0o600 }); // an older version's plain cache
      const { child, exited } = await start(file, key);
      await new Promise((r) => setTimeout(r, Math.random() * span));
      child.kill('SIGKILL');
      expect(['SIGKILL', '0']).toContain(await exited);
      const opened = openCache(await fs.readFile(file), { key, source: 'file', where: 'test key' });
      expect(opened.kind === 'plain' || opened.kind === 'sealed').toBe(true);
      expect(opened.kind !== 'locked' && opened.kind !== 'damaged' && opened.text === text, `round ${k}: the cache is not whole`).toBe(true);
      outcomes[opened.kind as 'plain' | 'sealed']++;
      if ((await fs.readdir(state)).some((n) => n.endsWith('.tmp'))) outcomes.tempLeft++;
      // The next start, on what the kill left (a plain or sealed file, a stale lock, a temp), finishes the job.
      const again = await start(file, key);
      expect(await again.exited, `round ${k}: the start after the kill`).toBe('0');
      expect(openCache(await fs.readFile(file), { key, source: 'file', where: 'test key' }), `round ${k}: sealed and whole after the next start`).toEqual({ kind: 'sealed', text });
    }
    // Where the kills landed depends on the machine's speed: reported, not asserted.
    console.info(`migration kills: ${JSON.stringify(outcomes)} (tempLeft: killed mid-write)`);

    await fs.writeFile(file, text, { mode: 0o600 });
    const last = await start(file, key);
    expect(await last.exited).toBe('0');
    expect(openCache(await fs.readFile(file), { key, source: 'file', where: 'test key' })).toEqual({ kind: 'sealed', text });
    expect(await fs.readdir(state)).toEqual(['token-cache.json']);
  });
});

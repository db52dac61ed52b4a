// Ten browsers' native hosts started at once with no daemon running: each starts one, the lock
// lets exactly one serve, and every relay reaches that one.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXTENSION_ID } from '../../shared/constants';
import { buildRelay, RelayProcess, tempHome } from './helpers';

const LAUNCHER = path.join(import.meta.dirname, 'fixtures', 'fake-launcher.mjs');
let bundle: string;
let home: string;

beforeAll(async () => {
  bundle = await buildRelay();
  home = await tempHome('ews-race-');
});

afterAll(async () => {
  const journal = await fs.readFile(path.join(home, 'starts.log'), 'utf8').catch(() => '');
  for (const m of journal.matchAll(/serving (\d+)/g)) {
    try {
      process.kill(Number(m[1]), 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await fs.rm(home, { recursive: true, force: true });
});

it('starts exactly one daemon when ten native hosts start at once and none is running', async () => {
  const env = { ...process.env, EWS_DAEMON_HOME: home, EWS_DAEMON_LAUNCHER: LAUNCHER };
  const relays = Array.from({ length: 10 }, () => RelayProcess.start(bundle, [`chrome-extension://${EXTENSION_ID}/`], env));
  for (const r of relays) r.send({ jsonrpc: '2.0', id: 1, method: 'who' });
  const answers = await Promise.all(relays.map(async (r) => (await r.waitFrames(1))[0]));
  for (const r of relays) r.child.stdin.end();
  await Promise.all(relays.map((r) => r.exited));

  const journal = await fs.readFile(path.join(home, 'starts.log'), 'utf8');
  const serving = [...journal.matchAll(/serving (\d+)/g)].map((m) => Number(m[1]));
  expect(serving).toHaveLength(1);
  const pids = new Set(answers.map((a) => (a && 'result' in a ? (a.result as { pid: number }).pid : undefined)));
  expect([...pids]).toEqual(serving);
});

// A contender child for crash.test.ts (bundled by esbuild, run as plain node): prints `ready`,
// reads a common start moment (ms since the epoch) from stdin once every rival is ready, then
// takes the lock (finding a stale one left by a dead process, as all its rivals do at the same
// instant), journals `enter PID` / `exit PID` around a short hold, and exits.
// Arguments: lock file, journal file.
import { appendFileSync } from 'node:fs';
import { acquireLock } from '../../host/src/io/file-lock';

const [lockPath, journal] = process.argv.slice(2) as [string, string];
const HOLD_MS = 3;

process.stdout.write('ready\n');
const startAt = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())));
process.stdin.destroy();

await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now() - 5)));
while (Date.now() < Number(startAt)); // the last few ms busy, so all start together
const lock = await acquireLock(lockPath, { timeoutMs: 10_000, retryMs: 2 });
appendFileSync(journal, `enter ${process.pid}\n`);
await new Promise((r) => setTimeout(r, HOLD_MS));
appendFileSync(journal, `exit ${process.pid}\n`);
await lock.release();

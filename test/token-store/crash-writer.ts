// A writer child for crash.test.ts (bundled by esbuild, run as plain node): writes cache versions
// in a tight loop under the lock, journaling `enter PID` / `exit PID` around each write, until
// it is killed. Prints `ready` after its first write. Arguments: cache file, journal file, writer id.
import { appendFileSync } from 'node:fs';
import { writeFileAtomic } from '../../host/src/io/atomic-file';
import { acquireLock } from '../../host/src/io/file-lock';
import { cacheVersion } from './crash-version';

const [file, journal, writer] = process.argv.slice(2) as [string, string, string];

/** A short random pause after each release, as real writers have, so others get a turn. */
const pause = () => new Promise((r) => setTimeout(r, Math.random() * 3));

for (let seq = 0; ; seq++) {
  const text = cacheVersion(writer, seq);
  const lock = await acquireLock(`${file}.lock`, { timeoutMs: 20_000, retryMs: 2 });
  appendFileSync(journal, `enter ${process.pid}\n`);
  await writeFileAtomic(file, text);
  appendFileSync(journal, `exit ${process.pid}\n`);
  await lock.release();
  if (seq === 0) process.stdout.write('ready\n');
  await pause();
}

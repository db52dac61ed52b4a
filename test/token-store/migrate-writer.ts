// A child for migrate-crash.test.ts (bundled by esbuild, run as plain node): opens the token
// store over a plain cache with a key, which seals the file in place under the lock, and exits.
// Prints `opening` just before. Arguments: cache file, key (hex).
import type { Log } from '../../host/src/deps';
import { TokenStore } from '../../host/src/auth/token-store';

const [file, keyHex] = process.argv.slice(2) as [string, string];
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const key = { key: Buffer.from(keyHex, 'hex'), source: 'file' as const, where: 'test key' };
const store = new TokenStore({ file, log: quiet, lockTimeoutMs: 20_000, resolveKey: async () => ({ kind: 'key', key }) });
process.stdout.write('opening\n');
await store.readRaw();
process.stdout.write('done\n');

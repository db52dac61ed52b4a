// Builds the host's two bundles with esbuild: the full CLI/daemon (dependencies stay in
// node_modules) and the native-host relay (self-contained and small: it starts on every popup
// open, so it must load as little as possible). Then removes what an earlier build left in
// host/dist (chunks are named by hash), so `npm pack` carries only this build.
import { build } from 'esbuild';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: 'linked', logLevel: 'warning', metafile: true };
const results = await Promise.all([
  build({
    ...common,
    // Split so that what the daemon loads after its socket listens (MSAL) is not parsed at start.
    entryPoints: { 'ews-daemon': 'host/src/main.ts' },
    outdir: 'host/dist',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    packages: 'external',
    // msal-node and friends are CommonJS; let the ESM bundle require() them.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
  build({ ...common, entryPoints: ['host/src/native/main.ts'], outfile: 'host/dist/native-host.mjs', minify: true }),
  // The emulator runs as its own process for `npm run emulator`, the demo and the browser tests.
  build({ ...common, entryPoints: ['test/emulator/main.ts'], outfile: 'test/emulator/dist/emulator.mjs', packages: 'external' }),
]);

// Only files: a process started from an earlier build may still load its chunks until it ends.
const built = new Set(results.flatMap((r) => Object.keys(r.metafile.outputs)).map((f) => path.resolve(f)));
const leftovers = (await readdir('host/dist', { recursive: true, withFileTypes: true }))
  .filter((e) => e.isFile())
  .map((e) => path.resolve(e.parentPath, e.name))
  .filter((f) => !built.has(f));
await Promise.all(leftovers.map((f) => rm(f, { force: true })));

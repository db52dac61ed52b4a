// Builds the host's two bundles with esbuild: the full CLI/daemon (dependencies stay in
// node_modules) and the native-host relay (self-contained and small: it starts on every popup
// open, so it must load as little as possible).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: 'linked', logLevel: 'warning' };
await Promise.all([
  build({
    ...common,
    entryPoints: ['host/src/main.ts'],
    outfile: 'host/dist/ews-daemon.mjs',
    packages: 'external',
    // msal-node and friends are CommonJS; let the ESM bundle require() them.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
  build({ ...common, entryPoints: ['host/src/native/main.ts'], outfile: 'host/dist/native-host.mjs', minify: true }),
]);

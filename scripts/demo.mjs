// `npm run demo`: bundles scripts/demo.ts (which reuses the e2e harness) with esbuild into
// .tmp/demo/ and runs it. Node 20 runs no TypeScript by itself; the bundle stays inside the
// repository so that its imports (playwright-core, node-forge, …) resolve from node_modules.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(repo, '.tmp', 'demo', 'demo.mjs');
await build({
  entryPoints: [path.join(repo, 'scripts', 'demo.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
// The child gets Ctrl-C from the terminal itself (same process group) and cleans up; wait for it.
const child = spawn(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit', cwd: repo });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));

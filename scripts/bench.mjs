// `npm run bench`: bundles each test/bench/*.bench.ts with esbuild and runs it in its own
// process (so one benchmark's heap and timers don't colour another's), printing its figures.
// `npm run bench -- NAME` runs the benchmarks whose file name contains NAME.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { ensureBrowsers } from './browsers.mjs';

const filter = process.argv[2] ?? '';
const files = readdirSync('test/bench').filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();
const outdir = path.resolve('.tmp/bench');
mkdirSync(outdir, { recursive: true });
// The popup benchmark drives Chromium: find it (or, as root on Debian, install it) first.
if (files.some((f) => f.startsWith('popup'))) {
  const { found } = ensureBrowsers(['chromium'], (line) => console.log(line));
  if (found.chromium) process.env.CHROMIUM = found.chromium;
}
let failed = 0;
for (const file of files) {
  const outfile = path.join(outdir, file.replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [path.join('test/bench', file)], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  console.log(`\n## ${file}`);
  const r = spawnSync(process.execPath, ['--expose-gc', outfile], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

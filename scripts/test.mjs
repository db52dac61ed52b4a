// `npm test`: builds what the tests run (host bundles, extension), then the type check, the
// linter and the whole vitest suite (unit, integration, end to end). Ends with one line,
// "N passed, N failed", counting the type check and the linter as one check each.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', shell: false }).status === 0;
const npx = (...args) => run('npx', ['--no-install', ...args]);

let passed = 0;
let failed = 0;
const check = (name, ok) => {
  if (ok) passed++;
  else {
    failed++;
    console.error(`✗ ${name} failed`);
  }
  return ok;
};

if (!check('build', run('npm', ['run', '-s', 'build']))) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
check('type check (tsc --noEmit)', npx('tsc', '--noEmit', '-p', '.'));
check('lint (eslint)', npx('eslint', '.'));

mkdirSync('test-artifacts', { recursive: true });
const report = 'test-artifacts/vitest.json';
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const vitestOk = npx(...args);
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // A file that failed to load fails no test of its own: count it once.
  if (r.numFailedTests === 0 && (r.numFailedTestSuites > 0 || !vitestOk)) failed++;
  if (r.numTotalTests === 0) failed++;
} catch {
  failed++;
  console.error('✗ vitest wrote no report');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

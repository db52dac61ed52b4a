// `npm test`: builds what the tests run (host bundles, extension), then the type check, the
// linter and the whole vitest suite (unit, integration, end to end). Ends with one line,
// "N passed, N failed" (", N skipped" when some were), counting the type check, the linter and
// the import check as one check each; skipped tests are named, with why, on the line before it.
// The browser tests need Chromium and Firefox, the keyring tests gnome-keyring and dbus: found
// on the machine, or (as root with apt-get) installed from Debian first; otherwise those tests
// are skipped, saying why, and everything else runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { ensureBrowsers, installDebianPackages } from './browsers.mjs';

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

/**
 * Skipped tests grouped by why: a suite skipped on purpose says so in its name, "… (skipped: WHY)"
 * (test/e2e/harness.ts, test/firefox/firefox.ts); any other skip is named by its file.
 */
function skippedByReason(report) {
  const out = new Map();
  for (const file of report.testResults) {
    for (const t of file.assertionResults) {
      if (t.status !== 'pending' && t.status !== 'skipped' && t.status !== 'todo') continue;
      const why = [...t.ancestorTitles, t.title].map((x) => /\(skipped: (.*)\)$/.exec(x)?.[1]).find(Boolean);
      const key = why ? `${file.name.replace(`${process.cwd()}/`, '')}: ${why}` : `${file.name.replace(`${process.cwd()}/`, '')} (skipped in the test itself)`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  }
  return out;
}

if (!check('build', run('npm', ['run', '-s', 'build']))) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
check('type check (tsc --noEmit)', npx('tsc', '--noEmit', '-p', '.'));
check('lint (eslint)', npx('eslint', '.'));
check('imports (no cycle, one-way layers)', run(process.execPath, ['scripts/check-imports.mjs']));

// The keyring tests' Secret Service: gnome-keyring in a private D-Bus session (test/keyring/),
// with the tools test/keyring/secret-service.ts looks for (secretServiceMissing).
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (!['gnome-keyring-daemon', 'dbus-run-session', 'dbus-send'].every(has)) installDebianPackages(['gnome-keyring', 'dbus'], 'for the keyring tests', (line) => console.log(line));
const browsers = ensureBrowsers(['chromium', 'firefox'], (line) => console.log(line));
// The tests find the same browsers again (scripts/browsers.mjs); naming them settles any doubt.
if (browsers.found.chromium) process.env.CHROMIUM = browsers.found.chromium;
if (browsers.found.firefox) process.env.FIREFOX = browsers.found.firefox;

mkdirSync('test-artifacts', { recursive: true });
const report = 'test-artifacts/vitest.json';
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const vitestOk = npx(...args);
let skipped = new Map();
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // A file that failed to load fails no test of its own: count it once.
  if (r.numFailedTests === 0 && (r.numFailedTestSuites > 0 || !vitestOk)) failed++;
  if (r.numTotalTests === 0) failed++;
  skipped = skippedByReason(r);
} catch {
  failed++;
  console.error('✗ vitest wrote no report');
}
const skippedCount = [...skipped.values()].reduce((a, b) => a + b, 0);
for (const [reason, n] of skipped) console.log(`${n} skipped: ${reason}`);
console.log(`${passed} passed, ${failed} failed${skippedCount ? `, ${skippedCount} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);

// The release as a user gets it: `npm pack` of a copy of this checkout (its prepack builds all
// that is packed; a copy, so the checkout's own builds, which other tests run, are not rebuilt
// under them), the tarball installed with `npm install -g` into a temporary prefix, and then the
// installed `ews-daemon` alone: sign-in and Inbox count against the emulator, the store archives,
// and Chromium loading the extension from the installed package with the companion registered
// by the installed `ews-daemon install`.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_HOST_NAME, PUBLISHED_EXTENSION_IDS } from '../../shared/constants';
import { CHROMIUM, NO_CHROMIUM, signInThroughPopup, startBrowserStack, type BrowserStack } from '../e2e/harness';
import { waitForText } from '../e2e/wait';
import { REPO, startStack, type Stack } from '../support/stack';
import { readZip } from './read-zip';

const run = promisify(execFile);
const ALICE = 'alice@contoso.example';
/** What the daemon runs on (package.json dependencies): all a user's npm installs. */
const RUNTIME_DEPS = ['@azure/msal-node', '@napi-rs/keyring', 'fast-xml-parser', 'pino', 'undici', 'zod'];
/** The emulator's sign-in pages, which only the test flavour of the extension lets reach the callback page. */
const EMULATOR_ORIGINS = ['https://localhost/*', 'https://127.0.0.1/*'];
/** Build outputs and local state that a copy of the checkout leaves behind: the copy builds its own. */
const NOT_COPIED = new Set(['node_modules', '.git', 'test-artifacts', '.tmp', 'host/dist', 'test/emulator/dist', 'extension/dist', 'extension/dist-firefox', 'extension/dist-test', 'extension/dist-firefox-test']);

/** The environment without the npm_* variables of an `npm test` around this one. */
const WITHOUT_NPM_VARS = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

/**
 * The machine's global npmrc (registry, CA file, proxy). `--prefix` moves npm's global config
 * into the new prefix, where there is none: an install into a temporary prefix must keep the
 * machine's, or a registry behind a TLS-inspecting proxy fails with SELF_SIGNED_CERT_IN_CHAIN.
 */
const MACHINE_NPMRC = spawnSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8', env: WITHOUT_NPM_VARS }).stdout.trim();

/** npm as a user runs it, with the machine's global npmrc. */
function npmEnv(): NodeJS.ProcessEnv {
  return { ...WITHOUT_NPM_VARS, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_globalconfig: MACHINE_NPMRC };
}

async function npm(args: string[], cwd: string): Promise<string> {
  const r = await run('npm', args, { cwd, env: npmEnv(), maxBuffer: 16 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`npm ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  });
  return `${r.stdout}${r.stderr}`;
}

async function filesUnder(dir: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((f) => !skip(f))
    .sort();
}

interface Release {
  dir: string;
  tarball: string;
  packed: string[];
  installLog: string;
  /** PREFIX/bin/ews-daemon, as a user's PATH finds it. */
  launcher: string;
  /** PREFIX/lib/node_modules/ews-daemon. */
  pkg: string;
}

async function packAndInstall(): Promise<Release> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-release-'));
  const src = path.join(dir, 'src');
  await fs.cp(REPO, src, { recursive: true, filter: (from) => !NOT_COPIED.has(path.relative(REPO, from).split(path.sep).join('/')) });
  await fs.symlink(path.join(REPO, 'node_modules'), path.join(src, 'node_modules'));
  await npm(['pack', '--pack-destination', dir], src);
  const tarball = path.join(dir, (await fs.readdir(dir)).find((f) => f.endsWith('.tgz'))!);
  const packed = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  const prefix = path.join(dir, 'prefix');
  const installLog = await npm(['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], dir);
  return { dir, tarball, packed, installLog, launcher: path.join(prefix, 'bin', 'ews-daemon'), pkg: path.join(prefix, 'lib', 'node_modules', 'ews-daemon') };
}

/** unzip, where the machine has it: another reader of the store archives than read-zip.ts. */
const HAS_UNZIP = spawnSync('unzip', ['--help'], { stdio: 'ignore' }).error === undefined;

const manifestOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { key?: string; web_accessible_resources: { matches: string[] }[] };

/** The command line of a running process (Linux), to tell which copy of ews-daemon it runs. */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');

describe('the release tarball, installed with npm install -g', () => {
  let r: Release;
  beforeAll(async () => {
    r = await packAndInstall();
  }, 300_000);
  afterAll(async () => {
    if (r) await fs.rm(r.dir, { recursive: true, force: true });
  });

  it('carries the built daemon, native host, templates and both release builds of the extension, and nothing else', async () => {
    const allowed = /^(package\.json|README\.md|PROTOCOL\.md|host\/bin\/ews-daemon|host\/dist\/[\w/-]+\.mjs|manifests\/[\w.-]+\.tmpl|extension\/(dist|dist-firefox)\/.+)$/;
    expect(r.packed.filter((f) => !allowed.test(f))).toEqual([]);
    for (const f of ['host/bin/ews-daemon', 'host/dist/ews-daemon.mjs', 'host/dist/native-host.mjs', 'manifests/chromium-host.json.tmpl', 'extension/dist/manifest.json', 'extension/dist-firefox/manifest.json']) expect(r.packed).toContain(f);
    const size = (await fs.stat(r.tarball)).size;
    console.log(`release tarball: ${path.basename(r.tarball)}, ${(size / 1024).toFixed(1)} KiB, ${r.packed.length} files`);
    expect(size).toBeLessThan(300 * 1024);
    const pkg = JSON.parse(await fs.readFile(path.join(r.pkg, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(RUNTIME_DEPS);
  });

  it('installs with nothing built at install: the installed files are the tarball’s, beside the runtime dependencies only', async () => {
    expect(await filesUnder(r.pkg, (f) => f.startsWith('node_modules/'))).toEqual(r.packed);
    const deps = await fs.readdir(path.join(r.pkg, 'node_modules'));
    for (const dev of ['webextension-polyfill', 'vite', 'esbuild', 'typescript', 'vitest', 'playwright-core']) expect(deps).not.toContain(dev);
    // Every package the bundles import resolves from the installed copy (undici is imported lazily, for a proxy).
    const bundles = r.packed.filter((f) => f.startsWith('host/dist/'));
    const imported = new Set(bundles.flatMap((f) => [...readFileSync(path.join(r.pkg, f), 'utf8').matchAll(/(?:from|import\()\s*["']([^"'./][^"']*)["']/g)].map((m) => m[1]!)));
    const packages = [...imported].filter((s) => !s.startsWith('node:')).sort();
    expect(packages).toEqual(RUNTIME_DEPS);
    const require = createRequire(path.join(r.pkg, 'host', 'dist', 'ews-daemon.mjs'));
    for (const p of packages) expect(require.resolve(p).startsWith(path.join(r.pkg, 'node_modules'))).toBe(true);
  });

  it('has release builds of the extension: no emulator origins, and the Chromium one carries its key', () => {
    for (const d of ['dist', 'dist-firefox']) {
      const matches = manifestOf(path.join(r.pkg, 'extension', d)).web_accessible_resources.flatMap((w) => w.matches);
      expect(matches.filter((m) => EMULATOR_ORIGINS.includes(m))).toEqual([]);
      expect(matches).toContain('https://login.microsoftonline.com/*');
    }
    expect(manifestOf(path.join(r.pkg, 'extension', 'dist')).key).toMatch(/^MIIB/);
  });

  describe('the installed ews-daemon against the emulator', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ launcher: r.launcher });
    });
    afterAll(async () => stack?.close());

    it('signs in and counts the Inbox, with the daemon of the installed copy', async () => {
      expect((await stack.cli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      await stack.signIn(ALICE);
      const count = await stack.json<{ account: string; total: number; unread: number }>(['inbox']);
      expect(count).toMatchObject({ account: ALICE, total: 4817, unread: 23 });
      const pid = (await stack.daemonPid())!;
      expect(commandLine(pid)).toContain(r.pkg);
      expect(commandLine(pid)).not.toContain(REPO);
    });

    it('says where the installed extension is, and --zip writes the store archives with manifest.json at their root', async () => {
      const where = await stack.cli(['extension']);
      expect(where.code).toBe(0);
      expect(where.stdout).toContain(`\n    ${path.join(r.pkg, 'extension', 'dist')}\n`);
      expect(where.stdout).toContain(`\n    ${path.join(r.pkg, 'extension', 'dist-firefox', 'manifest.json')}\n`);
      const out = path.join(r.dir, 'store');
      const z = await stack.cli(['extension', '--zip', out]);
      expect(z.code, z.stderr).toBe(0);
      const zips = (await fs.readdir(out)).sort();
      expect(zips).toEqual([expect.stringMatching(/^ews-daemon-[\d.]+-chromium\.zip$/), expect.stringMatching(/^ews-daemon-[\d.]+-firefox\.zip$/)]);
      for (const [i, d] of ['dist', 'dist-firefox'].entries()) {
        const entries = readZip(await fs.readFile(path.join(out, zips[i]!)));
        expect(entries.map((e) => e.name).sort()).toEqual(await filesUnder(path.join(r.pkg, 'extension', d)));
        const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8')) as Record<string, unknown>;
        expect(manifest).toMatchObject({ manifest_version: 3, name: 'ews-daemon' });
        expect('key' in manifest).toBe(false);
        if (HAS_UNZIP) expect(spawnSync('unzip', ['-t', path.join(out, zips[i]!)], { encoding: 'utf8' }).stdout).toMatch(/No errors detected/);
      }
      // Mozilla's own linter (what AMO runs on an upload) reads the Firefox archive.
      const lint = spawnSync(path.join(REPO, 'node_modules', '.bin', 'addons-linter'), ['--output', 'json', path.join(out, zips[1]!)], { encoding: 'utf8', timeout: 60_000 });
      const report = JSON.parse(lint.stdout) as { errors: unknown[]; warnings: unknown[] };
      expect({ errors: report.errors, warnings: report.warnings }).toEqual({ errors: [], warnings: [] });
    });
  });

  describe.skipIf(!CHROMIUM)(`Chromium with the extension from the installed package${NO_CHROMIUM && ` (${NO_CHROMIUM})`}`, () => {
    let b: BrowserStack;
    let extensionDir: string;
    beforeAll(async () => {
      // The installed build with the emulator's origins added, as the test flavour adds them: the
      // release refuses the callback to any sign-in page but Entra's (the test above checks it).
      extensionDir = path.join(r.dir, 'installed-extension-for-the-emulator');
      await fs.cp(path.join(r.pkg, 'extension', 'dist'), extensionDir, { recursive: true });
      const manifest = manifestOf(extensionDir);
      manifest.web_accessible_resources[0]!.matches.push(...EMULATOR_ORIGINS);
      await fs.writeFile(path.join(extensionDir, 'manifest.json'), JSON.stringify(manifest));
      b = await startBrowserStack({ launcher: r.launcher, extensionDir });
    }, 120_000);
    afterAll(async () => b?.close());

    it('runs the companion the installed `ews-daemon install` registered, signs in from the popup and shows the count', async () => {
      const hostManifest = JSON.parse(await fs.readFile(path.join(b.profile, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`), 'utf8')) as { path: string; allowed_origins: string[] };
      expect(hostManifest.allowed_origins).toEqual(PUBLISHED_EXTENSION_IDS.map((p) => `chrome-extension://${p.id}/`));
      expect(await fs.readFile(hostManifest.path, 'utf8')).toContain(path.join(r.pkg, 'host', 'dist', 'native-host.mjs'));
      const popup = await b.openPopup();
      await popup.locator('#sign-in').waitFor({ state: 'visible', timeout: 15_000 });
      await signInThroughPopup(popup);
      await waitForText(popup, `[data-account="${ALICE}"] [data-testid=inbox-total]`, '4,817');
      await waitForText(popup, `[data-account="${ALICE}"] [data-testid=inbox-unread]`, '23');
      const pid = (await b.stack.daemonPid())!;
      expect(commandLine(pid)).toContain(r.pkg);
    }, 90_000);
  });
});

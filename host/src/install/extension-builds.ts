// The browser extension as this copy of ews-daemon carries it (an installed package or a built
// checkout): where each build is, how a person loads it unpacked, and the archives the stores
// take. The builds are <root>/extension/dist (Chromium family) and <root>/extension/dist-firefox
// (Firefox), as extension/vite.config.ts writes them and package.json's files packs them.
import path from 'node:path';
import { AppError, isAppError } from '../../../shared/errors';
import type { FileSystem } from '../deps';
import type { CommandOutcome } from './command-outcome';
import { zip, type ZipEntry } from './zip';

export type ExtensionTarget = 'chromium' | 'firefox';
export const EXTENSION_TARGETS: readonly ExtensionTarget[] = ['chromium', 'firefox'];

const BUILD_DIRS: Record<ExtensionTarget, string[]> = { chromium: ['extension', 'dist'], firefox: ['extension', 'dist-firefox'] };
/** What builds each folder in a checkout. */
const BUILD_SCRIPTS: Record<ExtensionTarget, string> = { chromium: 'npm run build:ext', firefox: 'npm run build:firefox' };

export function extensionDir(root: string, target: ExtensionTarget): string {
  return path.join(root, ...BUILD_DIRS[target]);
}

/** How to load each build unpacked, for the targets asked; a build that is missing says how to make it. */
export function loadingLines(root: string, targets: readonly ExtensionTarget[], exists: (p: string) => boolean): string[] {
  const lines = ['', 'Load the browser extension (once per browser profile):'];
  for (const target of targets) {
    const dir = extensionDir(root, target);
    const built = exists(path.join(dir, 'manifest.json'));
    if (target === 'chromium') {
      lines.push('  Chrome, Edge, Brave, Chromium, Vivaldi: open chrome://extensions (edge://extensions in Edge), turn on', '  Developer mode, click "Load unpacked" and choose the folder', `    ${dir}`);
    } else {
      lines.push('  Firefox: open about:debugging#/runtime/this-firefox, click "Load Temporary Add-on…" and choose', `    ${path.join(dir, 'manifest.json')}`, '  (Firefox removes a temporary add-on when it quits, until the add-on is signed by addons.mozilla.org)');
    }
    if (!built) lines.push(`  (not built in this copy: run \`${BUILD_SCRIPTS[target]}\` in the checkout)`);
  }
  return lines;
}

/** What the archives need of the file system. */
export type ArchiveFs = Pick<FileSystem, 'exists' | 'readdir' | 'lstat' | 'readBytes' | 'mkdir' | 'writeFileAtomic'>;

/** The regular files under dir, with their mtime; a symbolic link is skipped, not followed. */
async function filesUnder(fs: ArchiveFs, dir: string): Promise<{ file: string; mtimeMs: number }[]> {
  const found: { file: string; mtimeMs: number }[] = [];
  for (const name of await fs.readdir(dir)) {
    const file = path.join(dir, name);
    const st = await fs.lstat(file);
    if (st?.isDirectory) found.push(...(await filesUnder(fs, file)));
    else if (st?.isFile) found.push({ file, mtimeMs: st.mtimeMs });
  }
  return found;
}

/** Every regular file under dir, as archive entries named relative to it with forward slashes, sorted. */
async function entriesOf(fs: ArchiveFs, dir: string): Promise<ZipEntry[]> {
  const files = await filesUnder(fs, dir);
  const entries = await Promise.all(
    files.map(async ({ file, mtimeMs }) => ({ name: path.relative(dir, file).split(path.sep).join('/'), data: await fs.readBytes(file), modified: new Date(mtimeMs) })),
  );
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The Chrome Web Store and Edge Add-ons refuse an upload whose manifest has `key` ("key field is
 * not allowed in manifest"; the store assigns the id:
 * https://developer.chrome.com/docs/extensions/reference/manifest/key), so their archive drops it.
 */
function forStore(target: ExtensionTarget, entry: ZipEntry): ZipEntry {
  if (target !== 'chromium' || entry.name !== 'manifest.json') return entry;
  const manifest = JSON.parse(Buffer.from(entry.data).toString('utf8')) as Record<string, unknown>;
  delete manifest.key;
  return { ...entry, data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) };
}

export interface StoreArchive {
  target: ExtensionTarget;
  /** Which stores take it. */
  stores: string;
  file: string;
  files: number;
  bytes: number;
}

const STORES: Record<ExtensionTarget, string> = { chromium: 'Chrome Web Store, Microsoft Edge Add-ons', firefox: 'addons.mozilla.org (signing)' };

/** A build's files, and its manifest's version; a missing build is named with the command that makes it. */
async function readBuild(fs: ArchiveFs, root: string, target: ExtensionTarget): Promise<{ entries: ZipEntry[]; version: string }> {
  const dir = extensionDir(root, target);
  const entries = await entriesOf(fs, dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
    throw new AppError('invalid_params', `The ${target} extension is not built: ${dir} is missing.`, { advice: `Run \`${BUILD_SCRIPTS[target]}\` in the checkout (an installed package carries both builds).`, retryable: false });
  });
  const manifest = entries.find((e) => e.name === 'manifest.json');
  if (!manifest) throw new AppError('invalid_params', `${dir} has no manifest.json.`, { advice: `Rebuild it with \`${BUILD_SCRIPTS[target]}\`.`, retryable: false });
  const version = String((JSON.parse(Buffer.from(manifest.data).toString('utf8')) as { version?: unknown }).version ?? 'unversioned');
  return { entries, version: version.replace(/[^\w.-]/g, '_') };
}

/** Writes ews-daemon-<version>-<target>.zip for each build into outDir (made if missing); nothing when a build is missing. */
export async function writeStoreArchives(fs: ArchiveFs, root: string, outDir: string): Promise<StoreArchive[]> {
  const builds = await Promise.all(EXTENSION_TARGETS.map(async (target) => ({ target, ...(await readBuild(fs, root, target)) })));
  await fs.mkdir(outDir, 0o777); // less the umask, as any folder the user makes
  const written: StoreArchive[] = [];
  for (const { target, entries, version } of builds) {
    const archive = zip(entries.map((e) => forStore(target, e)));
    const file = path.join(outDir, `ews-daemon-${version}-${target}.zip`);
    await fs.writeFileAtomic(file, archive, 0o644);
    written.push({ target, stores: STORES[target], file, files: entries.length, bytes: archive.length });
  }
  return written;
}

export type ExtensionResult = { ok: true; dirs: Record<ExtensionTarget, string>; archives: StoreArchive[] } | { ok: false; error: string };

/** `ews-daemon extension [--zip DIR]`: where the builds are and how to load them, or the store archives. */
export async function runExtension(flags: { zip?: string }, root: string, fs: ArchiveFs): Promise<CommandOutcome<ExtensionResult>> {
  const dirs = { chromium: extensionDir(root, 'chromium'), firefox: extensionDir(root, 'firefox') };
  if (flags.zip === undefined) return { exitCode: 0, lines: loadingLines(root, EXTENSION_TARGETS, (p) => fs.exists(p)).slice(1), result: { ok: true, dirs, archives: [] } };
  if (flags.zip.trim() === '') return { exitCode: 2, lines: ['ews-daemon extension: --zip needs the folder to write the archives into'], result: { ok: false, error: '--zip needs a folder' } };
  try {
    const archives = await writeStoreArchives(fs, root, path.resolve(flags.zip));
    const lines = archives.map((a) => `wrote ${a.file} (${a.files} files, ${(a.bytes / 1024).toFixed(1)} KiB) for ${a.stores}`);
    return { exitCode: 0, lines, result: { ok: true, dirs, archives } };
  } catch (e) {
    if (!isAppError(e) && !(e as NodeJS.ErrnoException).code) throw e;
    const message = isAppError(e) ? `${e.message} ${e.data.advice}` : `cannot write the archives: ${(e as Error).message}`;
    return { exitCode: 1, lines: [`ews-daemon extension: ${message}`], result: { ok: false, error: message } };
  }
}

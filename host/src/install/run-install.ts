// `ews-daemon install` and `uninstall` as the CLI calls them: options checked and turned into a
// plan, the plan applied, and the lines to print (or the JSON result) with an exit code
// (0 done, 1 something failed, 2 bad options). The CLI only parses argv and prints.
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { isAppError } from '../../../shared/errors';
import type { Paths } from '../config/paths';
import { launcherPath } from '../daemon-client/connect';
import type { FileSystem } from '../deps';
import { applyPlan, type Action, type InstallFs, type RunCommand } from './apply';
import { BROWSER_NAMES, browserConfigDir, familyOf, isBrowserName, type BrowserName, type BrowserSelection, type InstallPlatform } from './browsers';
import type { CommandOutcome } from './command-outcome';
import { EXTENSION_TARGETS, extensionDir, loadingLines, type ExtensionTarget } from './extension-builds';
import { sortExtensionIds } from './extension-ids';
import { planInstall, planUninstall, type Plan } from './plan';
import { loadTemplates } from './templates';

/** The command's flags, as the CLI parsed them. */
export interface InstallFlags {
  /** Browser names, `all` or `found` (repeatable, or comma-separated). */
  browser?: string | string[];
  userDataDir?: string;
  extensionId?: string | string[];
  service?: boolean;
}

export interface InstallContext {
  platform: NodeJS.Platform;
  homedir: string;
  env: Record<string, string | undefined>;
  uid?: number;
  /** Absolute: browsers and services do not see the user's PATH. */
  nodePath: string;
  repoRoot: string;
  stateDir: string;
  /** The config's extensionIds, when a config could be read. */
  configExtensionIds?: string[];
  /** Its synchronous `exists` finds installed browsers. */
  fs: InstallFs;
  run: RunCommand;
}

export interface InstallResult {
  ok: boolean;
  platform: InstallPlatform;
  browsers: BrowserName[];
  actions: Action[];
  notes: string[];
  /** The unpacked extension folder for each browser family installed for. */
  extension: Partial<Record<ExtensionTarget, string>>;
}

/** What install and uninstall answer: the result, or why nothing was done. */
export type InstallOutcome = CommandOutcome<InstallResult | { ok: false; error: string }>;

/** The real context: this node, this checkout, the real file system and commands. */
export function realInstallContext(args: { env: Record<string, string | undefined>; paths: Paths; fs: FileSystem; configExtensionIds?: string[] }): InstallContext {
  return {
    platform: process.platform,
    homedir: os.homedir(),
    env: args.env,
    uid: process.getuid?.(),
    nodePath: process.execPath,
    repoRoot: packageRoot(args.fs),
    stateDir: args.paths.stateDir,
    configExtensionIds: args.configExtensionIds,
    fs: args.fs,
    run: runCommand,
  };
}

/** The folder holding host/bin/ews-daemon: this installed package, or the checkout. */
export function packageRoot(fs: Pick<FileSystem, 'exists'>): string {
  return path.resolve(launcherPath({}, undefined, fs), '..', '..', '..');
}

const runCommand: RunCommand = (cmd, args) =>
  new Promise((resolve) => {
    execFile(cmd, args, { windowsHide: true, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: error && !stderr ? error.message : String(stderr) });
    });
  });

function toPlatform(p: NodeJS.Platform): InstallPlatform {
  return p === 'darwin' || p === 'win32' ? p : 'linux';
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

/** --browser values as a selection, or the first unknown name. */
export function parseBrowsers(values: string[], fallback: 'all' | 'found'): { selection: BrowserSelection } | { unknown: string } {
  if (values.length === 0) return { selection: fallback };
  if (values.includes('all')) return { selection: 'all' };
  if (values.includes('found')) return { selection: 'found' };
  const unknown = values.find((v) => !isBrowserName(v));
  if (unknown !== undefined) return { unknown };
  return { selection: values as BrowserName[] };
}

function usage(command: string, message: string): InstallOutcome {
  return { exitCode: 2, lines: [`ews-daemon ${command}: ${message}`], result: { ok: false, error: message } };
}

function unknownBrowser(command: string, name: string): InstallOutcome {
  return usage(command, `unknown browser ${JSON.stringify(name)}; expected ${BROWSER_NAMES.join(', ')}, all or found`);
}

export async function runInstall(flags: InstallFlags, ctx: InstallContext): Promise<InstallOutcome> {
  const parsed = parseBrowsers(list(flags.browser), 'found');
  if ('unknown' in parsed) return unknownBrowser('install', parsed.unknown);
  const browsers = parsed.selection;
  const given = list(flags.extensionId);
  const rejected = sortExtensionIds(given).rejected;
  if (rejected.length > 0) return usage('install', `--extension-id ${rejected[0]} is neither a Chromium extension id (32 letters a-p) nor a Firefox add-on id (name@domain or {uuid})`);
  const where = { platform: toPlatform(ctx.platform), homedir: ctx.homedir, env: ctx.env };
  const common = { ...where, browsers, userDataDir: flags.userDataDir, service: flags.service === true, stateDir: ctx.stateDir, uid: ctx.uid, exists: (p: string) => ctx.fs.exists(p) };
  try {
    const templates = await loadTemplates(ctx.repoRoot, (p) => ctx.fs.readText(p));
    const plan = planInstall({ ...common, extensionIds: [...given, ...(ctx.configExtensionIds ?? [])], nodePath: ctx.nodePath, repoRoot: ctx.repoRoot, templates });
    if (plan.browsers.length === 0 && !flags.userDataDir) {
      const looked = (['chrome', 'chromium', 'firefox'] as const).map((b) => browserConfigDir(b, where)).join(', ');
      if (!flags.service) return { exitCode: 1, lines: [`ews-daemon install: no browser found (looked in ${looked}, …); name one with --browser chrome, or --browser all.`], result: { ok: false, error: 'no browser found' } };
    }
    const outcome = await execute(plan, ctx, 'install');
    return outcome.exitCode === 0 ? withExtension(outcome, plan, ctx, flags.userDataDir !== undefined) : outcome;
  } catch (e) {
    if (isAppError(e)) return { exitCode: 1, lines: [`ews-daemon install: ${e.message} ${e.data.advice}`], result: { ok: false, error: e.message } };
    throw e;
  }
}

export async function runUninstall(flags: InstallFlags, ctx: InstallContext): Promise<InstallOutcome> {
  const named = list(flags.browser);
  const parsed = parseBrowsers(named, 'all');
  if ('unknown' in parsed) return unknownBrowser('uninstall', parsed.unknown);
  const browsers = parsed.selection;
  const everything = named.length === 0 && !flags.userDataDir;
  const plan = planUninstall({
    platform: toPlatform(ctx.platform),
    homedir: ctx.homedir,
    env: ctx.env,
    browsers: flags.userDataDir && named.length === 0 ? [] : browsers,
    userDataDir: flags.userDataDir,
    service: flags.service === true || everything,
    stateDir: ctx.stateDir,
    uid: ctx.uid,
    exists: (p) => ctx.fs.exists(p),
    removeWrapper: everything || browsers === 'all',
  });
  return execute(plan, ctx, 'uninstall');
}

async function execute(plan: Plan, ctx: InstallContext, command: string): Promise<InstallOutcome> {
  const lines: string[] = [];
  const report = await applyPlan(plan, { fs: ctx.fs, run: ctx.run, log: (line) => lines.push(line) });
  for (const note of plan.notes) lines.push(`note: ${note}`);
  if (!report.ok) lines.push(`ews-daemon ${command}: some steps failed (above); \`ews-daemon doctor\` checks the result.`);
  const result: InstallResult = { ok: report.ok, platform: plan.platform, browsers: plan.browsers, actions: report.actions, notes: plan.notes, extension: {} };
  return { exitCode: report.ok ? 0 : 1, lines, result };
}

/** After a good install: where the extension for each browser family installed for is, and how to load it. */
function withExtension(outcome: InstallOutcome, plan: Plan, ctx: InstallContext, chromiumProfile: boolean): InstallOutcome {
  if (!('platform' in outcome.result)) return outcome;
  const families = new Set(plan.browsers.map(familyOf));
  const targets = EXTENSION_TARGETS.filter((t) => families.has(t) || (t === 'chromium' && chromiumProfile));
  if (targets.length === 0) return outcome;
  const extension = Object.fromEntries(targets.map((t) => [t, extensionDir(ctx.repoRoot, t)]));
  return { ...outcome, lines: [...outcome.lines, ...loadingLines(ctx.repoRoot, targets, (p) => ctx.fs.exists(p))], result: { ...outcome.result, extension } };
}

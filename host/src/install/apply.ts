// Carries out an install or uninstall plan: writes files (whole, atomically, with their mode),
// removes only what is ours, runs commands, and reports each path or command touched. Re-running
// a plan is harmless: identical files are left alone and reported "unchanged".
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NATIVE_HOST_NAME } from '../../../shared/constants';
import type { Plan, Step } from './plan';
import { renderCommand } from './templates';

export interface InstallFs {
  /** The file's text, or null when there is none. */
  readFile(p: string): Promise<string | null>;
  /** Permission bits (0o777), or null when the file is missing or the platform has none. */
  mode(p: string): Promise<number | null>;
  /** Writes whole or not at all, creating missing parent folders (0700). */
  writeFile(p: string, content: string, mode: number): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  remove(p: string): Promise<void>;
  /** Removes the folder if it is empty; false when it is not (or is not there). */
  removeEmptyDir(p: string): Promise<boolean>;
  exists(p: string): Promise<boolean>;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
export type RunCommand = (cmd: string, args: string[]) => Promise<RunResult>;

export interface ApplyDeps {
  fs: InstallFs;
  run: RunCommand;
  log: (line: string) => void;
}

export type ActionKind = 'wrote' | 'unchanged' | 'removed' | 'absent' | 'kept' | 'ran' | 'skipped' | 'failed';
export interface Action {
  kind: ActionKind;
  /** The path or the command as typed. */
  target: string;
  what: string;
  detail?: string;
}

export interface ApplyReport {
  ok: boolean;
  actions: Action[];
}

export async function applyPlan(plan: Plan, deps: ApplyDeps): Promise<ApplyReport> {
  // Conditions are read before anything changes: "stop the service" must see the unit about to go.
  const existedBefore = new Map<string, boolean>();
  for (const step of plan.steps) if (step.kind === 'run' && step.onlyIf) existedBefore.set(step.onlyIf, await deps.fs.exists(step.onlyIf));
  const actions: Action[] = [];
  for (const step of plan.steps) {
    const action = await applyStep(step, deps, existedBefore).catch((e: unknown): Action => ({ kind: 'failed', target: targetOf(step), what: step.what, detail: (e as Error).message }));
    actions.push(action);
    deps.log(describe(action));
  }
  return { ok: actions.every((a) => a.kind !== 'failed'), actions };
}

function targetOf(step: Step): string {
  return step.kind === 'run' ? renderCommand(step.cmd, step.args) : step.path;
}

export function describe(a: Action): string {
  return `${a.kind} ${a.target} (${a.what}${a.detail ? `: ${a.detail}` : ''})`;
}

async function applyStep(step: Step, deps: ApplyDeps, existedBefore: Map<string, boolean>): Promise<Action> {
  const base = { target: targetOf(step), what: step.what };
  if (step.kind === 'write') return { ...base, kind: await writeStep(step, deps.fs) };
  if (step.kind === 'remove') return { ...base, ...(await removeStep(step, deps.fs)) };
  if (step.onlyIf && !existedBefore.get(step.onlyIf)) return { ...base, kind: 'skipped', detail: `${step.onlyIf} is not there` };
  const r = await deps.run(step.cmd, step.args);
  if (r.code === 0) return { ...base, kind: 'ran' };
  const detail = `exit ${r.code}${r.stderr.trim() ? `, ${r.stderr.trim().split('\n')[0]}` : ''}`;
  return { ...base, kind: step.mayFail ? 'ran' : 'failed', detail: step.mayFail ? `${detail}; that is fine` : detail };
}

async function writeStep(step: Extract<Step, { kind: 'write' }>, fs: InstallFs): Promise<ActionKind> {
  if ((await fs.readFile(step.path)) === step.content) {
    const mode = await fs.mode(step.path);
    if (mode === null || mode === step.mode) return 'unchanged';
    await fs.chmod(step.path, step.mode);
    return 'wrote';
  }
  await fs.writeFile(step.path, step.content, step.mode);
  return 'wrote';
}

async function removeStep(step: Extract<Step, { kind: 'remove' }>, fs: InstallFs): Promise<{ kind: ActionKind; detail?: string }> {
  const text = await fs.readFile(step.path);
  if (text === null) return { kind: 'absent' };
  if (step.onlyOurs) {
    const name = manifestName(text);
    if (name !== NATIVE_HOST_NAME) return { kind: 'kept', detail: `not ours: its name is ${JSON.stringify(name)}` };
  }
  await fs.remove(step.path);
  if (step.pruneUpTo) await pruneEmpty(path.dirname(step.path), step.pruneUpTo, fs);
  return { kind: 'removed' };
}

/** Removes dir and its parents while they are empty, stopping below root. */
async function pruneEmpty(dir: string, root: string, fs: InstallFs): Promise<void> {
  const inside = (d: string) => d.length > root.length && d.startsWith(root);
  while (inside(dir) && (await fs.removeEmptyDir(dir))) dir = dir.slice(0, Math.max(dir.lastIndexOf('/'), dir.lastIndexOf('\\')));
}

function manifestName(text: string): unknown {
  try {
    return (JSON.parse(text) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

/** The real file system. Modes are POSIX only; on Windows they read as null. */
export const nodeInstallFs: InstallFs = {
  async readFile(p) {
    return fs.readFile(p, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
      throw e;
    });
  },
  async mode(p) {
    if (process.platform === 'win32') return null;
    return fs.stat(p).then(
      (s) => s.mode & 0o777,
      () => null,
    );
  },
  async writeFile(p, content, mode) {
    await fs.mkdir(path.dirname(p), { recursive: true, mode: 0o700 });
    const tmp = `${p}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, content, { mode });
      await fs.chmod(tmp, mode);
      await fs.rename(tmp, p);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  },
  async chmod(p, mode) {
    await fs.chmod(p, mode);
  },
  async remove(p) {
    await fs.rm(p, { force: true });
  },
  async removeEmptyDir(p) {
    return fs.rmdir(p).then(
      () => true,
      () => false,
    );
  },
  async exists(p) {
    return fs.access(p).then(
      () => true,
      () => false,
    );
  },
};

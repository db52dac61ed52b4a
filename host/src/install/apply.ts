// Carries out an install or uninstall plan: writes files (whole, atomically, with their mode),
// removes only what is ours, runs commands, and reports each path or command touched. Re-running
// a plan is harmless: identical files are left alone and reported "unchanged".
import path from 'node:path';
import { NATIVE_HOST_NAME } from '../../../shared/constants';
import type { FileSystem } from '../deps';
import type { Plan, Step } from './plan';
import { renderCommand } from './templates';

/** What install touches: the templates it reads, the files it writes and removes, the folders it makes and prunes. */
export type InstallFs = Pick<FileSystem, 'readText' | 'readTextIfExists' | 'stat' | 'mkdir' | 'writeFileAtomic' | 'chmod' | 'rm' | 'rmdirIfEmpty' | 'exists'>;

/** Windows has ACLs, not mode bits: a file's mode is not compared there. */
const HAS_MODES = process.platform !== 'win32';

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
  for (const step of plan.steps) if (step.kind === 'run' && step.onlyIf) existedBefore.set(step.onlyIf, deps.fs.exists(step.onlyIf));
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

/** Writes whole or not at all, making missing parent folders (0700); an identical file is left alone. */
async function writeStep(step: Extract<Step, { kind: 'write' }>, fs: InstallFs): Promise<ActionKind> {
  if ((await fs.readTextIfExists(step.path)) === step.content) {
    const st = HAS_MODES ? await fs.stat(step.path).catch(() => null) : null;
    if (st === null || (st.mode & 0o777) === step.mode) return 'unchanged';
    await fs.chmod(step.path, step.mode);
    return 'wrote';
  }
  await fs.mkdir(path.dirname(step.path), 0o700);
  await fs.writeFileAtomic(step.path, step.content, step.mode);
  return 'wrote';
}

async function removeStep(step: Extract<Step, { kind: 'remove' }>, fs: InstallFs): Promise<{ kind: ActionKind; detail?: string }> {
  const text = await fs.readTextIfExists(step.path);
  if (text === null) return { kind: 'absent' };
  if (step.onlyOurs) {
    const name = manifestName(text);
    if (name !== NATIVE_HOST_NAME) return { kind: 'kept', detail: `not ours: its name is ${JSON.stringify(name)}` };
  }
  await fs.rm(step.path);
  if (step.pruneUpTo) await pruneEmpty(path.dirname(step.path), step.pruneUpTo, fs);
  return { kind: 'removed' };
}

/** Removes dir and its parents while they are empty, stopping below root; a folder it may not remove is left. */
async function pruneEmpty(dir: string, root: string, fs: InstallFs): Promise<void> {
  const inside = (d: string) => d.length > root.length && d.startsWith(root);
  while (inside(dir) && (await fs.rmdirIfEmpty(dir).catch(() => false))) dir = dir.slice(0, Math.max(dir.lastIndexOf('/'), dir.lastIndexOf('\\')));
}

function manifestName(text: string): unknown {
  try {
    return (JSON.parse(text) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

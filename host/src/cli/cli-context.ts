// What every CLI command gets and is: its context (arguments, paths, environment, clock, files, output)
// and its entry in the command table, and how it calls the daemon. Types only, so that a command
// in its own module needs nothing from the table (commands.ts).
import type { MethodName, ParamsOf, ResultOf } from '../../../shared/protocol';
import type { Paths } from '../config/paths';
import type { Clock, FileSystem } from '../deps';

export interface CliContext {
  args: { positionals: string[]; values: Record<string, string | boolean | string[] | undefined> };
  paths: Paths;
  env: Record<string, string | undefined>;
  clock: Clock;
  fs: FileSystem;
  out: (line: string) => void;
  err: (line: string) => void;
  stdin: NodeJS.ReadableStream;
}

export interface Command {
  summary: string;
  usage: string;
  options: string[];
  run(ctx: CliContext): Promise<number>;
}

export type Call = <M extends MethodName>(method: M, params?: ParamsOf<M>, opts?: { timeoutMs?: number }) => Promise<ResultOf<M>>;

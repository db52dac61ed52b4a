// What an install-family command (install, uninstall, extension) hands the CLI to print: its
// exit code, its lines for a person, and its result for --json. Types only.
export interface CommandOutcome<R> {
  exitCode: 0 | 1 | 2;
  /** What to print, one line each (without --json). */
  lines: string[];
  /** What to print with --json. */
  result: R;
}

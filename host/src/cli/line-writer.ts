// The CLI's standard output and error as line writers. Guarantees: every line passes through the
// given terminal filter (terminal-text.ts) on its way out, so text from a server cannot reach the
// terminal as control characters; and a reader that goes away (`ews-daemon tokens | head`) ends
// the output quietly: the stream's EPIPE is taken as "nobody is reading", later lines are
// dropped, no stack trace is printed, and the command still ends with its own exit code, as it
// would unpiped. (Node ignores SIGPIPE and reports EPIPE as an 'error' event on the stream,
// which, unhandled, crashes the process: https://nodejs.org/api/process.html#signal-events.)

/** `onFailure` hears any error but EPIPE (the expected one), once. */
export function lineWriter(stream: NodeJS.WritableStream, filter: (text: string) => string, onFailure: (e: NodeJS.ErrnoException) => void = () => {}): (line: string) => void {
  let open = true;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (!open) return;
    open = false;
    if (e.code !== 'EPIPE') onFailure(e);
  });
  return (line: string) => {
    if (open) stream.write(`${filter(line)}\n`);
  };
}

// `ews-daemon consent --device-code`: sign in from a machine without a browser. The daemon asks
// Entra for a code; this prints where to go and what to type (with --json: one line of JSON with
// the code, the address and the expiry, then one line with the result), waits while the user
// signs in on any device, and says who signed in. Ctrl-C cancels the daemon's flow too.
import type { ConsentCompleteResult } from '../../../shared/protocol';
import type { Call, CliContext } from './cli-context';
import { formatIn } from './format';

/** A minute beyond the code's own life: the daemon answers with the expiry before this fires. */
const WAIT_MARGIN_MS = 60_000;

type Session = <T>(fn: (call: Call) => Promise<T>) => Promise<T>;

export async function deviceCodeConsent(ctx: CliContext, session: Session, describe: (r: ConsentCompleteResult) => string[]): Promise<number> {
  const json = ctx.args.values.json === true;
  return session(async (call) => {
    const begun = await call('consent.deviceCode.begin');
    // main.ts strips terminal controls from every line, so Entra's words are printed as they came.
    if (json) ctx.out(JSON.stringify({ userCode: begun.userCode, verificationUri: begun.verificationUri, expiresAt: begun.expiresAt, message: begun.message }));
    else {
      ctx.err(`To sign in, open ${begun.verificationUri} on any device and enter the code\n\n  ${begun.userCode}\n`);
      ctx.err(`The code expires ${formatIn(begun.expiresAt, ctx.clock.now())}. Waiting for you to sign in (Ctrl-C cancels)…`);
    }
    const onInterrupt = () => void call('consent.deviceCode.cancel', { flowId: begun.flowId }).catch(() => undefined);
    process.once('SIGINT', onInterrupt);
    try {
      const r = await call('consent.deviceCode.wait', { flowId: begun.flowId }, { timeoutMs: Math.max(0, begun.expiresAt - ctx.clock.now()) + WAIT_MARGIN_MS });
      if (json) ctx.out(JSON.stringify(r));
      else for (const line of describe(r)) ctx.out(line);
      return 0;
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  });
}


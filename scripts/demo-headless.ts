// The demo where no browser can run: the same product against the emulator, with the browser's
// part played by what a browser does. The emulator and a daemon in a temporary home; a sign-in
// through the CLI (`consent --paste`, the emulator's consent answered as a browser would); the
// counts through the CLI; the native host started as Chromium starts it and driven over stdio
// with the frames the extension sends; then the daemon stopped and the counts asked again, with
// no new sign-in. Everything started is stopped and removed at the end.
import { spawn } from 'node:child_process';
import { EXTENSION_ID } from '../shared/constants';
import { FrameDecoder, encodeFrame } from '../shared/framing';
import { request } from '../shared/jsonrpc';
import { LAUNCHER, consentByPaste, startStack, type Stack } from '../test/support/stack';

const USER = 'alice@contoso.example';
/** How long the native host gets to answer the two frames it is sent (ms): it starts nothing slow. */
const HOST_TIMEOUT_MS = 20_000;

export async function headlessDemo(say: (line?: string) => void, stacks: Stack[]): Promise<void> {
  say('Starting the Entra/EWS emulator and a daemon home…');
  const stack = await startStack();
  stacks.push(stack);
  say(`  emulator    ${stack.emulator.url}`);
  say(`  daemon home ${stack.home} (config, token cache, socket, log)`);

  say('');
  say(`$ ews-daemon consent --paste --login-hint ${USER}    (the emulator's consent page answered as a browser would)`);
  const pasted = await consentByPaste(stack, USER);
  if (pasted.code !== 0) throw new Error(`consent exited ${pasted.code}: ${pasted.stderr}`);
  say(indent(pasted.stdout));

  say('$ ews-daemon inbox');
  say(indent(await cli(stack, ['inbox'])));

  say(`The native host, started as Chromium starts it (origin chrome-extension://${EXTENSION_ID}/), asked what the popup asks:`);
  const [status, count] = await throughNativeHost(stack, [request(1, 'status'), request(2, 'inbox.count', { account: USER })]);
  const account = (status as { accounts: { username: string; state: { kind: string } }[] }).accounts[0];
  const c = count as { total: number; unread: number; backend: string };
  say(`  status → ${account?.username}: ${account?.state.kind}`);
  say(`  inbox.count → ${c.total} items, ${c.unread} unread, via ${c.backend.toUpperCase()}`);

  say('');
  say('Stopping the daemon; the next command starts it again from the token cache, with no new sign-in:');
  await stack.stopDaemon();
  say('$ ews-daemon inbox --max-age 0    (a fresh count, with the token the restarted daemon read from its cache)');
  say(indent(await cli(stack, ['inbox', '--max-age', '0'])));
}

const indent = (text: string) => text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');

async function cli(stack: Stack, args: string[]): Promise<string> {
  const r = await stack.cli(args);
  if (r.code !== 0) throw new Error(`ews-daemon ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Starts `ews-daemon native-host ORIGIN` and exchanges native-messaging frames with it over stdio. */
function throughNativeHost(stack: Stack, requests: { id: string | number }[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const host = spawn(process.execPath, [LAUNCHER, 'native-host', `chrome-extension://${EXTENSION_ID}/`], { env: stack.env, stdio: ['pipe', 'pipe', 'inherit'] });
    const decoder = new FrameDecoder();
    const results = new Map<string | number, unknown>();
    const timer = setTimeout(() => fail(new Error('the native host did not answer')), HOST_TIMEOUT_MS);
    const fail = (e: Error) => {
      clearTimeout(timer);
      host.kill();
      reject(e);
    };
    host.stdout.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.kind !== 'message') return fail(new Error(`the native host sent a bad frame (${f.kind})`));
        const m = f.value as { id?: string | number; result?: unknown; error?: { message: string } };
        if (m.id === undefined) continue; // a notification
        if (m.error) return fail(new Error(`the native host answered an error: ${m.error.message}`));
        results.set(m.id, m.result);
      }
      if (results.size < requests.length) return;
      clearTimeout(timer);
      host.stdin.end(); // as the browser does when the port closes: the host exits on EOF
      resolve(requests.map((r) => results.get(r.id)));
    });
    host.on('error', fail);
    for (const r of requests) host.stdin.write(encodeFrame(r));
  });
}

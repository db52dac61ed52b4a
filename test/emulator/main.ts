// `npm run emulator`: starts the emulator, writes a daemon home pointing at it, prints how to
// use it, and stops cleanly on SIGINT / SIGTERM. Only wiring; the parts live in cli.ts.
import { banner, parseEmulatorArgs, USAGE, writeDaemonHome } from './cli';
import { startEmulator } from './index';

async function main(): Promise<void> {
  const args = parseEmulatorArgs(process.argv.slice(2));
  if ('error' in args) {
    console.error(`${args.error}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const consentMode = args.autoConsent ? 'auto' : 'page';
  const emulator = await startEmulator({ port: args.port, host: args.host, dir: args.dir, consentMode });
  if (args.publicClient) emulator.admin.setAllowPublicClient(true);
  const home = await writeDaemonHome(emulator, args.publicClient);
  console.log(banner(emulator, home, consentMode));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.stop().then(
      () => console.log('Emulator stopped.'),
      (e: unknown) => {
        console.error(`Emulator did not stop cleanly: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`The emulator could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});

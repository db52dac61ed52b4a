// The pieces of `npm run emulator`: its arguments, the ready-to-use daemon home it writes
// (<dir>/home/config.json, 0600 in a 0700 folder, pointing the daemon at the emulator), and
// the few lines it prints for a person. The client secret goes to the file, never the screen.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_OPS } from './admin-http';
import type { Emulator } from './index';

export interface EmulatorArgs {
  port: number;
  host?: string;
  dir?: string;
  autoConsent: boolean;
  /** Write a public client's config (no secret) and allow public client flows (the device code flow). */
  publicClient?: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run emulator -- [--port N] [--auto-consent] [--host ADDRESS] [--dir DIR]
  --port N         listen on port N (default: any free port)
  --auto-consent   sign in as alice@contoso.example at once instead of showing the consent page
  --public-client  write a public client's config (no secret, Reply URL http://localhost:53100)
                   and allow public client flows, for consent --device-code without a secret
  --host ADDRESS   interface to listen on (default 127.0.0.1)
  --dir DIR        keep ca.pem and the daemon home in DIR (default: a temporary folder, removed on exit)`;

export function parseEmulatorArgs(argv: string[]): EmulatorArgs | { error: string } {
  const args: EmulatorArgs = { port: 0, autoConsent: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--auto-consent') args.autoConsent = true;
    else if (flag === '--public-client') args.publicClient = true;
    else if (flag === '--help' || flag === '-h') args.help = true;
    else if (flag === '--port') {
      const port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65535) return { error: `--port takes a port number (0–65535), got ${JSON.stringify(argv[i])}` };
      args.port = port;
    } else if (flag === '--host' || flag === '--dir') {
      const v = value();
      if (!v) return { error: `${flag} needs a value` };
      if (flag === '--host') args.host = v;
      else args.dir = path.resolve(v);
    } else return { error: `unknown option ${JSON.stringify(argv[i])}` };
  }
  return args;
}

/**
 * The daemon's config for this emulator: a confidential client with the secret and the Web
 * Reply URL, or a public client with no credential and a Mobile-and-desktop Reply URL.
 */
export function daemonConfig(emulator: Emulator, publicClient = false): Record<string, string> {
  const client: Record<string, string> = publicClient ? { redirectUri: 'http://localhost:53100' } : { clientSecret: emulator.clientSecret, redirectUri: emulator.redirectUris[0] as string };
  return { clientId: emulator.clientId, authority: emulator.authority, ...client, ewsUrl: emulator.ewsUrl, graphUrl: emulator.graphUrl };
}

/** Writes `<dir of ca.pem>/home/config.json`, usable as EWS_DAEMON_HOME; returns the home. */
export async function writeDaemonHome(emulator: Emulator, publicClient = false): Promise<string> {
  const home = path.join(path.dirname(emulator.caPath), 'home');
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  await fs.chmod(home, 0o700);
  const file = path.join(home, 'config.json');
  await fs.writeFile(file, `${JSON.stringify(daemonConfig(emulator, publicClient), null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return home;
}

export function banner(emulator: Emulator, home: string, consentMode: 'auto' | 'page'): string {
  const consent = consentMode === 'auto' ? 'consent: automatic' : 'consent: a page with Accept / Cancel';
  return [
    `Emulator for Entra ID, EWS and Graph at ${emulator.url} (tenant ${emulator.tenantDomain}; ${consent})`,
    `  export NODE_EXTRA_CA_CERTS=${emulator.caPath} EWS_DAEMON_HOME=${home}`,
    '  host/bin/ews-daemon consent --listen      # sign in as alice@contoso.example (or --device-code)',
    '  host/bin/ews-daemon inbox',
    `Users: alice@contoso.example (assigned), carol@contoso.example (assigned), bob@contoso.example (not assigned: AADSTS50105), admin@contoso.example (administrator)`,
    `Admin API: POST ${emulator.url}/_admin/<op> with a JSON array of arguments (${ADMIN_OPS.slice(0, 6).join(', ')}, …), e.g.`,
    `  curl --cacert ${emulator.caPath} -d '["alice@contoso.example",{"total":5,"unread":1}]' ${emulator.url}/_admin/setMailbox`,
    'Ctrl-C stops it.',
  ].join('\n');
}

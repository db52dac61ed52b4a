// An Entra ID v2 + Exchange EWS + Microsoft Graph emulator over HTTPS, faithful enough that the
// real @azure/msal-node signs in, redeems and refreshes against it unmodified. startEmulator()
// makes a CA and a localhost certificate, seeds the tenant (alice and carol assigned, bob not, an admin),
// and serves until stop(). Used by `npm run emulator`, the demo and every integration test.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EmulatorAdmin } from './admin';
import { createTlsMaterial } from './certs';
import { keyId } from './jwt';
import { createListener } from './router';
import {
  APP_NAME,
  CLIENT_ID,
  DEFAULT_REDIRECT_URI,
  PUBLIC_CLIENT_REDIRECT_URI,
  EmulatorClock,
  EmulatorState,
  TENANT_DOMAIN,
  TENANT_ID,
  newClientSecret,
  type ConsentMode,
} from './state';

export { EmulatorAdmin } from './admin';
export type { AddUserSpec, ClientCertificateFiles, LifetimeSpec } from './admin';
export type { EwsFault, GraphFault, TokenFault } from './faults';
export type { HoldPoint } from './holds';
export type { Stats } from './state';
export { TENANT_ID, TENANT_DOMAIN, CLIENT_ID, DEFAULT_REDIRECT_URI, PUBLIC_CLIENT_REDIRECT_URI } from './state';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1 (the certificate names localhost and 127.0.0.1). */
  host?: string;
  /** Where ca.pem is written; default a new temporary folder, removed again by stop(). */
  dir?: string;
  /** 'page' (default) shows the consent page; 'auto' signs in at once and redirects. */
  consentMode?: ConsentMode;
  /** The clock the emulator reads (ms since the epoch); default Date.now. */
  now?: () => number;
}

export interface Emulator {
  /** https://localhost:PORT */
  url: string;
  tenantId: string;
  tenantDomain: string;
  /** `${url}/${tenantId}` */
  authority: string;
  /** PEM of the CA that signed the server certificate (for NODE_EXTRA_CA_CERTS). */
  caPath: string;
  caPem: string;
  clientId: string;
  clientSecret: string;
  /** Registered Reply URLs: http://localhost:53100/callback and any added by admin.addRedirectUri. */
  redirectUris: string[];
  /** `${url}/EWS/Exchange.asmx` */
  ewsUrl: string;
  /** `${url}/v1.0` */
  graphUrl: string;
  admin: EmulatorAdmin;
  stop(): Promise<void>;
}

function seedUsers(state: EmulatorState): void {
  const alice = state.upsertUser({ username: 'alice@contoso.example', name: 'Alice Example', assigned: true });
  alice.mailbox = { total: 4817, unread: 23 };
  // A second assigned user, for several accounts signed in side by side.
  const carol = state.upsertUser({ username: 'carol@contoso.example', name: 'Carol Example', assigned: true });
  carol.mailbox = { total: 230, unread: 7 };
  const bob = state.upsertUser({ username: 'bob@contoso.example', name: 'Bob Example', assigned: false });
  bob.mailbox = { total: 12, unread: 1 };
  state.upsertUser({ username: 'admin@contoso.example', name: 'Contoso Admin', assigned: true, admin: true });
}

function listen(server: https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clock = new EmulatorClock(options.now ?? Date.now);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-emulator-')));
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tls = createTlsMaterial(clock.wallNow());
  const caPath = path.join(dir, 'ca.pem');
  await fs.writeFile(caPath, tls.caPem, { mode: 0o644 });

  const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { privateKey: keys.privateKey, publicKey: keys.publicKey, kid: keyId(keys.publicKey) };
  const app = {
    clientId: CLIENT_ID,
    displayName: APP_NAME,
    secret: newClientSecret(),
    certificates: new Map(),
    redirectUris: [DEFAULT_REDIRECT_URI],
    publicClientRedirectUris: [PUBLIC_CLIENT_REDIRECT_URI],
    allowPublicClient: false,
  };
  const state = new EmulatorState(clock, app, signingKey, options.consentMode ?? 'page');
  seedUsers(state);
  const admin = new EmulatorAdmin(state);

  let url = '';
  const server = https.createServer({ key: tls.serverKeyPem, cert: tls.serverCertPem }, createListener(state, admin, () => url));
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  url = `https://localhost:${port}`;

  return {
    url,
    tenantId: TENANT_ID,
    tenantDomain: TENANT_DOMAIN,
    authority: `${url}/${TENANT_ID}`,
    caPath,
    caPem: tls.caPem,
    clientId: app.clientId,
    clientSecret: app.secret,
    redirectUris: app.redirectUris,
    ewsUrl: `${url}/EWS/Exchange.asmx`,
    graphUrl: `${url}/v1.0`,
    admin,
    async stop() {
      state.holds.release(); // held handlers finish (into closed sockets) instead of waiting forever
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      if (ownDir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

// A whole, valid Config for unit tests that build the daemon's parts by hand: a confidential
// client of an example tenant, its mailbox at example hosts, every other key at its default.
// Tests override what they are about (`backend`, `realtime`, `ewsUrl`, …).
import type { Config } from '../../host/src/config/config';

export function testConfig(over: Partial<Config> = {}): Config {
  return {
    file: '/home/user/.config/ews-daemon/config.json',
    clientId: 'c1',
    authority: 'https://login.example/contoso',
    knownAuthorityHost: null,
    credential: { kind: 'secret', secret: 's', source: 'config' },
    redirectUri: 'http://localhost:53100/callback',
    ewsUrl: 'https://mail.example/EWS/Exchange.asmx',
    ewsScope: 'https://mail.example/EWS.AccessAsUser.All',
    graphUrl: 'https://graph.example/v1.0',
    graphScope: 'https://graph.example/Mail.ReadBasic',
    backend: 'auto',
    extensionIds: [],
    pollIntervalSeconds: 60,
    realtime: true,
    notifyCommand: null,
    cacheKeyFile: null,
    ...over,
  };
}

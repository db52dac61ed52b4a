// MSAL's configuration for the daemon's app: the authority, the credential when there is one
// (none makes a public client), the cache plugin, our network seam, and MSAL's log without PII.
// Used by the MSAL client and by the device code sign-in, which brings its own network seam.
import { LogLevel, type Configuration, type ICachePlugin, type INetworkModule } from '@azure/msal-node';
import type { Config } from '../config/config';
import type { Http, Log } from '../deps';

export interface MsalClientDeps {
  config: Config;
  http: Http;
  log: Log;
  cachePlugin: ICachePlugin;
}

function credentialOptions(credential: Config['credential']): Partial<Configuration['auth']> {
  switch (credential.kind) {
    case 'none':
      return {};
    case 'secret':
      return { clientSecret: credential.secret };
    case 'certificate':
      return { clientCertificate: { thumbprintSha256: credential.thumbprintSha256, privateKey: credential.privateKeyPem, x5c: credential.certificatePem } };
  }
}

/** MSAL's configuration for the daemon's app over `network` (the device code flow passes its own seam). */
export function msalConfiguration({ config, log, cachePlugin }: MsalClientDeps, network: INetworkModule): Configuration {
  const credential = credentialOptions(config.credential);
  const msalLog = log.child({ component: 'msal' });
  return {
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      knownAuthorities: config.knownAuthorityHost ? [config.knownAuthorityHost] : [],
      ...credential,
    },
    cache: { cachePlugin },
    system: {
      networkClient: network,
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message, containsPii) => {
          if (!containsPii) msalLog.debug(message, { msalLevel: LogLevel[level] });
        },
      },
    },
  };
}

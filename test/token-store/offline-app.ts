// An MSAL app for the token store's unit tests, apart from msal-cache-fixture.ts: that one is
// bundled into the crash test's writer processes, which must start fast and carry no MSAL.
import { ConfidentialClientApplication, type ICachePlugin } from '@azure/msal-node';

/**
 * An MSAL app over `cachePlugin` that never goes to the network: its authority (localhost:1,
 * where nothing listens) comes with its metadata, so only cache operations are possible.
 */
export function offlineApp(clientId: string, cachePlugin: ICachePlugin): ConfidentialClientApplication {
  const base = 'https://localhost:1/tenant';
  const metadata = {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    issuer: `${base}/v2.0`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  };
  return new ConfidentialClientApplication({
    auth: { clientId, clientSecret: 'dummy', authority: base, knownAuthorities: ['localhost:1'], authorityMetadata: JSON.stringify(metadata) },
    cache: { cachePlugin },
  });
}

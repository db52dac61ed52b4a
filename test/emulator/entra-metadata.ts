// Entra's discovery documents: the v2 OpenID configuration MSAL reads after knownAuthorities,
// the JWKS of the key that signs every token, and the instance-discovery answer for clients
// that ask for it. Endpoints use the tenant id, or the alias (common, organizations) as given.
import type { Ctx } from './context';
import { endpointTenant, isAlias } from './context';
import { publicJwk } from './jwt';
import { sendJson } from './http-util';
import { TENANT_ID } from './state';

export function v2Issuer(baseUrl: string): string {
  return `${baseUrl}/${TENANT_ID}/v2.0`;
}

export function tokenEndpoint(baseUrl: string, tenantSegment: string): string {
  return `${baseUrl}/${endpointTenant(tenantSegment)}/oauth2/v2.0/token`;
}

export function openIdConfiguration(baseUrl: string, tenantSegment: string): Record<string, unknown> {
  const t = `${baseUrl}/${endpointTenant(tenantSegment)}`;
  return {
    token_endpoint: `${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    // Like Entra: the multi-tenant documents carry a {tenantid} placeholder in the issuer.
    issuer: isAlias(tenantSegment) ? `${baseUrl}/{tenantid}/v2.0` : v2Issuer(baseUrl),
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

export function serveOpenIdConfiguration(ctx: Ctx, tenantSegment: string): void {
  sendJson(ctx.res, 200, openIdConfiguration(ctx.baseUrl, tenantSegment), { 'cache-control': 'max-age=86400, private', 'access-control-allow-origin': '*' });
}

export function serveKeys(ctx: Ctx): void {
  const key = ctx.state.signingKey;
  sendJson(ctx.res, 200, { keys: [{ ...publicJwk(key.publicKey, key.kid), issuer: v2Issuer(ctx.baseUrl) }] }, { 'cache-control': 'max-age=86400, private' });
}

/** GET /common/discovery/instance: the answer Entra gives a client that runs instance discovery. */
export function serveInstanceDiscovery(ctx: Ctx): void {
  const host = new URL(ctx.baseUrl).host;
  sendJson(ctx.res, 200, {
    tenant_discovery_endpoint: `${ctx.baseUrl}/${TENANT_ID}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

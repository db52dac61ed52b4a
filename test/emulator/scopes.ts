// The resources the emulated tenant knows (Exchange Online, Microsoft Graph), their delegated
// permissions, and how a v2 `scope` parameter splits into OIDC scopes and one resource's
// permissions. Pure.

export interface Resource {
  /** The resource URI: the origin of its scopes and the `aud` of its access tokens. */
  uri: string;
  displayName: string;
  appId: string;
  /** Delegated permissions it exposes, with the text a consent page shows. */
  permissions: Record<string, string>;
  /** What the app registration lists for it ("API permissions"): what `.default` means. */
  configured: string[];
}

export const EXCHANGE: Resource = {
  uri: 'https://outlook.office365.com',
  displayName: 'Office 365 Exchange Online',
  appId: '00000002-0000-0ff1-ce00-000000000000',
  permissions: {
    'EWS.AccessAsUser.All': 'Access mailboxes as the signed-in user via Exchange Web Services',
    'Mail.Read': 'Read user mail',
  },
  configured: ['EWS.AccessAsUser.All'],
};

export const GRAPH: Resource = {
  uri: 'https://graph.microsoft.com',
  displayName: 'Microsoft Graph',
  appId: '00000003-0000-0000-c000-000000000000',
  permissions: {
    'User.Read': 'Sign you in and read your profile',
    'Mail.ReadBasic': 'Read user basic mail',
    'Mail.Read': 'Read your mail',
    'Mail.ReadWrite': 'Read and write access to your mail',
  },
  configured: ['User.Read', 'Mail.ReadBasic'],
};

export const RESOURCES: readonly Resource[] = [EXCHANGE, GRAPH];

/** OpenID Connect scopes: they name no resource. */
export const OIDC_SCOPES: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'View your basic profile',
  email: 'View your email address',
  offline_access: 'Maintain access to data you have given it access to',
};

export interface ScopeRequest {
  oidc: Set<string>;
  /** Resource URI → permission names asked for ('.default' expanded to the configured ones). */
  byResource: Map<string, Set<string>>;
}

export type ScopeProblem =
  | { kind: 'unknown-resource'; scope: string; resource: string }
  | { kind: 'unknown-permission'; scope: string };

/** Splits a space-separated v2 scope list. A bare name (`User.Read`) is Graph's, as in Entra. */
export function parseScopes(scope: string): ScopeRequest | ScopeProblem {
  const request: ScopeRequest = { oidc: new Set(), byResource: new Map() };
  for (const item of scope.split(/\s+/).filter(Boolean)) {
    if (item in OIDC_SCOPES) {
      request.oidc.add(item);
      continue;
    }
    const { origin, name } = splitScope(item);
    const resource = RESOURCES.find((r) => r.uri.toLowerCase() === origin.toLowerCase());
    if (!resource) return { kind: 'unknown-resource', scope: item, resource: origin };
    const names = name === '.default' ? resource.configured : [canonicalName(resource, name)];
    if (names.some((n) => n === undefined)) return { kind: 'unknown-permission', scope: item };
    const set = request.byResource.get(resource.uri) ?? new Set<string>();
    for (const n of names) set.add(n as string);
    request.byResource.set(resource.uri, set);
  }
  return request;
}

export function isScopeProblem(v: ScopeRequest | ScopeProblem): v is ScopeProblem {
  return 'kind' in v;
}

function splitScope(item: string): { origin: string; name: string } {
  const m = /^(https?:\/\/[^/]+)\/(.+)$/i.exec(item);
  if (m) return { origin: m[1] as string, name: m[2] as string };
  return { origin: GRAPH.uri, name: item };
}

/** Permission names are case-insensitive in Entra; answer with the resource's own spelling. */
function canonicalName(resource: Resource, name: string): string | undefined {
  return Object.keys(resource.permissions).find((p) => p.toLowerCase() === name.toLowerCase());
}

/** Full-form scope strings, e.g. `https://outlook.office365.com/EWS.AccessAsUser.All`. */
export function fullScopes(resourceUri: string, names: Iterable<string>): string[] {
  return [...names].map((n) => `${resourceUri}/${n}`);
}

export function resourceByUri(uri: string): Resource | undefined {
  return RESOURCES.find((r) => r.uri === uri);
}

/** Text for a consent page line: the permission's description, or the OIDC scope's. */
export function describeScope(fullScope: string): string {
  if (fullScope in OIDC_SCOPES) return OIDC_SCOPES[fullScope] as string;
  const { origin, name } = splitScope(fullScope);
  const resource = resourceByUri(origin);
  return `${resource?.permissions[name] ?? name} (${resource?.displayName ?? origin})`;
}

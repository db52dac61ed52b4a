// The daemon's protocol, typed once for the daemon, the CLI, the native host and the extension:
// JSON-RPC 2.0 methods with their params and results as schemas. Pure: no I/O.
// Times are milliseconds since the Unix epoch (numbers), so they survive JSON unchanged.
// Change a method here, change PROTOCOL.md and the README's command table.
import { z } from 'zod';
import { ERROR_CODES } from './errors';

export const ErrorInfo = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  advice: z.string(),
  retryable: z.boolean(),
  aadsts: z.number().int().optional(),
  retryAfterMs: z.number().optional(),
  link: z.string().optional(),
  /** When it happened. */
  at: z.number(),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

export const Backend = z.enum(['ews', 'graph']);
export type Backend = z.infer<typeof Backend>;
export const BackendSetting = z.enum(['ews', 'graph', 'auto']);
export type BackendSetting = z.infer<typeof BackendSetting>;

/** The account's grant, as one tagged state: the popup renders from `kind`. */
export const GrantState = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('signed-in') }),
  z.object({ kind: z.literal('refreshing') }),
  /** A transient failure: the refresh token is kept and the refresh is retried. */
  z.object({ kind: z.literal('retrying'), attempt: z.number().int(), nextAttemptAt: z.number(), error: ErrorInfo }),
  /** Entra's verdict: only a new consent helps. */
  z.object({ kind: z.literal('needs-consent'), error: ErrorInfo }),
]);
export type GrantState = z.infer<typeof GrantState>;

export const InboxCount = z.object({
  account: z.string(), // username (UPN / e-mail)
  total: z.number().int().nonnegative(),
  unread: z.number().int().nonnegative(),
  fetchedAt: z.number(),
  backend: Backend,
  /**
   * Present when this count is older than the caller's maxAgeMs because the mailbox server asked
   * to wait (a back-off): no newer count can be had before `retryAt`. Added in 0.2.
   */
  stale: z.object({ reason: z.literal('throttled'), retryAt: z.number() }).optional(),
});
export type InboxCount = z.infer<typeof InboxCount>;

export const BackendStatus = z.object({
  configured: BackendSetting,
  /** The backend that answers now. */
  active: Backend,
  /** One sentence saying why this backend answers (e.g. EWS turned off for the tenant). */
  reason: z.string(),
  /** When EWS was found turned off, if it was. */
  ewsDisabledAt: z.number().nullable(),
  /** When EWS will be tried again (auto mode, after it was found off). */
  ewsRecheckAt: z.number().nullable(),
});
export type BackendStatus = z.infer<typeof BackendStatus>;

/** How counts reach subscribers: pushed by EWS streaming, polled, or fetched only when asked. */
export const RealtimeStatus = z.object({
  kind: z.enum(['streaming', 'polling', 'off']),
  since: z.number(),
  /** One sentence, e.g. "polling every 60 s: Microsoft Graph answers, …". */
  reason: z.string(),
});
export type RealtimeStatus = z.infer<typeof RealtimeStatus>;

export const AccessTokenStatus = z.object({
  resource: Backend,
  scopes: z.array(z.string()),
  expiresOn: z.number(),
});

export const AccountStatus = z.object({
  /** MSAL's homeAccountId (uid.utid): what --account and `account` params also accept, beside the username. */
  id: z.string(),
  username: z.string(),
  name: z.string().optional(),
  tenantId: z.string(),
  state: GrantState,
  accessTokens: z.array(AccessTokenStatus),
  lastRefreshAt: z.number().nullable(),
  nextRefreshAt: z.number().nullable(),
  lastError: ErrorInfo.nullable(),
  /** When the refresh token lapses if unused (90 days of inactivity after its last use). */
  refreshTokenLapsesAt: z.number().nullable(),
  backend: BackendStatus,
  inbox: InboxCount.nullable(),
  /** How counts arrive; added with EWS streaming, so absent from older daemons. */
  realtime: RealtimeStatus.optional(),
});
export type AccountStatus = z.infer<typeof AccountStatus>;

/**
 * How the daemon's app registration proves itself: a confidential client with a secret or a
 * certificate, or a public client (no credential: PKCE alone, "Mobile and desktop applications").
 */
export const ClientInfo = z.object({
  kind: z.enum(['public', 'confidential']),
  credential: z.enum(['none', 'secret', 'certificate']),
  clientId: z.string(),
});
export type ClientInfo = z.infer<typeof ClientInfo>;

/**
 * Where the token cache's key is: the OS keyring, a key file (`where` is its path), a systemd
 * credential, or none (the cache is plain; `advice` says how to encrypt it). `error` when the key
 * could not be had (keyring locked, key missing or wrong): the cache is then kept as it is.
 */
export const CacheKeyInfo = z.object({
  kind: z.enum(['keyring', 'file', 'systemd', 'none']),
  where: z.string().optional(),
  advice: z.string().optional(),
  error: ErrorInfo.optional(),
});
export type CacheKeyInfo = z.infer<typeof CacheKeyInfo>;

export const StatusResult = z.object({
  daemon: z.object({
    version: z.string(),
    pid: z.number().int(),
    startedAt: z.number(),
    configPath: z.string(),
    stateDir: z.string(),
    socketPath: z.string(),
    /**
     * Present while the daemon's log cannot be written (e.g. ENOSPC: the disk is full): lines are
     * dropped and counted meanwhile, and logging resumes by itself once a write succeeds. Added in 0.2.
     */
    logPaused: z.object({ since: z.number(), reason: z.string(), dropped: z.number().int() }).optional(),
  }),
  accounts: z.array(AccountStatus),
  pendingConsents: z.number().int(),
  /** Absent from daemons that predate public clients. */
  client: ClientInfo.optional(),
  /** Added in 0.2: older daemons leave it out. */
  cacheKey: CacheKeyInfo.optional(),
});
export type StatusResult = z.infer<typeof StatusResult>;

const AccountSelector = z.object({
  /** Username or account id; may be left out when exactly one account is signed in. */
  account: z.string().min(1).optional(),
});

export const ConsentBeginParams = z.object({
  loginHint: z.string().min(1).optional(),
  /** Build the tenant-wide admin-consent URL instead of a user sign-in. */
  admin: z.boolean().optional(),
  prompt: z.enum(['select_account', 'login', 'consent', 'none']).optional(),
});
export const ConsentBeginResult = z.object({
  authUrl: z.string().url(),
  redirectUri: z.string().url(),
  /** The session's state value: the callback's `state` must equal it. Not a secret. */
  state: z.string(),
  expiresAt: z.number(),
  admin: z.boolean(),
});
export type ConsentBeginResult = z.infer<typeof ConsentBeginResult>;

export const ConsentCompleteParams = z.object({ redirectUrl: z.string().min(1).max(64 * 1024) });
export const ConsentCompleteResult = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('signed-in'), account: AccountStatus }),
  z.object({ kind: z.literal('admin-consented'), tenant: z.string() }),
]);
export type ConsentCompleteResult = z.infer<typeof ConsentCompleteResult>;

export const ConsentCancelParams = z.object({ state: z.string().min(1) });

/** The device code flow: what to show the user, and the flow to wait for or cancel. */
export const DeviceCodeBeginResult = z.object({
  /** Names the flow for wait and cancel. Not a secret (the device code itself never leaves the daemon). */
  flowId: z.string(),
  userCode: z.string(),
  verificationUri: z.string().url(),
  expiresAt: z.number(),
  /** Entra's own sentence saying where to go and what to type. */
  message: z.string(),
});
export type DeviceCodeBeginResult = z.infer<typeof DeviceCodeBeginResult>;
export const DeviceCodeFlowParams = z.object({ flowId: z.string().min(1) });
export const ConsentCancelResult = z.object({ cancelled: z.boolean() });

export const InboxCountParams = AccountSelector.extend({
  /** A count younger than this is served from memory; 0 forces a fetch. Default 30 s. */
  maxAgeMs: z.number().int().nonnegative().optional(),
  /**
   * During a server's back-off: true (the default) answers the older count marked `stale`;
   * false answers the `throttled` error with retryAfterMs instead. Added in 0.2.
   */
  allowStale: z.boolean().optional(),
});

/** A JWT decoded for the viewer: header and claims only, never the signature or the raw string. */
export const DecodedJwt = z.object({ header: z.record(z.string(), z.unknown()), claims: z.record(z.string(), z.unknown()) });

export const TokenEntry = z.object({
  kind: z.enum(['account', 'id-token', 'access-token', 'refresh-token', 'app-metadata']),
  /** The cache key, minus nothing secret (keys hold ids, never token strings). */
  key: z.string(),
  homeAccountId: z.string().optional(),
  username: z.string().optional(),
  environment: z.string().optional(),
  realm: z.string().optional(),
  clientId: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  cachedAt: z.number().optional(),
  expiresOn: z.number().optional(),
  extendedExpiresOn: z.number().optional(),
  refreshOn: z.number().optional(),
  /** Refresh tokens: when inactivity will end it (last use + 90 days). */
  lapsesAt: z.number().optional(),
  /** JWTs: decoded header and claims. Opaque tokens (and refresh tokens): null. */
  jwt: DecodedJwt.nullable().optional(),
  /** For opaque entries: why there is nothing to decode. */
  note: z.string().optional(),
});
export type TokenEntry = z.infer<typeof TokenEntry>;
export const TokensViewResult = z.object({ cachePath: z.string(), entries: z.array(TokenEntry), cacheKey: CacheKeyInfo.optional() });
export type TokensViewResult = z.infer<typeof TokensViewResult>;

export const AccountRemoveResult = z.object({ removed: z.array(z.string()) });

export const TokenGetParams = AccountSelector.extend({ resource: Backend.optional(), forceRefresh: z.boolean().optional() });
export const TokenGetResult = z.object({
  accessToken: z.string(),
  expiresOn: z.number(),
  scopes: z.array(z.string()),
  account: z.string(),
  resource: Backend,
});

export const EmptyParams = z.object({}).strict().optional();

/** `watching: true` while a person looks (the popup open, `ews-daemon watch`): counts are polled faster where nothing pushes. */
export const EventsSubscribeParams = z.object({ watching: z.boolean().optional() }).strict().optional();

/** The native host's first frame on the socket: who launched it. Not callable by extensions. */
export const RelayHelloParams = z.object({ origin: z.string().min(1) });

/**
 * Who may call a method: `cli` is any client of the daemon's socket (the CLI, scripts), which
 * only this user can open; `extension` a browser extension relayed by the native host, after
 * its origin was accepted; `relay` the native host itself, in its first frame only.
 */
export type Caller = 'cli' | 'extension' | 'relay';

export interface MethodSpec<P extends z.ZodTypeAny, R extends z.ZodTypeAny, C extends readonly Caller[]> {
  params: P;
  result: R;
  callers: C;
}
const ANY_CLIENT = ['cli', 'extension'] as const;
function method<P extends z.ZodTypeAny, R extends z.ZodTypeAny, const C extends readonly Caller[] = typeof ANY_CLIENT>(params: P, result: R, callers?: C): MethodSpec<P, R, C> {
  return { params, result, callers: callers ?? (ANY_CLIENT as unknown as C) };
}

/** Every method once: its params, its result and who may call it. Change it, change PROTOCOL.md. */
export const METHODS = {
  status: method(EmptyParams, StatusResult),
  'consent.begin': method(ConsentBeginParams, ConsentBeginResult),
  'consent.complete': method(ConsentCompleteParams, ConsentCompleteResult),
  'consent.cancel': method(ConsentCancelParams, ConsentCancelResult),
  'consent.deviceCode.begin': method(EmptyParams, DeviceCodeBeginResult),
  /** Resolves when the user has signed in (or the flow failed, expired or was cancelled). */
  'consent.deviceCode.wait': method(DeviceCodeFlowParams, ConsentCompleteResult),
  'consent.deviceCode.cancel': method(DeviceCodeFlowParams, ConsentCancelResult),
  'inbox.count': method(InboxCountParams, InboxCount),
  'tokens.view': method(AccountSelector.optional(), TokensViewResult),
  'account.remove': method(AccountSelector.optional(), AccountRemoveResult),
  // Raw tokens go only to this user's local scripts, never to a browser.
  'token.get': method(TokenGetParams.optional(), TokenGetResult, ['cli']),
  'events.subscribe': method(EventsSubscribeParams, z.object({ subscribed: z.literal(true) })),
  'relay.hello': method(RelayHelloParams, z.object({ accepted: z.literal(true) }), ['relay']),
} as const;

export type MethodName = keyof typeof METHODS;
/** What a caller sends (defaults not yet applied). */
export type ParamsOf<M extends MethodName> = z.input<(typeof METHODS)[M]['params']>;
/** What a handler receives: the params after the schema checked them. */
export type CheckedParamsOf<M extends MethodName> = z.output<(typeof METHODS)[M]['params']>;
export type ResultOf<M extends MethodName> = z.infer<(typeof METHODS)[M]['result']>;
/** The methods a browser extension may call (through the native host). */
export type ExtensionMethod = { [M in MethodName]: 'extension' extends (typeof METHODS)[M]['callers'][number] ? M : never }[MethodName];

/** Notifications the daemon sends to `events.subscribe` callers. */
export const NOTIFICATIONS = {
  'status.changed': StatusResult,
  'inbox.changed': InboxCount,
} as const;
export type NotificationName = keyof typeof NOTIFICATIONS;
export type NotificationParamsOf<N extends NotificationName> = z.infer<(typeof NOTIFICATIONS)[N]>;
/** One notification, as a tagged union on its method: a `switch` over `method` narrows `params`. */
export type Notification = { [N in NotificationName]: { method: N; params: NotificationParamsOf<N> } }[NotificationName];

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, name);
}

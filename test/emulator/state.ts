// Everything the emulated tenant remembers: its clock, users and mailboxes, the one registered
// app, consent grants, authorization codes, refresh tokens, pending sign-in pages, lifetimes,
// injected faults, held requests and request counters. Handlers read and change it; nothing else holds state.
import crypto from 'node:crypto';
import { StreamingHub, emptyStreamingCounters, type StreamingCounters } from './ews-streaming';
import { FaultQueue, type EwsFaultSpec, type GraphFault, type TokenFault } from './faults';
import { Holds } from './holds';
import type { ScopeRequest } from './scopes';
import { DEVICE_CODE_DEFAULTS, type DeviceCodeRecord } from './device-code';

export const TENANT_ID = '72f988bf-0000-4000-8000-00000000c0de';
export const TENANT_DOMAIN = 'contoso.example';
export const CLIENT_ID = '0d2a5e1c-7c3b-4e0a-9b8d-00000000ed5d';
export const APP_NAME = 'ews-daemon';
export const DEFAULT_REDIRECT_URI = 'http://localhost:53100/callback';
/** The "Mobile and desktop applications" Reply URL, as `az ad app create --public-client-redirect-uris` registers it. */
export const PUBLIC_CLIENT_REDIRECT_URI = 'http://localhost';

/** Entra's defaults: codes live about 10 minutes, refresh tokens 90 days of inactivity. */
export const DEFAULT_CODE_SECONDS = 600;
export const DEFAULT_REFRESH_INACTIVITY_SECONDS = 90 * 24 * 3600;
/** Access tokens live 60–90 minutes, picked at random per token (https://learn.microsoft.com/en-us/entra/identity-platform/configurable-token-lifetimes). */
export const ACCESS_TOKEN_MIN_SECONDS = 3600;
export const ACCESS_TOKEN_MAX_SECONDS = 5400;
/** A consent page left open longer than this is forgotten, like Entra's sign-in context. */
export const PENDING_SIGN_IN_MS = 3600_000;

export type ConsentMode = 'auto' | 'page';

/** Time as the emulator sees it: an injected clock plus the offset tests move with advanceTime. */
export class EmulatorClock {
  private offset = 0;
  constructor(private readonly base: () => number) {}
  now(): number {
    return this.base() + this.offset;
  }
  /** The unshifted clock: what a client's own clock reads (for its client assertions). */
  wallNow(): number {
    return this.base();
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface Mailbox {
  total: number;
  unread: number;
}

export interface User {
  username: string;
  name: string;
  password?: string;
  /** Assigned to the app; when false sign-in ends in AADSTS50105. */
  assigned: boolean;
  /** May grant tenant-wide (admin) consent. */
  admin: boolean;
  oid: string;
  mailbox: Mailbox;
  /** Full-form scopes this user has consented to. */
  grants: Set<string>;
  /** Refresh tokens issued before this instant are revoked (AADSTS50173). */
  tokensValidFrom: number;
}

export interface AppRegistration {
  clientId: string;
  displayName: string;
  secret: string;
  /** `S256:<x5t#S256>` and `SHA1:<x5t>` (base64url thumbprints) → the certificate's public key. */
  certificates: Map<string, crypto.KeyObject>;
  /** Reply URLs of the "Web" platform: a code issued to one is redeemed with client authentication. */
  redirectUris: string[];
  /** Reply URLs of the "Mobile and desktop applications" platform: a code issued to one is a public client's. */
  publicClientRedirectUris: string[];
  /** "Allow public client flows" (isFallbackPublicClient): the device code flow without client authentication. */
  allowPublicClient: boolean;
}

/**
 * Whether a grant's token requests must, may or must not carry client authentication: a code for
 * a Web Reply URL must (AADSTS7000218 without), one for a Mobile-and-desktop Reply URL must not
 * (AADSTS700025 with), a device code may (the flow is public; a confidential app may still prove itself).
 */
export type ClientAuthRule = 'required' | 'forbidden' | 'optional';

/** A validated authorize request, kept while its consent page is open and inside its code. */
export interface AuthorizeRequest {
  tenantSegment: string;
  redirectUri: string;
  responseMode: 'query' | 'fragment' | 'form_post';
  state?: string;
  nonce?: string;
  scope: string;
  scopes: ScopeRequest;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  loginHint?: string;
  prompt?: string;
}

export interface AuthCode {
  request: AuthorizeRequest;
  username: string;
  issuedAt: number;
  used: boolean;
}

export interface RefreshRecord {
  username: string;
  /** When the grant behind it began (the sign-in), for AADSTS50173's "issued on". */
  grantIssuedAt: number;
  lastUsedAt: number;
  /** Set by admin.expireRefreshTokens: the next use answers AADSTS700082. */
  expired: boolean;
  /** Resource scopes of the sign-in: what a refresh without `scope` is for. */
  defaultScope: string;
  /** Inherited from the grant that began it. */
  clientAuth: ClientAuthRule;
}

export interface Lifetimes {
  /** Fixed access-token lifetime; undefined picks 60–90 minutes at random, as Entra does. */
  accessTokenSeconds?: number;
  refreshTokenInactivitySeconds: number;
  codeSeconds: number;
}

export interface Stats {
  tokenRequests: { authorization_code: number; refresh_token: number; device_code: number };
  /** slow_down answers to device-code polls. */
  deviceCodeSlowDowns: number;
  /** The emulator's time of each device-code poll judged (the last DEVICE_POLLS_KEPT), and its answer. */
  deviceCodePolls: { at: number; answer: string }[];
  ewsRequests: number;
  /** EWS requests by SOAP operation (GetFolder, Subscribe, GetStreamingEvents, …; 'malformed'), 401s and faults included. */
  ewsOperations: Record<string, number>;
  graphRequests: number;
  lastEwsHeaders: Record<string, string> | null;
  lastGraphHeaders: Record<string, string> | null;
  authorizeRequests: number;
  /** Subscribe / GetStreamingEvents / Unsubscribe counts and the peak of open connections per mailbox. */
  streaming: StreamingCounters;
}

export function emptyStats(): Stats {
  return {
    tokenRequests: { authorization_code: 0, refresh_token: 0, device_code: 0 },
    deviceCodeSlowDowns: 0,
    deviceCodePolls: [],
    ewsRequests: 0,
    ewsOperations: {},
    graphRequests: 0,
    lastEwsHeaders: null,
    lastGraphHeaders: null,
    authorizeRequests: 0,
    streaming: emptyStreamingCounters(),
  };
}

export interface SigningKey {
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  kid: string;
}

/** A stable object id per user name, so the same user keeps the same `oid` across restarts. */
export function objectIdFor(username: string): string {
  const h = crypto.createHash('sha256').update(`${TENANT_ID}/${username.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A client secret shaped like the ones Entra hands out (40 characters with a `~`). */
export function newClientSecret(): string {
  const raw = crypto.randomBytes(30).toString('base64url').replace(/[-_]/g, 'x');
  return `${raw.slice(0, 3)}8Q~${raw.slice(3, 37)}`;
}

export const randomToken = (bytes = 48) => crypto.randomBytes(bytes).toString('base64url');

export class EmulatorState {
  readonly users = new Map<string, User>();
  readonly codes = new Map<string, AuthCode>();
  readonly refreshTokens = new Map<string, RefreshRecord>();
  readonly pending = new Map<string, { request: AuthorizeRequest; createdAt: number; admin: boolean }>();
  readonly adminGrants = new Set<string>();
  readonly graphInFlight = new Map<string, number>();
  /** `subscribe` faults answer only Subscribe requests (ErrorServerBusy and the like). */
  readonly faults = { token: new FaultQueue<TokenFault>(), ews: new FaultQueue<EwsFaultSpec>(), graph: new FaultQueue<GraphFault>(), subscribe: new FaultQueue<EwsFaultSpec>() };
  readonly deviceCodes = new Map<string, DeviceCodeRecord>();
  deviceCodeTiming = { ...DEVICE_CODE_DEFAULTS };
  /** Device-code polls still to be answered slow_down whatever their pace (admin.slowDownDeviceCodes). */
  slowDownPolls = 0;
  readonly holds = new Holds();
  lifetimes: Lifetimes = { refreshTokenInactivitySeconds: DEFAULT_REFRESH_INACTIVITY_SECONDS, codeSeconds: DEFAULT_CODE_SECONDS };
  requireAdminConsent = false;
  ewsDisabled = false;
  stats: Stats = emptyStats();
  readonly streaming: StreamingHub;

  constructor(
    readonly clock: EmulatorClock,
    readonly app: AppRegistration,
    readonly signingKey: SigningKey,
    public consentMode: ConsentMode,
  ) {
    this.streaming = new StreamingHub(clock);
    this.streaming.counters = this.stats.streaming;
  }

  findUser(username: string | undefined): User | undefined {
    return username ? this.users.get(username.trim().toLowerCase()) : undefined;
  }

  /** Adds a user, or updates the named fields of an existing one. */
  upsertUser(spec: { username: string; name?: string; password?: string; assigned?: boolean; admin?: boolean }): User {
    const key = spec.username.trim().toLowerCase();
    const existing = this.users.get(key);
    const user: User = existing ?? {
      username: key,
      name: spec.name ?? key.split('@')[0] ?? key,
      assigned: true,
      admin: false,
      oid: objectIdFor(key),
      mailbox: { total: 0, unread: 0 },
      grants: new Set(),
      tokensValidFrom: 0,
    };
    if (spec.name !== undefined) user.name = spec.name;
    if (spec.password !== undefined) user.password = spec.password;
    if (spec.assigned !== undefined) user.assigned = spec.assigned;
    if (spec.admin !== undefined) user.admin = spec.admin;
    this.users.set(key, user);
    return user;
  }

  /** Seconds the next access token lives. */
  accessTokenSeconds(): number {
    const fixed = this.lifetimes.accessTokenSeconds;
    if (fixed !== undefined) return fixed;
    return ACCESS_TOKEN_MIN_SECONDS + crypto.randomInt(ACCESS_TOKEN_MAX_SECONDS - ACCESS_TOKEN_MIN_SECONDS + 1);
  }

  issueCode(request: AuthorizeRequest, username: string): string {
    const code = `1.A${randomToken(96)}`;
    this.codes.set(code, { request, username, issuedAt: this.clock.now(), used: false });
    return code;
  }

  issueRefreshToken(username: string, grantIssuedAt: number, defaultScope: string, clientAuth: ClientAuthRule): string {
    const token = `1.A${randomToken(180)}`;
    this.refreshTokens.set(token, { username, grantIssuedAt, lastUsedAt: this.clock.now(), expired: false, defaultScope, clientAuth });
    return token;
  }

  /** Scopes the user may get tokens for: their own consent plus the tenant-wide admin consent. */
  isGranted(user: User, fullScope: string): boolean {
    return user.grants.has(fullScope) || this.adminGrants.has(fullScope);
  }

  /** Forgets sign-in pages left open too long. */
  sweepPending(): void {
    const cutoff = this.clock.now() - PENDING_SIGN_IN_MS;
    for (const [id, p] of this.pending) if (p.createdAt < cutoff) this.pending.delete(id);
  }
}

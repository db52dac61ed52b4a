// In-process control of the emulator (the same operations are served over HTTPS by
// admin-http.ts): users and mailboxes, lifetimes, grant revocation and expiry, consent policy,
// client certificates, injected faults, held requests, the clock, and request counters. Arguments are checked,
// since they also arrive as JSON from other processes.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createClientCertificate } from './certs';
import { decideDeviceCode } from './device-code';
import { SUBSCRIBE_FAULT_KINDS } from './ews';
import type { StreamingSettings } from './ews-streaming';
import { normalizeEwsFault, type EwsFault, type GraphFault, type TokenFault } from './faults';
import { HOLD_POINTS, type HoldPoint } from './holds';
import { emptyStats, type ConsentMode, type EmulatorState, type Stats, type User } from './state';

export interface AddUserSpec {
  username: string;
  name?: string;
  password?: string;
  /** Assigned to the app (default true); false ends sign-in with AADSTS50105. */
  assigned?: boolean;
  /** May grant admin consent (default false). */
  admin?: boolean;
}

export interface LifetimeSpec {
  /** Fixed access-token lifetime in seconds; null returns to Entra's random 3600–5400. */
  accessTokenSeconds?: number | null;
  refreshTokenInactivitySeconds?: number;
  codeSeconds?: number;
}

export interface ClientCertificateFiles {
  certificatePath: string;
  privateKeyPath: string;
  /** Hex SHA-256 of the certificate (what MSAL's clientCertificate.thumbprintSha256 takes). */
  thumbprintSha256: string;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

const isCount = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
const isTimes = (n: unknown) => n === Infinity || (typeof n === 'number' && Number.isInteger(n) && n > 0);
const EWS_KINDS = ['busy-fault', 'busy-message', 'http-503', 'http-403', 'malformed', 'error-message', 'connection-count', 'slow'];

export class EmulatorAdmin {
  private certCount = 0;

  constructor(private readonly state: EmulatorState) {}

  addUser(spec: AddUserSpec): void {
    check(typeof spec?.username === 'string' && /^[^@\s]+@[^@\s]+$/.test(spec.username), 'addUser needs { username: "name@domain" }');
    this.state.upsertUser(spec);
  }

  setMailbox(username: string, counts: { total: number; unread: number }): void {
    check(isCount(counts?.total) && isCount(counts?.unread) && counts.unread <= counts.total, 'setMailbox needs { total, unread }: whole numbers, unread ≤ total');
    const user = this.user(username);
    const before = user.mailbox;
    user.mailbox = { total: counts.total, unread: counts.unread };
    this.state.streaming.mailboxChanged(user, before);
  }

  /** Streaming knobs: keep-alive interval, the length of a ConnectionTimeout "minute", the per-mailbox connection limit. */
  setStreaming(spec: Partial<StreamingSettings>): void {
    const ms = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isInteger(n) && n > 0);
    check(ms(spec?.keepAliveMs) && ms(spec?.minuteMs) && ms(spec?.maxConnectionsPerUser), 'setStreaming takes { keepAliveMs?, minuteMs?, maxConnectionsPerUser? }: positive whole numbers');
    Object.assign(this.state.streaming.settings, spec);
  }

  /** The fault switch: ends open GetStreamingEvents connections (of one mailbox, or all) mid-stream; answers how many. */
  dropStreams(username?: string): number {
    return this.state.streaming.drop(username === undefined ? undefined : this.user(username).username);
  }

  /** Forgets streaming subscriptions (of one mailbox, or all): the next GetStreamingEvents answers ErrorSubscriptionNotFound. */
  expireSubscriptions(username?: string): number {
    return this.state.streaming.expire(username === undefined ? undefined : this.user(username).username);
  }

  /** GetStreamingEvents connections open now for this mailbox. */
  openStreams(username: string): number {
    return this.state.streaming.openConnections(this.user(username).username);
  }

  /** The next `times` Subscribe requests answer this fault (ErrorServerBusy with its back-off, a 503, ErrorExceededConnectionCount). */
  failSubscribe(fault: EwsFault, times = 1): void {
    const spec = normalizeEwsFault(fault);
    check(SUBSCRIBE_FAULT_KINDS.includes(spec?.kind), `failSubscribe: one of ${SUBSCRIBE_FAULT_KINDS.join(', ')}`);
    check(isTimes(times), 'times is a positive whole number or Infinity');
    this.state.faults.subscribe.add(spec, times);
  }

  setLifetimes(spec: LifetimeSpec): void {
    const positive = (n: unknown) => n === undefined || (typeof n === 'number' && n > 0);
    check(positive(spec?.refreshTokenInactivitySeconds) && positive(spec?.codeSeconds), 'setLifetimes: lifetimes are positive numbers of seconds');
    check(spec.accessTokenSeconds === undefined || spec.accessTokenSeconds === null || positive(spec.accessTokenSeconds), 'setLifetimes: accessTokenSeconds is a positive number, or null for random');
    const l = this.state.lifetimes;
    if (spec.accessTokenSeconds !== undefined) l.accessTokenSeconds = spec.accessTokenSeconds ?? undefined;
    if (spec.refreshTokenInactivitySeconds !== undefined) l.refreshTokenInactivitySeconds = spec.refreshTokenInactivitySeconds;
    if (spec.codeSeconds !== undefined) l.codeSeconds = spec.codeSeconds;
  }

  /** Every refresh token the user holds answers AADSTS50173 from now on (a password reset). */
  revokeRefreshTokens(username: string): void {
    this.user(username).tokensValidFrom = this.state.clock.now();
  }

  /** Every refresh token the user holds answers AADSTS700082 (expired by inactivity). */
  expireRefreshTokens(username: string): void {
    const key = this.user(username).username;
    for (const rec of this.state.refreshTokens.values()) if (rec.username === key) rec.expired = true;
  }

  setConsentMode(mode: ConsentMode): void {
    check(mode === 'auto' || mode === 'page', "setConsentMode takes 'auto' or 'page'");
    this.state.consentMode = mode;
  }

  /** While on, sign-in without a covering admin consent ends in consent_required / AADSTS90094. */
  requireAdminConsent(on: boolean): void {
    check(typeof on === 'boolean', 'requireAdminConsent takes true or false');
    this.state.requireAdminConsent = on;
  }

  addRedirectUri(uri: string): void {
    check(typeof uri === 'string' && URL.canParse(uri), 'addRedirectUri takes an absolute URL');
    if (!this.state.app.redirectUris.includes(uri)) this.state.app.redirectUris.push(uri);
  }

  /** Adds a Reply URL to the "Mobile and desktop applications" platform (a public client's). */
  addPublicClientRedirectUri(uri: string): void {
    check(typeof uri === 'string' && URL.canParse(uri), 'addPublicClientRedirectUri takes an absolute URL');
    if (!this.state.app.publicClientRedirectUris.includes(uri)) this.state.app.publicClientRedirectUris.push(uri);
  }

  /** Removes a Reply URL from both platforms (Web and Mobile-and-desktop). */
  removeRedirectUri(uri: string): void {
    for (const list of [this.state.app.redirectUris, this.state.app.publicClientRedirectUris]) {
      const i = list.indexOf(uri);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /** "Allow public client flows" (isFallbackPublicClient): the device code flow without a client credential. */
  setAllowPublicClient(on: boolean): void {
    check(typeof on === 'boolean', 'setAllowPublicClient takes true or false');
    this.state.app.allowPublicClient = on;
  }

  /** Registers a certificate (PEM) as a credential of the app, by its SHA-256 and SHA-1 thumbprints. */
  registerClientCertificate(certificatePem: string): { thumbprintSha256: string } {
    const cert = new crypto.X509Certificate(certificatePem);
    const s256 = crypto.createHash('sha256').update(cert.raw).digest();
    const sha1 = crypto.createHash('sha1').update(cert.raw).digest();
    this.state.app.certificates.set(`S256:${s256.toString('base64url')}`, cert.publicKey);
    this.state.app.certificates.set(`SHA1:${sha1.toString('base64url')}`, cert.publicKey);
    return { thumbprintSha256: s256.toString('hex').toUpperCase() };
  }

  /** Writes a new client certificate and its key (PEM, 0600) into dir and registers it. */
  async addClientCertificate(dir: string): Promise<ClientCertificateFiles> {
    check(typeof dir === 'string' && dir.length > 0, 'addClientCertificate takes a folder');
    const made = createClientCertificate(this.state.clock.wallNow());
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const n = ++this.certCount;
    const certificatePath = path.join(dir, `client-cert-${n}.pem`);
    const privateKeyPath = path.join(dir, `client-key-${n}.pem`);
    await fs.writeFile(certificatePath, made.certPem, { mode: 0o600 });
    await fs.writeFile(privateKeyPath, made.keyPem, { mode: 0o600 });
    this.registerClientCertificate(made.certPem);
    return { certificatePath, privateKeyPath, thumbprintSha256: made.thumbprintSha256 };
  }

  /** Approves a pending device code as the verification page would, signed in as username. */
  approveDeviceCode(userCode: string, username = 'alice@contoso.example'): void {
    const e = decideDeviceCode(this.state, String(userCode), { username, action: 'approve' });
    check(e === null, `approveDeviceCode: ${e ? `AADSTS${e.aadsts}` : ''}`);
  }

  declineDeviceCode(userCode: string): void {
    const e = decideDeviceCode(this.state, String(userCode), { username: '', action: 'decline' });
    check(e === null, `declineDeviceCode: ${e ? `AADSTS${e.aadsts}` : ''}`);
  }

  /** Lifetime and polling interval of device codes issued from now on, in seconds (Entra: 900 and 5). */
  setDeviceCodeTiming(spec: { expiresInSeconds?: number; intervalSeconds?: number }): void {
    const ok = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isInteger(n) && n > 0);
    check(ok(spec?.expiresInSeconds) && ok(spec?.intervalSeconds), 'setDeviceCodeTiming: whole positive seconds');
    Object.assign(this.state.deviceCodeTiming, Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)));
  }

  /** The next n device-code polls are answered slow_down, however paced (a server under load). */
  slowDownDeviceCodes(n: number): void {
    check(isCount(n), 'slowDownDeviceCodes takes a whole number');
    this.state.slowDownPolls = n;
  }

  failToken(fault: TokenFault, times = 1): void {
    check(['aadsts', 'http', 'drop', 'slow'].includes(fault?.kind), "failToken: kind is 'aadsts', 'http', 'drop' or 'slow'");
    check(fault.kind !== 'aadsts' || (typeof fault.aadsts === 'number' && typeof fault.error === 'string' && typeof fault.status === 'number'), 'failToken aadsts needs { status, error, aadsts }');
    check(isTimes(times), 'times is a positive whole number or Infinity');
    this.state.faults.token.add(fault, times);
  }

  failEws(fault: EwsFault, times = Infinity): void {
    const spec = normalizeEwsFault(fault);
    check(EWS_KINDS.includes(spec?.kind), `failEws: one of ${EWS_KINDS.join(', ')}`);
    check(isTimes(times), 'times is a positive whole number or Infinity');
    this.state.faults.ews.add(spec, times);
  }

  failGraph(fault: GraphFault, times = 1): void {
    check(fault?.kind === 'slow' || (fault?.kind === 'http' && [401, 429, 500, 503].includes(fault.status)), "failGraph: { kind: 'http', status: 401|429|500|503 } or { kind: 'slow', ms }");
    check(isTimes(times), 'times is a positive whole number or Infinity');
    this.state.faults.graph.add(fault, times);
  }

  /** EWS answers HTTP 403 for the tenant (the 2026 retirement block) while on. */
  setEwsDisabled(disabled: boolean): void {
    check(typeof disabled === 'boolean', 'setEwsDisabled takes true or false');
    this.state.ewsDisabled = disabled;
  }

  clearFaults(): void {
    this.state.faults.token.clear();
    this.state.faults.ews.clear();
    this.state.faults.graph.clear();
    this.state.faults.subscribe.clear();
  }

  /**
   * From now on, requests to `endpoint` wait where an injected fault would apply, until
   * `release`; `heldRequests` counts them. `clearFaults` leaves holds alone.
   */
  hold(endpoint: HoldPoint): void {
    check(HOLD_POINTS.includes(endpoint), `hold: one of ${HOLD_POINTS.join(', ')}`);
    this.state.holds.hold(endpoint);
  }

  /**
   * Stops holding `endpoint` (every endpoint when absent) and lets its waiting requests go on;
   * with `count`, lets only the oldest `count` waiting go on and keeps holding.
   */
  release(endpoint?: HoldPoint, count = Infinity): void {
    check(endpoint === undefined || HOLD_POINTS.includes(endpoint), `release: one of ${HOLD_POINTS.join(', ')}, or nothing for all`);
    check(isTimes(count), 'release: count is a positive whole number, or absent for all');
    this.state.holds.release(endpoint, count);
  }

  /** How many requests wait at `endpoint` (at every endpoint when absent); a client that hung up is not counted. */
  heldRequests(endpoint?: HoldPoint): number {
    check(endpoint === undefined || HOLD_POINTS.includes(endpoint), `heldRequests: one of ${HOLD_POINTS.join(', ')}, or nothing for all`);
    return this.state.holds.count(endpoint);
  }

  stats(): Stats {
    return structuredClone(this.state.stats);
  }

  resetStats(): void {
    this.state.stats = emptyStats();
    this.state.streaming.counters = this.state.stats.streaming;
  }

  /** Moves the emulator's clock (token times, code and refresh-token lifetimes); may be negative. */
  advanceTime(ms: number): void {
    check(typeof ms === 'number' && Number.isFinite(ms), 'advanceTime takes milliseconds');
    this.state.clock.advance(ms);
  }

  /**
   * Every refresh token issued to the user, newest last: for tests that check no file holds one.
   * In-process only (not an admin-API op: the HTTPS admin API never hands out a token).
   */
  issuedRefreshTokens(username: string): string[] {
    const user = this.user(username);
    return [...this.state.refreshTokens].filter(([, r]) => r.username.toLowerCase() === user.username).map(([token]) => token);
  }

  /** The emulator's time now, in ms since the epoch. */
  now(): number {
    return this.state.clock.now();
  }

  private user(username: string): User {
    const user = this.state.findUser(username);
    check(user !== undefined, `no user ${String(username)} in the emulated tenant`);
    return user as User;
  }
}

// The OAuth 2.0 device authorization grant as Entra serves it (Microsoft Learn, "OAuth 2.0 device
// authorization grant"; RFC 8628): POST /{tenant}/oauth2/v2.0/devicecode hands out a device code
// and a user code; the token endpoint redeems the device code with grant_type
// urn:ietf:params:oauth:grant-type:device_code, answering authorization_pending until the user
// approves at the verification page (device-page.ts or admin.approveDeviceCode), slow_down to a
// poll that comes too soon (or while admin.slowDownDeviceCodes is set), authorization_declined,
// expired_token after expires_in, bad_verification_code for a code it never issued.
import crypto from 'node:crypto';
import type { Ctx } from './context';
import type { EntraError } from './entra-errors';
import { sendEntraError } from './entra-token';
import { parseForm, readBody, sendJson } from './http-util';
import { fullScopes, isScopeProblem, parseScopes } from './scopes';
import { TENANT_DOMAIN, type EmulatorState } from './state';
import type { GrantResult } from './token-grants';
import { resolveScope } from './token-grants';

/** Entra's defaults: a device code lives 15 minutes, polled every 5 seconds. */
export const DEVICE_CODE_DEFAULTS = { expiresInSeconds: 900, intervalSeconds: 5 };
/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval, for this and later polls. */
export const SLOW_DOWN_STEP_SECONDS = 5;
/** Letters and digits a person reads without confusing them (no 0/O, 1/I/L). */
const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const USER_CODE_LENGTH = 9;

export type DeviceCodeStatus = 'pending' | 'approved' | 'declined' | 'redeemed';

export interface DeviceCodeRecord {
  deviceCode: string;
  userCode: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
  /** Seconds between polls; grows by SLOW_DOWN_STEP_SECONDS at each slow_down. */
  interval: number;
  lastPollAt: number | null;
  status: DeviceCodeStatus;
  username?: string;
  approvedAt?: number;
}

export function verificationUri(baseUrl: string): string {
  return `${baseUrl}/common/oauth2/deviceauth`;
}

function newUserCode(): string {
  return Array.from({ length: USER_CODE_LENGTH }, () => USER_CODE_ALPHABET[crypto.randomInt(USER_CODE_ALPHABET.length)]).join('');
}

/** POST /{tenant}/oauth2/v2.0/devicecode (client_id, scope): no client authentication, as in Entra. */
export async function handleDeviceCode(ctx: Ctx): Promise<void> {
  const { state } = ctx;
  const form = parseForm(await readBody(ctx.req));
  const problem = deviceCodeProblem(state, form);
  if (problem) return sendEntraError(ctx, problem);
  const now = state.clock.now();
  const timing = state.deviceCodeTiming;
  const rec: DeviceCodeRecord = {
    deviceCode: `DAQABAAEAAAD${crypto.randomBytes(96).toString('base64url')}`,
    userCode: newUserCode(),
    scope: form.scope as string,
    issuedAt: now,
    expiresAt: now + timing.expiresInSeconds * 1000,
    interval: timing.intervalSeconds,
    lastPollAt: null,
    status: 'pending',
  };
  state.deviceCodes.set(rec.deviceCode, rec);
  const uri = verificationUri(ctx.baseUrl);
  sendJson(ctx.res, 200, {
    user_code: rec.userCode,
    device_code: rec.deviceCode,
    verification_uri: uri,
    expires_in: timing.expiresInSeconds,
    interval: rec.interval,
    message: `To sign in, use a web browser to open the page ${uri} and enter the code ${rec.userCode} to authenticate.`,
  });
}

function deviceCodeProblem(state: EmulatorState, form: Record<string, string>): EntraError | null {
  if (!form.client_id) return { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'client_id' } };
  if (form.client_id !== state.app.clientId) return { status: 400, error: 'unauthorized_client', aadsts: 700016, vars: { clientId: form.client_id, tenant: TENANT_DOMAIN } };
  if (!form.scope) return { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'scope' } };
  const parsed = parseScopes(form.scope);
  if (isScopeProblem(parsed) || parsed.byResource.size === 0) return { status: 400, error: 'invalid_scope', aadsts: 70011, vars: { scope: form.scope } };
  return null;
}


const deviceError = (error: string, aadsts: number, text: string): EntraError => ({ status: 400, error, aadsts, text });

/** Device-code polls remembered in stats, for tests that check the pace. */
const DEVICE_POLLS_KEPT = 50;

/** The device_code grant: one poll, judged as Entra judges it (and noted in stats). */
export function redeemDeviceCode(state: EmulatorState, form: Record<string, string>): GrantResult | EntraError {
  const result = judgePoll(state, form);
  const polls = state.stats.deviceCodePolls;
  polls.push({ at: state.clock.now(), answer: 'error' in result ? result.error : 'tokens' });
  if (polls.length > DEVICE_POLLS_KEPT) polls.shift();
  return result;
}

function judgePoll(state: EmulatorState, form: Record<string, string>): GrantResult | EntraError {
  const rec = form.device_code ? state.deviceCodes.get(form.device_code) : undefined;
  if (!form.device_code) return { status: 400, error: 'invalid_request', aadsts: 900144, vars: { param: 'device_code' } };
  if (!rec || rec.status === 'redeemed') return deviceError('bad_verification_code', 70000, "The provided value for the input parameter 'device_code' is not valid.");
  const now = state.clock.now();
  if (now >= rec.expiresAt) return deviceError('expired_token', 70019, 'Verification code expired.');
  // Half the interval of slack: a client that waits the interval is never told to slow down.
  const tooSoon = rec.lastPollAt !== null && now - rec.lastPollAt < (rec.interval * 1000) / 2;
  rec.lastPollAt = now;
  if (tooSoon || state.slowDownPolls > 0) {
    if (!tooSoon) state.slowDownPolls -= 1;
    rec.interval += SLOW_DOWN_STEP_SECONDS;
    state.stats.deviceCodeSlowDowns += 1;
    return deviceError('slow_down', 70016, 'OAuth 2.0 device flow error. Polling too fast: slow down.');
  }
  if (rec.status === 'declined') return deviceError('authorization_declined', 70000, 'The user declined the sign-in on the verification page.');
  if (rec.status === 'pending') return deviceError('authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.');
  const user = state.findUser(rec.username);
  if (!user) return deviceError('bad_verification_code', 70000, "The provided value for the input parameter 'device_code' is not valid.");
  const resolved = resolveScope(state, user, form.scope ?? rec.scope);
  if ('error' in resolved) return resolved;
  rec.status = 'redeemed';
  return { ...resolved, user, grantIssuedAt: rec.approvedAt ?? now };
}

/** The verification page's (or the admin API's) answer for a user code. */
export function decideDeviceCode(state: EmulatorState, userCode: string, d: { username: string; action: 'approve' | 'decline' }): EntraError | null {
  const rec = [...state.deviceCodes.values()].find((r) => r.userCode === userCode.trim().toUpperCase() && r.status === 'pending');
  if (!rec || state.clock.now() >= rec.expiresAt) return { status: 400, error: 'invalid_request', aadsts: 70018, text: 'Invalid verification code: the code is unknown, already used or expired.' };
  if (d.action === 'decline') {
    rec.status = 'declined';
    return null;
  }
  const user = state.findUser(d.username);
  if (!user) return { status: 400, error: 'invalid_request', aadsts: 50034, vars: { user: d.username, tenant: TENANT_DOMAIN } };
  if (!user.assigned) return { status: 400, error: 'access_denied', aadsts: 50105, vars: { appName: state.app.displayName, clientId: state.app.clientId, user: user.username } };
  const parsed = parseScopes(rec.scope);
  if (!isScopeProblem(parsed)) for (const [uri, names] of parsed.byResource) for (const s of fullScopes(uri, names)) user.grants.add(s);
  rec.status = 'approved';
  rec.username = user.username;
  rec.approvedAt = state.clock.now();
  return null;
}

// The admin API over HTTPS, for other processes (the demo, browser tests, a person with curl):
// POST /_admin/<op> with a JSON array of the arguments (or one JSON value for a one-argument
// op; `null` or "Infinity" for an unlimited `times`), answering {"result": …} or 400 {"error"}.
// No authentication, so it answers loopback clients only.
import type { Ctx } from './context';
import type { EmulatorAdmin } from './admin';
import type { HoldPoint } from './holds';
import { readBody, sendJson } from './http-util';

type Op = (admin: EmulatorAdmin, args: unknown[]) => unknown;

/** JSON has no Infinity: null or the string "Infinity" stand for it; absent keeps the default. */
const times = (v: unknown): number | undefined => (v === null || v === 'Infinity' ? Infinity : (v as number | undefined));

const OPS: Record<string, Op> = {
  addUser: (a, [spec]) => a.addUser(spec as Parameters<EmulatorAdmin['addUser']>[0]),
  setMailbox: (a, [user, counts]) => a.setMailbox(user as string, counts as { total: number; unread: number }),
  setLifetimes: (a, [spec]) => a.setLifetimes(spec as Parameters<EmulatorAdmin['setLifetimes']>[0]),
  revokeRefreshTokens: (a, [user]) => a.revokeRefreshTokens(user as string),
  expireRefreshTokens: (a, [user]) => a.expireRefreshTokens(user as string),
  setConsentMode: (a, [mode]) => a.setConsentMode(mode as 'auto' | 'page'),
  requireAdminConsent: (a, [on]) => a.requireAdminConsent(on as boolean),
  addRedirectUri: (a, [uri]) => a.addRedirectUri(uri as string),
  addPublicClientRedirectUri: (a, [uri]) => a.addPublicClientRedirectUri(uri as string),
  removeRedirectUri: (a, [uri]) => a.removeRedirectUri(uri as string),
  setAllowPublicClient: (a, [on]) => a.setAllowPublicClient(on as boolean),
  registerClientCertificate: (a, [pem]) => a.registerClientCertificate(pem as string),
  addClientCertificate: (a, [dir]) => a.addClientCertificate(dir as string),
  approveDeviceCode: (a, [code, user]) => a.approveDeviceCode(code as string, user as string | undefined),
  declineDeviceCode: (a, [code]) => a.declineDeviceCode(code as string),
  setDeviceCodeTiming: (a, [spec]) => a.setDeviceCodeTiming(spec as Parameters<EmulatorAdmin['setDeviceCodeTiming']>[0]),
  slowDownDeviceCodes: (a, [n]) => a.slowDownDeviceCodes(n as number),
  failToken: (a, [fault, n]) => a.failToken(fault as Parameters<EmulatorAdmin['failToken']>[0], times(n)),
  failEws: (a, [fault, n]) => a.failEws(fault as Parameters<EmulatorAdmin['failEws']>[0], times(n)),
  failGraph: (a, [fault, n]) => a.failGraph(fault as Parameters<EmulatorAdmin['failGraph']>[0], times(n)),
  setStreaming: (a, [spec]) => a.setStreaming(spec as Parameters<EmulatorAdmin['setStreaming']>[0]),
  dropStreams: (a, [user]) => a.dropStreams(user as string | undefined),
  expireSubscriptions: (a, [user]) => a.expireSubscriptions(user as string | undefined),
  openStreams: (a, [user]) => a.openStreams(user as string),
  failSubscribe: (a, [fault, n]) => a.failSubscribe(fault as Parameters<EmulatorAdmin['failSubscribe']>[0], times(n)),
  setEwsDisabled: (a, [on]) => a.setEwsDisabled(on as boolean),
  clearFaults: (a) => a.clearFaults(),
  hold: (a, [endpoint]) => a.hold(endpoint as HoldPoint),
  release: (a, [endpoint, n]) => a.release((endpoint ?? undefined) as HoldPoint | undefined, times(n)),
  heldRequests: (a, [endpoint]) => a.heldRequests((endpoint ?? undefined) as HoldPoint | undefined),
  stats: (a) => a.stats(),
  resetStats: (a) => a.resetStats(),
  advanceTime: (a, [ms]) => a.advanceTime(ms as number),
  now: (a) => a.now(),
};

export const ADMIN_OPS = Object.keys(OPS);

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function parseArgs(body: string): unknown[] {
  if (body.trim() === '') return [];
  const value = JSON.parse(body) as unknown;
  return Array.isArray(value) ? value : [value];
}

export async function handleAdmin(ctx: Ctx, admin: EmulatorAdmin, op: string): Promise<void> {
  if (!isLoopback(ctx.req.socket.remoteAddress)) return sendJson(ctx.res, 403, { error: 'the admin API answers loopback clients only' });
  if (ctx.req.method === 'GET' && op === '') return sendJson(ctx.res, 200, { ops: ADMIN_OPS });
  const fn = OPS[op];
  if (!fn) return sendJson(ctx.res, 404, { error: `unknown admin op '${op}'`, ops: ADMIN_OPS });
  if (ctx.req.method !== 'POST') return sendJson(ctx.res, 405, { error: `POST /_admin/${op}` }, { allow: 'POST' });
  try {
    const args = parseArgs(await readBody(ctx.req));
    const result = await fn(admin, args);
    sendJson(ctx.res, 200, { result: result ?? null });
  } catch (e) {
    sendJson(ctx.res, 400, { error: e instanceof Error ? e.message : String(e) });
  }
}

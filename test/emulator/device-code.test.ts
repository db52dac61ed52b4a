// The emulator's device authorization grant on the wire: the devicecode answer's fields, each
// poll answer (pending, slow_down, declined, expired, bad code), the verification page, and the
// rule on client authentication ("Allow public client flows").
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index';
import { ALICE, EWS_SCOPE, claimsOf, httpFor, type TestHttp } from './test-kit';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('emulator: device code', () => {
  let emulator: Emulator;
  let http: TestHttp;
  beforeAll(async () => {
    emulator = await startEmulator({ consentMode: 'auto' });
    http = httpFor(emulator);
  });
  beforeEach(() => emulator.admin.setAllowPublicClient(true));
  afterAll(async () => {
    await http.close();
    await emulator.stop();
  });

  async function post(path: string, form: Record<string, string>, url = `${emulator.authority}/oauth2/v2.0/${path}`): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
    const res = await http.request({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      // the verification page answers HTML
    }
    return { status: res.status, body, text: res.body };
  }

  const begin = async () => (await post('devicecode', { client_id: emulator.clientId, scope: `${EWS_SCOPE} openid offline_access` })).body as Record<string, string | number>;
  const poll = (deviceCode: unknown, extra: Record<string, string> = {}) => post('token', { client_id: emulator.clientId, grant_type: GRANT, device_code: String(deviceCode), ...extra });
  const errorOf = (r: { body: Record<string, unknown> }) => [r.body.error, (r.body.error_codes as number[] | undefined)?.[0]];

  it('hands out a code, answers pending, then tokens once approved on the page, and the code only once', async () => {
    const dc = await begin();
    expect(dc).toMatchObject({ verification_uri: `${emulator.url}/common/oauth2/deviceauth`, expires_in: 900, interval: 5 });
    expect(String(dc.user_code)).toMatch(/^[A-Z2-9]{9}$/);
    expect(dc.message).toContain(String(dc.user_code));
    expect(errorOf(await poll(dc.device_code))).toEqual(['authorization_pending', 70016]);
    const page = await post('', { otc: String(dc.user_code), username: ALICE, action: 'approve' }, String(dc.verification_uri));
    expect(page.text).toContain('You have signed in');
    emulator.admin.advanceTime(5_000); // the interval
    const tokens = await poll(dc.device_code);
    expect(tokens.status).toBe(200);
    expect(claimsOf(tokens.body.access_token)).toMatchObject({ upn: ALICE, appidacr: '0' });
    expect(tokens.body.refresh_token).toBeTruthy();
    emulator.admin.advanceTime(5_000);
    expect(errorOf(await poll(dc.device_code))).toEqual(['bad_verification_code', 70000]);
  });

  it('answers slow_down to a poll sooner than half the interval, adding 5 s to the interval', async () => {
    const dc = await begin();
    await poll(dc.device_code);
    expect(errorOf(await poll(dc.device_code))).toEqual(['slow_down', 70016]);
    emulator.admin.advanceTime(4_000); // the interval is 10 s now: 4 s is too soon…
    expect(errorOf(await poll(dc.device_code))).toEqual(['slow_down', 70016]);
    emulator.admin.advanceTime(8_000); // …and 15 s now: 8 s is past half of it
    expect(errorOf(await poll(dc.device_code))).toEqual(['authorization_pending', 70016]);
  });

  it('answers a declined code, an expired one, and an unknown one', async () => {
    const declined = await begin();
    emulator.admin.declineDeviceCode(String(declined.user_code));
    expect(errorOf(await poll(declined.device_code))).toEqual(['authorization_declined', 70000]);
    const late = await begin();
    emulator.admin.advanceTime(900_000);
    expect(errorOf(await poll(late.device_code))).toEqual(['expired_token', 70019]);
    expect(errorOf(await poll('made-up'))).toEqual(['bad_verification_code', 70000]);
    const page = await post('', { otc: String(late.user_code), username: ALICE, action: 'approve' }, `${emulator.url}/common/oauth2/deviceauth`);
    expect(page.status).toBe(400);
    expect(page.text).toContain('AADSTS70018');
  });

  it('takes the device code without a credential only while public client flows are allowed', async () => {
    emulator.admin.setAllowPublicClient(false);
    const dc = await begin();
    expect(errorOf(await poll(dc.device_code))).toEqual(['invalid_client', 7000218]);
    emulator.admin.advanceTime(5_000);
    expect(errorOf(await poll(dc.device_code, { client_secret: emulator.clientSecret }))).toEqual(['authorization_pending', 70016]);
  });
});

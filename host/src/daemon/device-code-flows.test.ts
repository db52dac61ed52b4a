import type { AccountInfo } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { FakeClock } from '../../../test/support/fake-clock';
import type { DeviceCodeShown } from '../auth/device-code-signin';
import { DeviceCodeFlows, type DeviceCodeSource } from './device-code-flows';

const ALICE = { homeAccountId: 'uid.utid', username: 'alice@contoso.example' } as AccountInfo;

/** A sign-in that shows its code at once and then waits for the test to end it. */
function source(): DeviceCodeSource & { finish(r: AccountInfo | AppError): void; signals: AbortSignal[] } {
  let end!: (r: AccountInfo | AppError) => void;
  const signals: AbortSignal[] = [];
  return {
    signals,
    finish: (r) => end(r),
    async deviceCodeSignIn(opts) {
      signals.push(opts.signal);
      const shown: DeviceCodeShown = { userCode: 'ABCDEFGHJ', verificationUri: 'https://e/devicelogin', expiresAt: 900_000, message: 'Go' };
      opts.onCode(shown);
      const r = await new Promise<AccountInfo | AppError>((resolve) => (end = resolve));
      if (r instanceof AppError) throw r;
      return r;
    },
  };
}

describe('DeviceCodeFlows', () => {
  it('answers begin with the code, and wait with the account once signed in', async () => {
    const src = source();
    const flows = new DeviceCodeFlows(src, new FakeClock(0));
    const begun = await flows.begin();
    expect(begun).toMatchObject({ userCode: 'ABCDEFGHJ', verificationUri: 'https://e/devicelogin', expiresAt: 900_000 });
    expect(begun.flowId).toMatch(/^[\w-]{24}$/);
    expect(flows.size).toBe(1);
    const waited = flows.wait(begun.flowId);
    src.finish(ALICE);
    expect(await waited).toBe(ALICE);
    expect(flows.size).toBe(0);
    await expect(flows.wait(begun.flowId)).rejects.toMatchObject({ code: 'consent_expired' });
  });

  it('passes on why a sign-in failed', async () => {
    const src = source();
    const flows = new DeviceCodeFlows(src, new FakeClock(0));
    const { flowId } = await flows.begin();
    src.finish(new AppError('device_code_declined', 'declined', { advice: 'a', retryable: false }));
    await expect(flows.wait(flowId)).rejects.toMatchObject({ code: 'device_code_declined' });
  });

  it('cancel answers a waiter at once and aborts the sign-in', async () => {
    const src = source();
    const flows = new DeviceCodeFlows(src, new FakeClock(0));
    const { flowId } = await flows.begin();
    const waited = flows.wait(flowId);
    expect(flows.cancel(flowId)).toBe(true);
    await expect(waited).rejects.toMatchObject({ code: 'cancelled' });
    expect(src.signals[0]!.aborted).toBe(true);
    expect(flows.cancel('nobody')).toBe(false);
  });

  it('stopAll cancels every flow', async () => {
    const src = source();
    const flows = new DeviceCodeFlows(src, new FakeClock(0));
    const { flowId } = await flows.begin();
    const waited = flows.wait(flowId);
    flows.stopAll();
    await expect(waited).rejects.toMatchObject({ code: 'cancelled' });
    expect(src.signals[0]!.aborted).toBe(true);
    expect(flows.size).toBe(0);
  });

  it('forgets, and aborts, a flow nobody waited for a minute after its code expired', async () => {
    const src = source();
    const clock = new FakeClock(0);
    const flows = new DeviceCodeFlows(src, clock);
    await flows.begin();
    await clock.jump(900_000 + 60_000);
    expect(flows.size).toBe(0);
    expect(src.signals[0]!.aborted).toBe(true);
  });
});

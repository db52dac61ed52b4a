import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock';
import { DeviceCodeNetwork, MAX_POLL_FAILURES, SLOW_DOWN_STEP_MS } from './device-code-network';

const POLL = { body: 'client_id=c&grant_type=device_code&device_code=d' };

/** A token endpoint that answers each POST with the next body of a script. */
function scripted(bodies: object[]): INetworkModule & { posts: number } {
  const net = {
    posts: 0,
    sendGetRequestAsync: async <T>(): Promise<NetworkResponse<T>> => ({ status: 200, headers: {}, body: {} as T }),
    sendPostRequestAsync: async <T>(_url: string, _o?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
      const body = bodies[net.posts++] ?? {};
      return { status: 'error' in body ? 400 : 200, headers: {}, body: body as T };
    },
  };
  return net;
}

describe('DeviceCodeNetwork', () => {
  it('hands slow_down to MSAL as authorization_pending and waits 5 s more before every later poll', async () => {
    const clock = new FakeClock(0);
    const inner = scripted([{ error: 'slow_down' }, { error: 'authorization_pending' }, { access_token: 'x' }]);
    const net = new DeviceCodeNetwork(inner, clock, new AbortController().signal);
    const first = await net.sendPostRequestAsync<{ error?: string }>('https://t/token', POST(POLL));
    expect(first.body.error).toBe('authorization_pending');
    expect(net.extraDelayMs).toBe(SLOW_DOWN_STEP_MS);
    const second = net.sendPostRequestAsync('https://t/token', POST(POLL));
    await clock.advance(SLOW_DOWN_STEP_MS - 1);
    expect(inner.posts).toBe(1);
    await clock.advance(1);
    await second;
    expect(inner.posts).toBe(2);
    expect(net.lastError).toBeNull();
  });

  it("keeps Entra's own refusal for the flow to classify", async () => {
    const inner = scripted([{ error: 'invalid_grant', error_description: 'AADSTS53003: Blocked.', error_codes: [53003] }]);
    const net = new DeviceCodeNetwork(inner, new FakeClock(0), new AbortController().signal);
    await net.sendPostRequestAsync('https://t/token', POST(POLL));
    expect(net.lastError).toEqual({ error: 'invalid_grant', errorDescription: 'AADSTS53003: Blocked.', errorCodes: [53003], status: 400 });
  });

  it('ends the flow when the device code request itself is refused', async () => {
    const inner = scripted([{ error: 'unauthorized_client', error_codes: [700016] }]);
    const net = new DeviceCodeNetwork(inner, new FakeClock(0), new AbortController().signal);
    await expect(net.sendPostRequestAsync('https://t/devicecode', POST({ body: 'client_id=c&scope=s' }))).rejects.toThrow();
    expect(net.lastError).toMatchObject({ error: 'unauthorized_client', errorCodes: [700016] });
  });

  it('takes a poll lost on the network for a pending one, waiting twice as long, a few times', async () => {
    let posts = 0;
    const failing: INetworkModule = {
      sendGetRequestAsync: async <T>(): Promise<NetworkResponse<T>> => ({ status: 200, headers: {}, body: {} as T }),
      sendPostRequestAsync: async () => {
        posts++;
        throw new Error('socket hang up');
      },
    };
    const clock = new FakeClock(0);
    const net = new DeviceCodeNetwork(failing, clock, new AbortController().signal);
    const first = await net.sendPostRequestAsync<{ error?: string }>('https://t/token', POST(POLL));
    expect(first.body.error).toBe('authorization_pending');
    expect(net.extraDelayMs).toBe(SLOW_DOWN_STEP_MS);
    for (let i = 2; i <= MAX_POLL_FAILURES; i++) {
      const next = net.sendPostRequestAsync('https://t/token', POST(POLL));
      await clock.advance(net.extraDelayMs);
      await next;
    }
    expect(net.extraDelayMs).toBe(SLOW_DOWN_STEP_MS * 2 ** (MAX_POLL_FAILURES - 1));
    const last = expect(net.sendPostRequestAsync('https://t/token', POST(POLL))).rejects.toThrow('socket hang up');
    await clock.advance(net.extraDelayMs);
    await last;
    expect(posts).toBe(MAX_POLL_FAILURES + 1);
  });

  it('sends nothing once cancelled', async () => {
    const inner = scripted([]);
    const abort = new AbortController();
    const net = new DeviceCodeNetwork(inner, new FakeClock(0), abort.signal);
    abort.abort();
    await expect(net.sendPostRequestAsync('https://t/token', POST(POLL))).rejects.toMatchObject({ code: 'cancelled' });
    expect(inner.posts).toBe(0);
  });
});

function POST(o: { body: string }): NetworkRequestOptions {
  return { body: o.body, headers: {} };
}

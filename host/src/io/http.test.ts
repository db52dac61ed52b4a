// The real Http against real servers: Node's fetch when nothing special is asked, undici through
// an HTTP CONNECT proxy when HTTPS_PROXY says so (and straight past it when NO_PROXY names the
// host), and a clear 'transient' error when nothing answers.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../test/emulator/index';
import { createHttp } from './http';

/** A CONNECT proxy that counts the tunnels it opened. */
function startProxy(): Promise<{ url: string; tunnels: string[]; close(): void }> {
  const tunnels: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels, close: () => server.close() })));
}

describe('Http', () => {
  let emulator: Emulator;
  let plain: http.Server;
  let plainUrl: string;
  beforeAll(async () => {
    emulator = await startEmulator();
    plain = http.createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: 'http://elsewhere.invalid/' }).end();
      else if (req.url === '/hang') setTimeout(() => res.end('late'), 2000);
      else res.writeHead(201, { 'X-Echo': req.headers['user-agent'] ?? '' }).end(`body of ${req.method}`);
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    plain.close();
    await emulator.stop();
  });

  it('answers status, lower-case headers and body, and sends its User-Agent', async () => {
    const h = createHttp({ userAgent: 'ews-daemon/test', env: {} });
    const r = await h.request({ method: 'POST', url: `${plainUrl}/x`, body: 'hi' });
    expect(r).toMatchObject({ status: 201, body: 'body of POST' });
    expect(r.headers['x-echo']).toBe('ews-daemon/test');
  });

  it('hands a redirect back instead of following it (a Reply URL must be read, not fetched)', async () => {
    const r = await createHttp({ userAgent: 't', env: {} }).request({ method: 'GET', url: `${plainUrl}/redirect` });
    expect([r.status, r.headers.location]).toEqual([302, 'http://elsewhere.invalid/']);
  });

  it('sends a request again on a fresh socket when the kept-alive one was closed under it', async () => {
    // A server that drops a kept-alive connection as the next request arrives on it: what a
    // server's idle timeout does when it strikes just as the client reuses the socket.
    const served = new Set<net.Socket>();
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      if (served.has(req.socket)) return void req.socket.destroy();
      served.add(req.socket);
      res.end(`answer on connection ${served.size}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const h = createHttp({ userAgent: 'ews-daemon-tests' });
    try {
      expect((await h.request({ method: 'POST', url, body: 'one' })).body).toBe('answer on connection 1');
      expect((await h.request({ method: 'POST', url, body: 'two' })).body).toBe('answer on connection 2');
      expect(requests).toBe(3); // the second went out on the kept-alive socket, was dropped, and went again
    } finally {
      await h.close();
      server.close();
    }
  });

  it('turns no answer into a retryable transient error naming the host', async () => {
    const h = createHttp({ userAgent: 't', env: {} });
    await expect(h.request({ method: 'GET', url: `${plainUrl}/hang`, timeoutMs: 200 })).rejects.toMatchObject({ code: 'transient', data: { retryable: true }, message: expect.stringMatching(/timed out/) });
    await expect(h.request({ method: 'GET', url: 'http://127.0.0.1:1/' })).rejects.toThrow(/Could not reach 127\.0\.0\.1:1/);
  });

  it('goes through HTTPS_PROXY, and past it for hosts NO_PROXY names', async () => {
    const proxy = await startProxy();
    try {
      const url = `${emulator.authority}/v2.0/.well-known/openid-configuration`;
      const via = createHttp({ userAgent: 't', extraCaPem: emulator.caPem, env: { HTTPS_PROXY: proxy.url } });
      expect((await via.request({ method: 'GET', url })).status).toBe(200);
      expect(proxy.tunnels).toEqual([new URL(emulator.url).host]);
      await via.close();
      const past = createHttp({ userAgent: 't', extraCaPem: emulator.caPem, env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost' } });
      expect((await past.request({ method: 'GET', url })).status).toBe(200);
      expect(proxy.tunnels).toHaveLength(1);
      await past.close();
    } finally {
      proxy.close();
    }
  });
});

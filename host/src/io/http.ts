// The real Http: Node's own http(s) with the machine's trust store (NODE_EXTRA_CA_CERTS is part of
// Node's default TLS context). The undici package, which weighs some 15 MB of a daemon's memory,
// is loaded only when it is needed: a proxy is configured (EnvHttpProxyAgent reads HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY), or a caller trusts an extra CA (tests against the emulator).
// Any HTTP status resolves; failing to get an answer rejects as 'transient'. `open` streams a
// response's body (EWS GetStreamingEvents) until the server ends it or the caller's signal aborts.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { AppError } from '../../../shared/errors';
import type { Http, HttpRequest, HttpResponse, HttpStream, HttpStreamResponse } from '../deps';

/** Long enough for a slow token endpoint, short enough that a dead network is noticed. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpOptions {
  /** Extra CA certificates (PEM) to trust beside the system's, e.g. an emulator's CA in tests. */
  extraCaPem?: string;
  userAgent: string;
  /** Where proxy settings are read (default process.env). */
  env?: Record<string, string | undefined>;
}

type Send = (req: HttpRequest, headers: Record<string, string>, signal: AbortSignal) => Promise<HttpResponse>;
type Open = (req: HttpRequest, headers: Record<string, string>, signal: AbortSignal) => Promise<HttpStreamResponse>;

/** How long the headers of a streamed answer may take: the body then runs for as long as it runs. */
export const STREAM_CONNECT_TIMEOUT_MS = 60_000;

export function proxyConfigured(env: Record<string, string | undefined>): boolean {
  return ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((k) => !!env[k]);
}

/**
 * An Http that owns its connections: close() ends them (keep-alive sockets, undici's pool), so
 * a process that closed its Http has nothing left open on its account and may exit by itself.
 */
export function createHttp(options: HttpOptions): Http & HttpStream & { close(): Promise<void> } {
  const viaUndici = options.extraCaPem !== undefined || proxyConfigured(options.env ?? process.env);
  const undici = viaUndici ? undiciSender(options.extraCaPem, options.env ?? process.env) : null;
  const node = undici ? null : nodeSender();
  const send: Send = undici ? undici.send : node!.send;
  const openStream: Open = undici ? undici.open : openWithNode;
  return {
    async open(req) {
      // A timer cleared once the headers are in, so that it cannot cut the body short.
      const connect = new AbortController();
      const timer = setTimeout(() => connect.abort(new DOMException('no answer in time', 'TimeoutError')), STREAM_CONNECT_TIMEOUT_MS);
      const headers = { 'user-agent': options.userAgent, ...req.headers };
      try {
        return await openStream(req, headers, AbortSignal.any([req.signal, connect.signal]));
      } catch (e) {
        throw unreachable(req.url, e);
      } finally {
        clearTimeout(timer);
      }
    },
    async request(req: HttpRequest): Promise<HttpResponse> {
      const signals = [AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS)];
      if (req.signal) signals.push(req.signal);
      try {
        return await send(req, { 'user-agent': options.userAgent, ...req.headers }, AbortSignal.any(signals));
      } catch (e) {
        throw unreachable(req.url, e);
      }
    },
    close: async () => {
      node?.close();
      await undici?.close();
    },
  };
}

/** Node's own http(s): as fast as undici's request and nothing more to load (Node's fetch is ~0.4 ms slower a call). */
function nodeSender(): { send: Send; close(): void } {
  // One keep-alive agent per scheme: a daemon talks to two or three hosts, over and over.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return {
    send: (req, headers, signal) => sendWithNode(req, headers, signal, req.url.startsWith('http:') ? agents.http : agents.https),
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function sendWithNode(req: HttpRequest, headers: Record<string, string>, signal: AbortSignal, agent: http.Agent): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const mod = url.protocol === 'http:' ? http : https;
    // A known length: without it Node sends the body chunked, in more writes and more packets.
    const sized = req.body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(req.body)) };
    const request = mod.request(url, { method: req.method, headers: sized, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
        resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end(req.body);
  });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** Errors while the body streams surface as 'transient' too, so a reader has one error model. */
async function* guarded(url: string, body: AsyncIterable<Buffer | string>): AsyncIterable<Buffer> {
  try {
    for await (const c of body) yield typeof c === 'string' ? Buffer.from(c) : c;
  } catch (e) {
    throw unreachable(url, e);
  }
}

const openWithNode: Open = (req, headers, signal) =>
  new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const mod = url.protocol === 'http:' ? http : https;
    const sized = req.body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(req.body)) };
    // agent: false, no pooling: the connection is the stream's alone, and ends with it.
    const request = mod.request(url, { method: req.method, headers: sized, signal, agent: false }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), chunks: guarded(req.url, res) });
    });
    request.on('error', reject);
    request.end(req.body);
  });

function undiciSender(extraCaPem: string | undefined, env: Record<string, string | undefined>): { send: Send; open: Open; close(): Promise<void> } {
  const ca = extraCaPem ? [...tls.rootCertificates, extraCaPem] : undefined;
  const proxies = {
    httpProxy: env.HTTP_PROXY ?? env.http_proxy,
    httpsProxy: env.HTTPS_PROXY ?? env.https_proxy,
    noProxy: env.NO_PROXY ?? env.no_proxy,
  };
  const loaded = import('undici').then(({ EnvHttpProxyAgent, request }) => ({
    request,
    dispatcher: new EnvHttpProxyAgent({ ...proxies, ...(ca ? { connect: { ca }, requestTls: { ca } } : {}) }),
  }));
  return {
    async send(req, headers, signal) {
      const { request, dispatcher } = await loaded;
      const res = await request(req.url, { method: req.method, headers, body: req.body, dispatcher, signal });
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { status: res.statusCode, headers: out, body: await res.body.text() };
    },
    async open(req, headers, signal) {
      const { request, dispatcher } = await loaded;
      const res = await request(req.url, { method: req.method, headers, body: req.body, dispatcher, signal });
      return { status: res.statusCode, headers: flatHeaders(res.headers), chunks: guarded(req.url, res.body) };
    },
    close: async () => (await loaded).dispatcher.close(),
  };
}

function unreachable(url: string, e: unknown): AppError {
  const err = e as { code?: string; name?: string; cause?: { code?: string; name?: string } };
  const timedOut = err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError';
  const why = timedOut ? 'timed out' : (err.cause?.code ?? err.code ?? err.name ?? 'failed');
  return new AppError('transient', `Could not reach ${new URL(url).host}: ${why}`, {
    advice: 'Check the network connection and the proxy settings (HTTPS_PROXY, NO_PROXY); the daemon retries on its own.',
    retryable: true,
  }, { cause: e });
}

// The real Http: undici with the machine's trust store (NODE_EXTRA_CA_CERTS is part of Node's
// default TLS context) and its proxy settings (EnvHttpProxyAgent reads HTTPS_PROXY, HTTP_PROXY
// and NO_PROXY). Any HTTP status resolves; failing to get an answer rejects as 'transient'.
import tls from 'node:tls';
import { EnvHttpProxyAgent, request } from 'undici';
import { AppError } from '../../../shared/errors';
import type { Http, HttpRequest, HttpResponse } from '../deps';

/** Long enough for a slow token endpoint, short enough that a dead network is noticed. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpOptions {
  /** Extra CA certificates (PEM) to trust beside the system's, e.g. an emulator's CA in tests. */
  extraCaPem?: string;
  userAgent: string;
}

export function createHttp(options: HttpOptions): Http & { close(): Promise<void> } {
  const ca = options.extraCaPem ? [...tls.rootCertificates, options.extraCaPem] : undefined;
  const dispatcher = new EnvHttpProxyAgent(ca ? { connect: { ca }, requestTls: { ca } } : {});
  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const signals = [AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS)];
      if (req.signal) signals.push(req.signal);
      try {
        const res = await request(req.url, {
          method: req.method,
          headers: { 'user-agent': options.userAgent, ...req.headers },
          body: req.body,
          dispatcher,
          signal: AbortSignal.any(signals),
        });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        return { status: res.statusCode, headers, body: await res.body.text() };
      } catch (e) {
        throw unreachable(req.url, e);
      }
    },
    close: () => dispatcher.close(),
  };
}

function unreachable(url: string, e: unknown): AppError {
  const err = e as { code?: string; name?: string; message?: string };
  const why = err.name === 'TimeoutError' ? 'timed out' : (err.code ?? err.name ?? 'failed');
  return new AppError('transient', `Could not reach ${new URL(url).host}: ${why}`, {
    advice: 'Check the network connection and the proxy settings (HTTPS_PROXY, NO_PROXY); the daemon retries on its own.',
    retryable: true,
  }, { cause: e });
}

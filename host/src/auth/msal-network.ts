// MSAL's network seam (system.networkClient) over our Http, so MSAL shares the proxy, the trust
// store and the test fakes of every other request. MSAL's calls take no AbortSignal, so the
// network carries one of its own: abortAll() ends every request MSAL has in flight.
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { Http, HttpRequest } from '../deps';

export class MsalNetwork implements INetworkModule {
  private controller = new AbortController();

  constructor(private readonly http: Http) {}

  /** Aborts every request in flight (they reject as the Http does); later requests go out as usual. */
  abortAll(reason: unknown): void {
    this.controller.abort(reason);
    this.controller = new AbortController();
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>({ method: 'GET', url, headers: options?.headers, timeoutMs: timeout });
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>({ method: 'POST', url, headers: options?.headers, body: options?.body });
  }

  private async send<T>(req: HttpRequest): Promise<NetworkResponse<T>> {
    const res = await this.http.request({ ...req, signal: this.controller.signal });
    let body: unknown;
    try {
      body = res.body === '' ? {} : JSON.parse(res.body);
    } catch {
      // MSAL reads error/error_description from the body; give it a shape it classifies.
      body = { error: 'invalid_response', error_description: `The server answered HTTP ${res.status} with a body that is not JSON.` };
    }
    // MSAL reads the HTTP status from the body (only its client-credentials flow puts it there):
    // without it a 429 or 5xx with no OAuth error could not be told from a verdict.
    if (res.status >= 400 && typeof body === 'object' && body !== null && !('status' in body)) body = { ...body, status: res.status };
    return { status: res.status, headers: res.headers, body: body as T };
  }
}

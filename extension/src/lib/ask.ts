// How the extension's pages ask the service worker: one typed request, one reply envelope;
// a failure comes back as the AppError the service worker saw.
import browser from 'webextension-polyfill';
import { fromWireError, type Replies, type Reply, type Request, type RequestType } from './messages';

export async function ask<K extends RequestType>(req: Extract<Request, { type: K }>): Promise<Replies[K]> {
  const reply = (await browser.runtime.sendMessage(req)) as Reply<Replies[K]> | undefined;
  if (!reply) throw fromWireError({ message: 'The service worker did not answer.', code: 'internal', advice: 'Reload the extension.', retryable: true });
  if (!reply.ok) throw fromWireError(reply.error);
  return reply.value;
}

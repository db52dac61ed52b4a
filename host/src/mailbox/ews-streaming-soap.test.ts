import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors';
import { notificationEnvelope, connectionStatus, streamingError, subscribeResponse } from '../../../test/emulator/ews-streaming-soap';
import { EnvelopeSplitter, buildGetStreamingEventsRequest, buildSubscribeRequest, parseStreamingEnvelope, parseSubscribeResponse } from './ews-streaming-soap';

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/ews');

const ok = (body: string) => ({ status: 200, headers: {}, body });

describe('EWS streaming SOAP', () => {
  it('asks for a streaming subscription on the inbox for the events that move counts', () => {
    const xml = buildSubscribeRequest();
    expect(xml).toContain('<m:StreamingSubscriptionRequest>');
    expect(xml).toContain('<t:DistinguishedFolderId Id="inbox"/>');
    for (const t of ['NewMailEvent', 'CreatedEvent', 'DeletedEvent', 'MovedEvent', 'CopiedEvent', 'ModifiedEvent']) expect(xml).toContain(`<t:EventType>${t}</t:EventType>`);
  });

  it('keeps ConnectionTimeout within 1–30 minutes and escapes the id', () => {
    expect(buildGetStreamingEventsRequest('a<b', 45)).toContain('<m:ConnectionTimeout>30</m:ConnectionTimeout>');
    expect(buildGetStreamingEventsRequest('x', 0.5)).toContain('<m:ConnectionTimeout>1</m:ConnectionTimeout>');
    expect(buildGetStreamingEventsRequest('a<b', 5)).toContain('a&#60;b');
  });

  it('reads the SubscriptionId, and classifies a busy server with its back-off', () => {
    expect(parseSubscribeResponse(ok(subscribeResponse('SUB-1')))).toBe('SUB-1');
    const busy = fs.readFileSync(path.join(FIXTURES, 'fault-server-busy.xml'), 'utf8'); // a real server's, BackOffMilliseconds 297749
    const e = (() => {
      try {
        parseSubscribeResponse({ status: 500, headers: {}, body: busy });
      } catch (err) {
        return err;
      }
    })();
    expect(isAppError(e) && e.data).toMatchObject({ code: 'throttled', retryAfterMs: 297_749 });
    expect(() => parseSubscribeResponse({ status: 401, headers: {}, body: '' })).toThrow(/refused the access token/);
  });

  it('reads notifications, connection status and errors from envelopes', () => {
    const events = [{ type: 'CreatedEvent' as const, itemId: 'I1', parentFolderId: 'F' }, { type: 'NewMailEvent' as const, itemId: 'I1', parentFolderId: 'F' }];
    expect(parseStreamingEnvelope(notificationEnvelope('S', events, new Date(0)))).toEqual({ events: 2, status: null, error: null });
    expect(parseStreamingEnvelope(connectionStatus('OK'))).toEqual({ events: 0, status: 'OK', error: null });
    expect(parseStreamingEnvelope(connectionStatus('Closed')).status).toBe('Closed');
    expect(parseStreamingEnvelope(streamingError('ErrorSubscriptionNotFound', 'gone', ['S'])).error?.code).toBe('ErrorSubscriptionNotFound');
    expect(parseStreamingEnvelope('<garbage').error?.code).toBe('malformed');
  });

  it('cuts a byte stream into envelopes wherever the chunks break, UTF-8 included', () => {
    const stream = Buffer.from(connectionStatus('OK') + notificationEnvelope('Sé€', [{ type: 'DeletedEvent', parentFolderId: 'F' }], new Date(0)) + connectionStatus('Closed'));
    for (const size of [1, 3, 7, 64, stream.length]) {
      const splitter = new EnvelopeSplitter();
      const out: string[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...splitter.push(stream.subarray(i, i + size)));
      expect(out.map((x) => parseStreamingEnvelope(x))).toMatchObject([{ status: 'OK' }, { events: 1 }, { status: 'Closed' }]);
      expect(out[1]).toContain('Sé€');
      expect(splitter.rest).toBe('');
    }
  });

  it('refuses a stream that never ends an envelope', () => {
    const splitter = new EnvelopeSplitter();
    expect(() => splitter.push(Buffer.alloc(1024 * 1024 + 1, 0x61))).toThrow(/without ending an envelope/);
  });
});

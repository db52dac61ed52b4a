// Small helpers over node:http's request/response for the emulator's handlers: bounded body
// reading, and JSON / HTML / XML / redirect answers that always set a length and a type.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies above this are refused: every legitimate request here is a few kilobytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type Headers = Record<string, string>;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, status: number, body: string, headers: Headers): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
  res.end(bytes);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Headers = {}): void {
  send(res, status, html, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
}

export function redirect(res: ServerResponse, location: string, headers: Headers = {}): void {
  send(res, 302, '', { location, 'cache-control': 'no-store', ...headers });
}

/** Form-encoded body (application/x-www-form-urlencoded) to a plain record; repeated keys keep the first. */
export function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body)) if (!(k in out)) out[k] = v;
  return out;
}

export function queryRecord(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (!(k in out)) out[k] = v;
  return out;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function escapeXml(s: string): string {
  return escapeHtml(s);
}

/** Lower-cased request headers as a flat record (arrays joined), for stats and echoes. */
export function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

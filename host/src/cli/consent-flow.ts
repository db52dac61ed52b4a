// Consent without the extension: the URL is printed (and opened in the system browser when
// there is one); the Reply URL comes back either to a listener on its loopback port (--listen)
// or pasted on stdin (--paste, `consent complete -`), as the original sample's Listen button and
// paste box. The listener takes only the request that carries the pending sign-in's state, on
// every loopback address or none. What reaches the terminal passes main.ts's one filter
// (terminal-text.ts), an error_description from the Reply URL included.
import { spawn } from 'node:child_process';
import http from 'node:http';
import readline from 'node:readline';
import { AppError, isAppError } from '../../../shared/errors';
import type { Clock } from '../deps';

export interface BrowserEnv {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
}

/** Opens url in the user's browser when there is one; says false when there is none to open. */
export function openBrowser(url: string, { env, platform }: BrowserEnv): boolean {
  let cmd: string[] | null = null;
  if (env.BROWSER) cmd = [env.BROWSER, url];
  else if (platform === 'darwin') cmd = ['open', url];
  else if (platform === 'win32') cmd = ['cmd', '/c', 'start', '""', url.replace(/&/g, '^&')];
  else if (env.DISPLAY || env.WAYLAND_DISPLAY) cmd = ['xdg-open', url];
  if (!cmd) return false;
  try {
    const child = spawn(cmd[0]!, cmd.slice(1), { detached: true, stdio: 'ignore' });
    child.on('error', () => {}); // no such program: the printed URL is the fallback
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/** Whether the Reply URL can be served here: http on a loopback host with a port. */
export function loopbackTarget(redirectUri: string): { hosts: string[]; port: number; path: string } | null {
  const u = new URL(redirectUri);
  if (u.protocol !== 'http:') return null;
  // Browsers resolve "localhost" to loopback themselves, trying ::1 and 127.0.0.1 (RFC 6761
  // §6.3; https://datatracker.ietf.org/doc/html/draft-ietf-dnsop-let-localhost-be-localhost),
  // whatever /etc/hosts says: both must be ours.
  const hosts = u.hostname === 'localhost' ? ['127.0.0.1', '::1'] : u.hostname === '127.0.0.1' ? ['127.0.0.1'] : u.hostname === '[::1]' ? ['::1'] : null;
  if (!hosts) return null;
  return { hosts, port: Number(u.port || 80), path: u.pathname };
}

/** Bind errors meaning the address is not on this machine: no browser can reach anyone there either. */
const ADDRESS_ABSENT = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

const PAGE = (title: string, body: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;max-width:40em;margin:4em auto"><h1>${title}</h1><p>${body}</p></body></html>`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Serves the Reply URL's loopback port until a request to its path carries `state` (the pending
 * sign-in's), hands that request's full URL to `complete`, and answers the browser with the
 * outcome. Any other request (another path, no or another state: a stray process or a web page
 * navigating there) is answered 404/400 and changes nothing: only the right browser tab can
 * finish or abort the sign-in. Every loopback address of the Reply URL's host is bound, or the
 * listener fails naming the one it could not (someone else on it would receive the code).
 * Nobody back by `deadline` (the sign-in's expiry, ms on `clock`): consent_expired.
 */
export async function listenForReply<T>(clock: Clock, redirectUri: string, state: string, deadline: number, complete: (url: string) => Promise<T>, describe: (r: T) => string): Promise<T> {
  const target = loopbackTarget(redirectUri);
  if (!target) throw new AppError('invalid_params', `--listen needs an http://localhost Reply URL; ${redirectUri} is not one.`, { advice: 'Use --paste, or set "redirectUri" to e.g. http://localhost:53100/callback (and register it in Entra).', retryable: false });
  // Nothing is served until every address is ours: a request meanwhile gets 503.
  let onRequest: http.RequestListener = (_req, res) => void res.writeHead(503).end();
  const servers = await bindAll(target, (req, res) => onRequest(req, res));
  try {
    return await new Promise<T>((resolve, reject) => {
      const expiry = new AbortController();
      clock.sleep(Math.max(0, deadline - clock.now()), expiry.signal).then(
        () => reject(new AppError('consent_expired', 'Nobody came back to the Reply URL within 10 minutes.', { advice: 'Run `ews-daemon consent` again.', retryable: false })),
        () => undefined, // settled first: the wait was aborted
      );
      let taken = false;
      onRequest = (req, res) => {
        const url = new URL(req.url ?? '/', redirectUri);
        if (url.pathname !== target.path) return void res.writeHead(404).end();
        if (url.searchParams.get('state') !== state || taken) return void page(res, 400, 'Not this sign-in', 'This address does not carry the sign-in the terminal waits for; it was ignored.');
        taken = true;
        const settle = (fn: () => void) => (expiry.abort(), fn());
        complete(url.toString()).then(
          (r) => settle(() => (page(res, 200, 'Signed in', `${escapeHtml(describe(r))}. You may close this tab.`), resolve(r))),
          (e: unknown) => {
            const advice = isAppError(e) ? `${e.message} ${e.data.advice}` : 'Sign-in failed.';
            settle(() => (page(res, 400, 'Sign-in failed', `${escapeHtml(advice)} You may close this tab.`), reject(e)));
          },
        );
      };
    });
  } finally {
    for (const s of servers) s.close();
  }
}

function page(res: http.ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE(title, body));
}

/** Binds `handler` on every host of `target`, or fails naming the address someone else holds. */
async function bindAll(target: { hosts: string[]; port: number }, handler: http.RequestListener): Promise<http.Server[]> {
  const results = await Promise.all(target.hosts.map((host) => bindOne(host, target.port, handler)));
  const servers = results.filter((r): r is http.Server => r instanceof http.Server);
  const refused = results.find((r): r is AppError => r instanceof AppError);
  if (refused || servers.length === 0) {
    for (const s of servers) s.close();
    throw refused ?? new AppError('invalid_params', `Cannot listen on port ${target.port}: no loopback address is available.`, { advice: 'Use --paste.', retryable: false });
  }
  return servers;
}

/** The bound server; null when the address is not on this machine; an AppError when someone else holds it. */
function bindOne(host: string, port: number, handler: http.RequestListener): Promise<http.Server | AppError | null> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (ADDRESS_ABSENT.has(e.code ?? '')) return resolve(null);
      resolve(new AppError('invalid_params', `Cannot listen on ${where} (${e.code}): someone else may be listening there, and would receive the sign-in.`, {
        advice: `Free ${where} (\`ss -ltnp 'sport = :${port}'\` shows who holds it), or use --paste.`,
        retryable: false,
      }));
    });
    server.listen(port, host, () => resolve(server));
  });
}

/** Reads the pasted Reply URL: the first non-empty line on stdin. */
export async function readPastedUrl(input: NodeJS.ReadableStream, prompt: (s: string) => void): Promise<string> {
  prompt('After signing in, your browser ends on a page that may not load. Paste its full address here and press Enter:\n');
  return readReplyUrl(input);
}

/**
 * The Reply URL from stdin (`consent complete -`), so the authorization code is never on a
 * command line, where other users see it (ps, /proc/PID/cmdline).
 */
export async function readReplyUrl(input: NodeJS.ReadableStream): Promise<string> {
  const rl = readline.createInterface({ input, terminal: false });
  try {
    for await (const line of rl) if (line.trim()) return line.trim();
  } finally {
    rl.close();
  }
  throw new AppError('invalid_params', 'No Reply URL was pasted (stdin ended).', { advice: 'Paste the address your browser ended on, or use --listen.', retryable: false });
}

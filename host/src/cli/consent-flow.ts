// Consent without the extension: the URL is printed (and opened in the system browser when
// there is one); the Reply URL comes back either to a one-request listener on its loopback port
// (--listen) or pasted on stdin (--paste), as the original sample's Listen button and paste box.
import { spawn } from 'node:child_process';
import http from 'node:http';
import readline from 'node:readline';
import { AppError, isAppError } from '../../../shared/errors';

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
  const hosts = u.hostname === 'localhost' ? ['127.0.0.1', '::1'] : u.hostname === '127.0.0.1' ? ['127.0.0.1'] : u.hostname === '[::1]' ? ['::1'] : null;
  if (!hosts) return null;
  return { hosts, port: Number(u.port || 80), path: u.pathname };
}

const PAGE = (title: string, body: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;max-width:40em;margin:4em auto"><h1>${title}</h1><p>${body}</p></body></html>`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Serves the Reply URL's loopback port for one matching request, hands its full URL to
 * `complete`, and answers the browser with the outcome and that the tab may be closed.
 */
export async function listenForReply<T>(redirectUri: string, deadline: number, complete: (url: string) => Promise<T>, describe: (r: T) => string): Promise<T> {
  const target = loopbackTarget(redirectUri);
  if (!target) throw new AppError('invalid_params', `--listen needs an http://localhost Reply URL; ${redirectUri} is not one.`, { advice: 'Use --paste, or set "redirectUri" to e.g. http://localhost:53100/callback (and register it in Entra).', retryable: false });
  return new Promise<T>((resolve, reject) => {
    const servers: http.Server[] = [];
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      for (const s of servers) s.close();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new AppError('consent_expired', 'Nobody came back to the Reply URL within 10 minutes.', { advice: 'Run `ews-daemon consent` again.', retryable: false }))), Math.max(0, deadline - Date.now()));
    const handler: http.RequestListener = (req, res) => {
      const url = new URL(req.url ?? '/', redirectUri);
      if (url.pathname !== target.path) {
        res.writeHead(404).end();
        return;
      }
      complete(url.toString()).then(
        (r) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('Signed in', `${escapeHtml(describe(r))}. You may close this tab.`));
          finish(() => resolve(r));
        },
        (e: unknown) => {
          const advice = isAppError(e) ? `${e.message} ${e.data.advice}` : 'Sign-in failed.';
          res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('Sign-in failed', `${escapeHtml(advice)} You may close this tab.`));
          finish(() => reject(e));
        },
      );
    };
    let failed = 0;
    for (const host of target.hosts) {
      const server = http.createServer(handler);
      servers.push(server);
      // ::1 may be missing (no IPv6): fail only when no address at all could be bound.
      server.on('error', (e: NodeJS.ErrnoException) => {
        if (++failed < target.hosts.length) return;
        finish(() => reject(new AppError('invalid_params', `Cannot listen on port ${target.port}: ${e.code}.`, { advice: 'Free the port, or use --paste.', retryable: false })));
      });
      server.listen(target.port, host);
    }
  });
}

/** Reads the pasted Reply URL: the first non-empty line on stdin. */
export async function readPastedUrl(input: NodeJS.ReadableStream, prompt: (s: string) => void): Promise<string> {
  prompt('After signing in, your browser ends on a page that may not load. Paste its full address here and press Enter:\n');
  const rl = readline.createInterface({ input, terminal: false });
  try {
    for await (const line of rl) if (line.trim()) return line.trim();
  } finally {
    rl.close();
  }
  throw new AppError('invalid_params', 'No Reply URL was pasted (stdin ended).', { advice: 'Paste the address your browser ended on, or use --listen.', retryable: false });
}

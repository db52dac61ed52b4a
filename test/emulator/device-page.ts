// The device-code verification page (Entra's microsoft.com/devicelogin): GET shows a form for
// the user code and the account, POST approves or declines it (button ids `approve`, `decline`)
// and says what happened. Plain accessible HTML, no script.
import type { Ctx } from './context';
import { decideDeviceCode } from './device-code';
import { errorText } from './entra-errors';
import { escapeHtml, parseForm, readBody, sendHtml } from './http-util';
import { TENANT_DOMAIN } from './state';

function page(body: string, status = 200): { status: number; html: string } {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Enter code</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}label{display:block;margin-top:.75rem}input{width:100%;padding:.4rem;box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.5rem 1.5rem}#error{color:#a4262c}</style>
</head><body><main>
<p>Microsoft Entra ID (emulated) · ${escapeHtml(TENANT_DOMAIN)}</p>
${body}
</main></body></html>`;
  return { status, html };
}

function form(error?: string): string {
  const alert = error ? `<p role="alert" id="error">${escapeHtml(error)}</p>` : '';
  return `<h1>Enter code</h1>
<p>Enter the code displayed on your app or device.</p>
${alert}
<form method="post">
<label for="otc">Code</label>
<input id="otc" name="otc" autocomplete="one-time-code" required>
<label for="username">Email, phone, or Skype</label>
<input id="username" name="username" type="email" autocomplete="username" value="alice@contoso.example">
<button type="submit" id="approve" name="action" value="approve">Approve</button>
<button type="submit" id="decline" name="action" value="decline">Decline</button>
</form>`;
}

export function showDevicePage(ctx: Ctx): void {
  const { status, html } = page(form());
  sendHtml(ctx.res, status, html);
}

export async function handleDevicePage(ctx: Ctx): Promise<void> {
  const f = parseForm(await readBody(ctx.req));
  const action = f.action === 'decline' ? 'decline' : 'approve';
  const e = decideDeviceCode(ctx.state, f.otc ?? '', { username: f.username ?? '', action });
  const { status, html } = e
    ? page(form(`AADSTS${e.aadsts}: ${errorText(e)}`), 400)
    : page(`<h1 id="done">${action === 'approve' ? 'You have signed in to ews-daemon on your device' : 'Sign-in declined'}</h1><p>You may now close this window.</p>`);
  sendHtml(ctx.res, status, html);
}

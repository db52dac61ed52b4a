// The sign-in and consent page (consentMode 'page'), in the spirit of Entra's "Permissions
// requested": the app's name, what it asks for, a username, and Accept / Cancel buttons with
// ids `accept` and `cancel`. Plain accessible HTML: labelled inputs, real buttons, no script.
import { escapeHtml } from './http-util';
import { describeScope } from './scopes';

export interface ConsentPageModel {
  /** Where the form posts (the emulator's own /{tenant}/login). */
  action: string;
  /** Opaque id of the pending sign-in. */
  ctx: string;
  appName: string;
  tenantDomain: string;
  /** Full-form or OIDC scopes, in the order asked. */
  scopes: string[];
  username: string;
  /** Tenant-wide consent by an administrator (the /adminconsent endpoint). */
  admin: boolean;
  error?: string;
}

export function consentPage(m: ConsentPageModel): string {
  const title = m.admin ? 'Permissions requested — accept for your organization' : 'Permissions requested';
  const items = m.scopes.map((s) => `<li><span class="scope">${escapeHtml(describeScope(s))}</span> <code>${escapeHtml(s)}</code></li>`).join('\n');
  const error = m.error ? `<p role="alert" id="error">${escapeHtml(m.error)}</p>` : '';
  const note = m.admin
    ? `<p>If you accept, this app gets access to the specified resources for all users in ${escapeHtml(m.tenantDomain)}. No one else will be prompted to review these permissions.</p>`
    : '<p>Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement.</p>';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — ${escapeHtml(m.appName)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}label{display:block;margin-top:.75rem}input{width:100%;padding:.4rem;box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.5rem 1.5rem}#error{color:#a4262c}</style>
</head>
<body><main>
<p>Microsoft Entra ID (emulated) · ${escapeHtml(m.tenantDomain)}</p>
<h1>${escapeHtml(title)}</h1>
<p><strong id="app-name">${escapeHtml(m.appName)}</strong> would like to:</p>
<ul aria-label="Permissions requested">
${items}
</ul>
${note}
${error}
<form method="post" action="${escapeHtml(m.action)}">
<input type="hidden" name="ctx" value="${escapeHtml(m.ctx)}">
<label for="username">${m.admin ? 'Administrator account' : 'Email, phone, or Skype'}</label>
<input id="username" name="username" type="email" autocomplete="username" required value="${escapeHtml(m.username)}">
<label for="password">Password <small>(only for accounts that have one)</small></label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit" id="accept" name="action" value="accept">Accept</button>
<button type="submit" id="cancel" name="action" value="cancel" formnovalidate>Cancel</button>
</form>
</main></body>
</html>`;
}

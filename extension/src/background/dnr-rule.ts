// Builds the declarativeNetRequest session rule that catches the Reply URL while one sign-in is
// pending: only top-level navigations, only in the tab the extension opened, only to exactly
// the configured Reply URL followed by a query; it sends them to the callback page with the
// query intact, so the authorization code never reaches the loopback port. Pure.

/** The subset of declarativeNetRequest.Rule this extension uses (Chromium and Firefox agree on it). */
export interface CaptureRule {
  id: number;
  priority: number;
  action: { type: 'redirect'; redirect: { regexSubstitution: string } };
  condition: {
    regexFilter: string;
    isUrlFilterCaseSensitive: boolean;
    resourceTypes: ['main_frame'];
    tabIds: number[];
  };
}

/** Escapes every RE2 metacharacter, so the Reply URL matches itself and nothing else. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * The Reply URL with its query: `^<redirectUri>\?(.*)$`; group 1 is the query. The Reply URL is
 * matched as the browser writes it (WHATWG URL serialization): a public client's
 * `http://localhost:53100` is navigated to as `http://localhost:53100/?code=…`.
 */
export function replyUrlRegex(redirectUri: string): string {
  return `^${escapeRegex(new URL(redirectUri).href)}\\?(.*)$`;
}

export function buildCaptureRule(p: { ruleId: number; redirectUri: string; tabId: number; callbackPageUrl: string }): CaptureRule {
  return {
    id: p.ruleId,
    // Above any other session rule this extension might ever add.
    priority: 100,
    action: { type: 'redirect', redirect: { regexSubstitution: `${p.callbackPageUrl}?\\1` } },
    condition: {
      regexFilter: replyUrlRegex(p.redirectUri),
      isUrlFilterCaseSensitive: true,
      resourceTypes: ['main_frame'],
      tabIds: [p.tabId],
    },
  };
}

/**
 * The Reply URL the identity provider sent the tab to, rebuilt from the callback page's address
 * (the rule kept the query, and only the query). Null when the page was reached another way.
 */
export function replyUrlFromCallback(callbackUrl: string, callbackPageUrl: string, redirectUri: string): string | null {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    return null;
  }
  if (`${url.protocol}//${url.host}${url.pathname}` !== callbackPageUrl || url.search.length < 2) return null;
  return `${redirectUri}${url.search}`;
}

/** The `state` parameter of a Reply URL's query, or null. */
export function stateOf(replyUrl: string): string | null {
  try {
    return new URL(replyUrl).searchParams.get('state');
  } catch {
    return null;
  }
}

/**
 * The host-permission pattern that covers an origin, for permissions.contains: scheme and host,
 * no port. Firefox's match patterns cannot name a port (with one, contains() answers false
 * although the manifest's http://localhost/* covers it); Chromium's port-less pattern covers every port.
 */
export function hostPermissionPattern(origin: string): string {
  const url = new URL(origin);
  return `${url.protocol}//${url.hostname}/*`;
}

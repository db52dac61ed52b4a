import { describe, expect, it } from 'vitest';
import { buildCaptureRule, escapeRegex, hostPermissionPattern, replyUrlFromCallback, replyUrlRegex, stateOf } from './dnr-rule';

const CALLBACK = 'chrome-extension://nkdohhffolcemclgncojieeenmkghhch/src/callback/index.html';
const REPLY = 'http://localhost:53100/callback';

/** Applies a rule as the browser does (RE2 and JS agree on these patterns). */
function redirect(rule: ReturnType<typeof buildCaptureRule>, url: string): string | null {
  const re = new RegExp(rule.condition.regexFilter);
  if (!re.test(url)) return null;
  return url.replace(re, rule.action.redirect.regexSubstitution.replace(/\\(\d)/g, '$$$1'));
}

describe('buildCaptureRule', () => {
  const rule = buildCaptureRule({ ruleId: 7, redirectUri: REPLY, tabId: 7, callbackPageUrl: CALLBACK });

  it('sends the Reply URL to the callback page with the query intact', () => {
    expect(redirect(rule, `${REPLY}?code=abc&state=s1`)).toBe(`${CALLBACK}?code=abc&state=s1`);
  });

  it.each([
    'http://localhost:53100/callbackX?code=abc',
    'http://localhost:53101/callback?code=abc',
    'http://localhost:53100/other?x=http://localhost:53100/callback?code=abc',
    'http://evil.example/?http://localhost:53100/callback?code=abc',
    'http://localhost:53100/callback',
  ])('leaves %s alone', (url) => {
    expect(redirect(rule, url)).toBeNull();
  });

  it('matches only top-level navigations in the tab the extension opened, case-sensitively', () => {
    expect(rule.condition).toMatchObject({ resourceTypes: ['main_frame'], tabIds: [7], isUrlFilterCaseSensitive: true });
    expect(redirect(rule, 'HTTP://LOCALHOST:53100/CALLBACK?code=abc')).toBeNull();
  });
});

describe('escapeRegex', () => {
  it('makes every metacharacter literal', () => {
    const text = 'a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o/p';
    expect(new RegExp(`^${escapeRegex(text)}$`).test(text)).toBe(true);
    expect(new RegExp(`^${escapeRegex('a.b')}$`).test('axb')).toBe(false);
  });

  it('builds a pattern whose one group is the query', () => {
    expect(replyUrlRegex(REPLY)).toBe('^http:\\/\\/localhost:53100\\/callback\\?(.*)$');
  });

  it("matches a public client's path-less Reply URL as the browser navigates to it, with its slash", () => {
    const re = new RegExp(replyUrlRegex('http://localhost:53100'));
    expect(re.exec('http://localhost:53100/?code=c&state=s')?.[1]).toBe('code=c&state=s');
    expect(re.test('http://localhost:53100/other?code=c')).toBe(false);
  });
});

describe('replyUrlFromCallback', () => {
  it('rebuilds the Reply URL the identity provider sent', () => {
    expect(replyUrlFromCallback(`${CALLBACK}?code=abc&state=s1`, CALLBACK, REPLY)).toBe(`${REPLY}?code=abc&state=s1`);
  });

  it('refuses a callback page without a query or at another address', () => {
    expect(replyUrlFromCallback(CALLBACK, CALLBACK, REPLY)).toBeNull();
    expect(replyUrlFromCallback('chrome-extension://other/src/callback/index.html?code=a', CALLBACK, REPLY)).toBeNull();
    expect(replyUrlFromCallback('not a url', CALLBACK, REPLY)).toBeNull();
  });

  it('reads the state parameter', () => {
    expect(stateOf(`${REPLY}?code=abc&state=s1`)).toBe('s1');
    expect(stateOf(`${REPLY}?code=abc`)).toBeNull();
  });
});

describe('hostPermissionPattern', () => {
  it('drops the port, which Firefox match patterns cannot hold', () => {
    expect(hostPermissionPattern('http://localhost:53100')).toBe('http://localhost/*');
    expect(hostPermissionPattern('http://127.0.0.1')).toBe('http://127.0.0.1/*');
    expect(hostPermissionPattern('http://[::1]:8080')).toBe('http://[::1]/*');
  });
});

import { describe, expect, it } from 'vitest';
import { browserFlag, installHint } from './install-hint';

const CHROMIUM_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

describe('browserFlag', () => {
  it.each([
    [['Chromium', 'Not.A/Brand'], CHROMIUM_UA, 'chromium'],
    [['Chromium', 'Google Chrome'], CHROMIUM_UA, 'chrome'],
    [['Chromium', 'Microsoft Edge'], CHROMIUM_UA, 'edge'],
    [['Chromium', 'Brave'], CHROMIUM_UA, 'brave'],
    [[], 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'firefox'],
  ])('names %j as --browser %s', (brands, ua, flag) => {
    expect(browserFlag(brands, ua)).toBe(flag);
  });
});

describe('installHint', () => {
  it('gives the exact install command for npx and for a clone', () => {
    const hint = installHint(['Chromium'], CHROMIUM_UA);
    expect(hint.command).toBe('ews-daemon install --browser chromium');
    expect(hint.fromClone).toBe('host/bin/ews-daemon install --browser chromium');
  });
});

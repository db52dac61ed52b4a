// Which `ews-daemon install --browser …` to suggest for the browser the extension runs in.
// Pure: the browser's brand list (navigator.userAgentData.brands) and user agent are passed in.
// Change the flags here, change the installer's --browser values (host/src/install/).
import type { InstallHint } from './messages';

/** Brand names Chromium-family browsers report, and the installer's name for each. */
const BRAND_FLAGS: ReadonlyArray<[brand: string, flag: string]> = [
  ['Microsoft Edge', 'edge'],
  ['Brave', 'brave'],
  ['Vivaldi', 'vivaldi'],
  ['Google Chrome', 'chrome'],
];

export function browserFlag(brands: readonly string[], userAgent: string): string {
  if (/\bFirefox\//.test(userAgent)) return 'firefox';
  for (const [brand, flag] of BRAND_FLAGS) if (brands.includes(brand)) return flag;
  return 'chromium';
}

export function installHint(brands: readonly string[], userAgent: string): InstallHint {
  const flag = browserFlag(brands, userAgent);
  return {
    browserFlag: flag,
    command: `ews-daemon install --browser ${flag}`,
    fromClone: `host/bin/ews-daemon install --browser ${flag}`,
  };
}

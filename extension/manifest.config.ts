// The extension's manifest, once for both targets: Chromium (service worker) and Firefox
// (background scripts, gecko id). The Reply URL's origins are the only host permissions: the
// consent-capture rule may redirect only there (DNR needs no permission for the initiator of a
// main-frame navigation); the callback page is reachable only from the sign-in hosts.
// Two flavours: 'release' (what the package carries and the stores get) and 'test', which also
// lets the local emulator's sign-in pages (https://localhost:PORT) reach the callback page.
// Change a page's path here, change its use in src/lib/pages.ts.
import { defineManifest } from '@crxjs/vite-plugin';
import { EXTENSION_PUBLIC_KEY, FIREFOX_ADDON_ID, PRODUCT_VERSION } from '../shared/constants.ts';

export type Target = 'chrome' | 'firefox';
export type Flavour = 'release' | 'test';

/** Loopback Reply URLs (the daemon's default http://localhost:53100/callback and its kin). */
const REPLY_URL_ORIGINS = ['http://localhost/*', 'http://127.0.0.1/*'];

/**
 * Pages that send the sign-in tab to the Reply URL. Chromium lets a navigation reach the callback
 * page only if its initiator's origin is in web_accessible_resources.matches (tried: an initiator
 * outside the list gets "<id> is blocked"). Entra's sign-in hosts in every cloud. An authority
 * elsewhere needs `ews-daemon consent --listen` instead.
 */
const AUTHORITY_ORIGINS = [
  'https://login.microsoftonline.com/*',
  'https://login.microsoft.com/*',
  'https://login.windows.net/*',
  'https://login.microsoftonline.us/*',
  'https://login.chinacloudapi.cn/*',
  'https://login.partner.microsoftonline.cn/*',
];

/** The emulator's sign-in pages (test/emulator, https://localhost:PORT): test builds only. */
const TEST_AUTHORITY_ORIGINS = ['https://localhost/*', 'https://127.0.0.1/*'];

export function manifestFor(target: Target, flavour: Flavour = 'release') {
  const authorities = flavour === 'test' ? [...AUTHORITY_ORIGINS, ...TEST_AUTHORITY_ORIGINS] : AUTHORITY_ORIGINS;
  const background =
    target === 'firefox' ? { scripts: ['src/background/main.ts'], type: 'module' as const } : { service_worker: 'src/background/main.ts', type: 'module' as const };
  return defineManifest({
    manifest_version: 3,
    name: 'ews-daemon',
    short_name: 'ews-daemon',
    description: 'Signs you in to your Exchange mailbox for the ews-daemon companion and shows what it sees.',
    version: PRODUCT_VERSION,
    ...(target === 'chrome' ? { key: EXTENSION_PUBLIC_KEY, minimum_chrome_version: '120' } : {}),
    ...(target === 'firefox'
      ? {
          browser_specific_settings: {
            // 140 (Android 142): the first to read data_collection_permissions (web-ext lint warns
            // below them); it also has MV3 host permissions at install, storage.session, DNR session rules.
            // Nothing leaves the machine: the extension talks only to the local companion.
            gecko: { id: FIREFOX_ADDON_ID, strict_min_version: '140.0', data_collection_permissions: { required: ['none' as const] } },
            gecko_android: { strict_min_version: '142.0' },
          },
        }
      : {}),
    icons: { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png', 48: 'icons/icon-48.png', 128: 'icons/icon-128.png' },
    action: { default_popup: 'src/popup/index.html', default_title: 'ews-daemon', default_icon: { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png' } },
    background,
    // notifications: one desktop notification when an account needs sign-in (sign-in-notice.ts).
    permissions: ['nativeMessaging', 'declarativeNetRequestWithHostAccess', 'storage', 'notifications'],
    host_permissions: REPLY_URL_ORIGINS,
    web_accessible_resources: [{ resources: ['src/callback/index.html'], matches: [...authorities, ...REPLY_URL_ORIGINS] }],
  });
}

// Which extensions may start the native host: every id the project publishes under
// (shared/constants.ts PUBLISHED_EXTENSION_IDS, PUBLISHED_ADDON_IDS) plus those the user names
// (--extension-id, config extensionIds), sorted into Chromium ids and Firefox add-on ids. Pure.
import { PUBLISHED_ADDON_IDS, PUBLISHED_EXTENSION_IDS } from '../../../shared/constants';

/** Chromium extension ids: 32 letters a–p (sha256 of the key, hex digits mapped 0-f → a-p). */
const CHROMIUM_ID = /^[a-p]{32}$/;
/** Firefox add-on ids: `name@domain` or a `{uuid}`. */
const ADDON_ID = /^(?:\{[0-9a-fA-F-]{36}\}|[\w.+-]*@[\w.-]+)$/;

export interface ExtensionIds {
  /** allowed_origins entries, each `chrome-extension://<id>/` with its trailing slash. */
  origins: string[];
  /** allowed_extensions entries (Firefox). */
  addons: string[];
  /** What looked like neither, as given. */
  rejected: string[];
}

/** The allowed_origins entry of a Chromium extension id. */
export const chromiumOrigin = (id: string): string => `chrome-extension://${id}/`;

/** Sorts ids (a `chrome-extension://<id>/` origin is taken as its id), ours first, without duplicates. */
export function sortExtensionIds(given: readonly string[]): ExtensionIds {
  const chromium = new Set(PUBLISHED_EXTENSION_IDS.map((p) => p.id));
  const addons = new Set(PUBLISHED_ADDON_IDS);
  const rejected: string[] = [];
  for (const raw of given) {
    const id = raw.trim().replace(/^chrome-extension:\/\/([^/]+)\/?$/, '$1');
    if (CHROMIUM_ID.test(id)) chromium.add(id);
    else if (ADDON_ID.test(id)) addons.add(id);
    else rejected.push(raw);
  }
  return { origins: [...chromium].map(chromiumOrigin), addons: [...addons], rejected };
}

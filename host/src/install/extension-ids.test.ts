import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, EXTENSION_PUBLIC_KEY, FIREFOX_ADDON_ID, PUBLISHED_ADDON_IDS, PUBLISHED_EXTENSION_IDS } from '../../../shared/constants';
import { sortExtensionIds } from './extension-ids';

/** Chromium's id for a key: sha256 of the DER public key, its first 32 hex digits mapped 0-f → a-p. */
function idOfKey(base64Der: string): string {
  const hex = createHash('sha256').update(Buffer.from(base64Der, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode('a'.charCodeAt(0) + parseInt(c, 16))).join('');
}

describe('the published extension ids', () => {
  it('start with the id Chromium gives the committed key, and are all well-formed and distinct', () => {
    expect(idOfKey(EXTENSION_PUBLIC_KEY)).toBe(EXTENSION_ID);
    expect(PUBLISHED_EXTENSION_IDS[0]!.id).toBe(EXTENSION_ID);
    for (const p of PUBLISHED_EXTENSION_IDS) expect(p.id).toMatch(/^[a-p]{32}$/);
    expect(new Set(PUBLISHED_EXTENSION_IDS.map((p) => p.id)).size).toBe(PUBLISHED_EXTENSION_IDS.length);
    expect(PUBLISHED_ADDON_IDS).toContain(FIREFOX_ADDON_ID);
  });

  it('are all allowed with nothing given, and the ids given come after them, once each', () => {
    const published = PUBLISHED_EXTENSION_IDS.map((p) => `chrome-extension://${p.id}/`);
    expect(sortExtensionIds([])).toEqual({ origins: published, addons: [...PUBLISHED_ADDON_IDS], rejected: [] });
    const other = 'abcdefghijklmnopabcdefghijklmnop';
    const r = sortExtensionIds([`chrome-extension://${other}/`, other, EXTENSION_ID, 'me@example.org', 'not an id']);
    expect(r.origins).toEqual([...published, `chrome-extension://${other}/`]);
    expect(r.addons).toEqual([...PUBLISHED_ADDON_IDS, 'me@example.org']);
    expect(r.rejected).toEqual(['not an id']);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSealed, MAGIC, openCache, parseKeyBytes, seal, sealedKeyHint, type CacheKey } from './cache-crypto';

const key = (source: CacheKey['source'] = 'keyring'): CacheKey => ({ key: randomBytes(32), source, where: 'test' });
const TEXT = JSON.stringify({ RefreshToken: { k: { secret: 'rt-secret-value' } } });

describe('the sealed cache format', () => {
  it('round-trips, and the file holds neither the text nor the secret in it', () => {
    const k = key();
    const sealed = seal(TEXT, k);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed.subarray(0, 8)).toEqual(MAGIC);
    expect(sealed.toString('latin1')).not.toContain('rt-secret-value');
    expect(openCache(sealed, k)).toEqual({ kind: 'sealed', text: TEXT });
  });

  it('uses a fresh nonce per write: the same text seals to different bytes', () => {
    const k = key();
    expect(seal(TEXT, k).equals(seal(TEXT, k))).toBe(false);
  });

  it('tells a wrong key (or none) from damage, and names where the key was', () => {
    const sealed = seal(TEXT, key('file'));
    expect(openCache(sealed, key())).toMatchObject({ kind: 'locked', source: 'file', haveKey: true });
    expect(openCache(sealed, null)).toMatchObject({ kind: 'locked', source: 'file', haveKey: false });
    expect(sealedKeyHint(sealed)?.source).toBe('file');
  });

  it('finds any altered byte, header included (the header is authenticated)', () => {
    const k = key();
    const sealed = seal(TEXT, k);
    for (const at of [9, 20, 40, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 1;
      const opened = openCache(bad, k);
      // Byte 9 is the key source and 20 the nonce: authenticated, so the tag fails.
      expect(opened.kind).toBe('damaged');
    }
    expect(openCache(sealed.subarray(0, 40), k)).toEqual({ kind: 'damaged', reason: 'the file is cut short' });
    const newer = Buffer.from(sealed);
    newer[8] = 2;
    expect(openCache(newer, k)).toMatchObject({ kind: 'damaged', reason: expect.stringMatching(/unknown format version 2/) });
  });

  it('reads a plain (older) cache as it is', () => {
    expect(openCache(Buffer.from(TEXT), key())).toEqual({ kind: 'plain', text: TEXT });
    expect(isSealed(Buffer.from(TEXT))).toBe(false);
  });
});

describe('key file content', () => {
  const raw = randomBytes(32);
  it('takes 32 raw bytes, 64 hex digits or base64, with white space around', () => {
    expect(parseKeyBytes(raw)).toEqual({ key: raw });
    expect(parseKeyBytes(Buffer.from(`${raw.toString('hex')}\n`))).toEqual({ key: raw });
    expect(parseKeyBytes(Buffer.from(` ${raw.toString('base64')}\r\n`))).toEqual({ key: raw });
  });

  it('refuses anything else, saying how to make a key', () => {
    for (const bad of ['hunter2', raw.toString('hex').slice(2), `${raw.toString('base64')}AA`, '']) {
      expect(parseKeyBytes(Buffer.from(bad))).toEqual({ error: expect.stringMatching(/32 random bytes.*head -c 32 \/dev\/urandom/) });
    }
  });
});

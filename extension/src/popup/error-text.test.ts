import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../shared/errors';
import { ERROR_TEXT } from './error-text';

describe('ERROR_TEXT', () => {
  it('has words for every error code and for nothing else', () => {
    expect(Object.keys(ERROR_TEXT).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('gives each code a distinct title a person can read', () => {
    const titles = Object.values(ERROR_TEXT).map((t) => t.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const t of titles) expect(t).toMatch(/^[A-Z]/);
  });
});

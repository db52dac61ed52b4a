import { describe, expect, it } from 'vitest';
import { formatLocalTime } from '../lib/format';
import { annotatedJson, jsonText } from './jwt-text';

describe('annotatedJson', () => {
  it('adds the local time after each time claim and leaves other lines alone', () => {
    const claims = { aud: 'https://outlook.office365.com', exp: 1767603600, iat: 1767600000, name: 'Alice', nested: { exp: 5 } };
    const text = annotatedJson(claims);
    expect(text).toContain(`"exp": 1767603600,  // ${formatLocalTime(1767603600 * 1000)}`);
    expect(text).toContain(`"iat": 1767600000,  // ${formatLocalTime(1767600000 * 1000)}`);
    expect(text).toContain('"aud": "https://outlook.office365.com",\n');
    expect(text).toContain('"exp": 5\n');
  });

  it('copies plain JSON that parses back to the same claims', () => {
    const claims = { exp: 1, sub: 'x' };
    expect(JSON.parse(jsonText(claims))).toEqual(claims);
  });
});

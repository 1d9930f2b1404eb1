import hubei from '../data/hubei.json' with { type: 'json' };
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

/** A six-digit GB/T 2260 code as the prefix of the area it names: 420000 → 42, 420100 → 4201, 420111 → 420111. */
export function regionPrefix(code: string): string {
  if (/^[1-9][0-9]0000$/.test(code)) return code.slice(0, 2);
  if (/^[1-9][0-9]{3}00$/.test(code)) return code.slice(0, 4);
  return code;
}

/** The areas a region lies in, narrowest first: 420111 → [420111, 4201, 42]. */
export function enclosingRegions(code: string): string[] {
  const p = regionPrefix(code);
  const out = [p];
  if (p.length > 4) out.push(p.slice(0, 4));
  if (p.length > 2) out.push(p.slice(0, 2));
  return out;
}

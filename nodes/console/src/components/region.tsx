import type { NeedState, OfferState } from '@shuniu/resolve';
import type { Issue } from '../lib/api.js';
import { MAP, regionGroups, regionName } from '../lib/regions.js';
import { getState, t } from '../lib/store.js';
import { issueText } from '../lib/validate.js';

/** The values the picker lists: counties, and with `allowPrefecture` the province and prefectures (429000 only through its counties). */
const COUNTIES = new Set(MAP.counties.map((c) => c.code));
const AREAS = new Set([MAP.region.code, ...Object.keys(MAP.prefectures).filter((c) => c !== '429000'), ...COUNTIES]);
const listed = (allowPrefecture: boolean) => (allowPrefecture ? AREAS : COUNTIES);

/**
 * The option a region code selects: a filter may name an area by its prefix
 * (`?region=4201` or `42`, as the node's filters accept), which is the
 * 6-digit option `420100` or `420000`; a code of no listed place stays as it
 * is (the picker then lists it on its own, so it never shows blank).
 */
export function selectValue(code: string, allowPrefecture: boolean): string {
  if (allowPrefecture && /^\d{2}(\d{2})?$/.test(code)) {
    const full = code.padEnd(6, '0');
    if (listed(true).has(full)) return full;
  }
  return code;
}

/**
 * A region picker over the shipped map's counties, grouped by prefecture.
 * `allowPrefecture` adds the province and prefectures themselves (filters and
 * donor intent accept a prefix; a need's region is one county).
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
  const value = selectValue(p.value, p.allowPrefecture === true);
  return (
    <div class={`field${errs.length ? ' invalid' : ''}`}>
      <label for={p.id}>{p.label}</label>
      <select
        id={p.id}
        value={value}
        aria-invalid={errs.length ? 'true' : undefined}
        aria-describedby={errs.length ? `${p.id}-err` : undefined}
        onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {p.empty !== undefined ? <option value="">{p.empty}</option> : null}
        {value && !listed(p.allowPrefecture === true).has(value) ? <option value={value}>{regionName(value, lang)}</option> : null}
        {p.allowPrefecture ? <option value={MAP.region.code}>{lang === 'zh' ? MAP.region.name : MAP.region.en}</option> : null}
        {regionGroups().map((g) => (
          <optgroup label={lang === 'zh' ? g.name.zh : g.name.en} key={g.code}>
            {p.allowPrefecture && g.code !== '429000' ? (
              <option value={g.code}>
                {lang === 'zh' ? g.name.zh : g.name.en}（{lang === 'zh' ? '全市' : 'all'}）
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

/**
 * The region's counties as inline SVG (no tiles, no network): fill by unmet
 * urgent demand, a dot where offers are. Counties with data are SVG links in
 * the tab order; the table beside the map carries the same numbers for
 * screen readers and small screens.
 */
export function RegionMap({ stats, hrefOf, selected }: { stats: Map<string, CountyStats>; hrefOf: (code: string) => string; selected?: string | undefined }) {
  const max = Math.max(0, ...[...stats.values()].map((s) => s.urgent));
  const fill = (v: number) => (v <= 0 ? '#f4f4f2' : (SCALE[Math.min(SCALE.length - 1, Math.max(0, Math.ceil((v / (max || 1)) * SCALE.length) - 1))] as string));
  const [x, y, w, h] = MAP.viewBox;
  return (
    <figure class="map">
      <svg viewBox={`${x} ${y} ${w} ${h}`} aria-labelledby="map-title" preserveAspectRatio="xMidYMid meet">
        <title id="map-title">{t('map.title')}</title>
        {MAP.counties.map((c) => {
          const s = stats.get(c.code);
          const label = t('map.county', { name: c.name, urgent: s?.urgent ?? 0, needs: s?.needs ?? 0, offers: s?.offers ?? 0 });
          const shape = (
            <path d={c.d} fill={fill(s?.urgent ?? 0)} class={`county${selected === c.code ? ' selected' : ''}${s ? ' active' : ''}`} data-code={c.code}>
              <title>{label}</title>
            </path>
          );
          return s && (s.needs || s.offers) ? (
            <a key={c.code} href={hrefOf(c.code)} aria-label={label} class="county-link">
              {shape}
            </a>
          ) : (
            <g key={c.code}>{shape}</g>
          );
        })}
        {MAP.counties.map((c) => {
          const s = stats.get(c.code);
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

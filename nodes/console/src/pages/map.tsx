import { areaStats, Crumbs, countyStats, RegionMap, useMapView } from '../components/region.js';
import { Notice } from '../components/ui.js';
import { num } from '../lib/format.js';
import { regionName, regionPrefix } from '../lib/regions.js';
import { href, type Route } from '../lib/router.js';
import { t, useApp } from '../lib/store.js';

/**
 * Needs and offers on a map of China: provinces, then a province's
 * prefectures, then a prefecture's counties (`?area=42`, `?area=4201`).
 * Selecting an area with parts drills down; a county opens the needs board
 * filtered to it. The table lists the shown areas that have records.
 */
export function MapPage({ route }: { route?: Route }) {
  const s = useApp();
  const area = regionPrefix(route?.params.get('area') ?? '');
  const stats = countyStats(s.needs ?? [], s.offers ?? []);
  const { view, drill } = useMapView(area);
  const hrefOf = (code: string, deeper: boolean) => (deeper ? href('/map', { area: code }) : href('/needs', { region: code.padEnd(6, '0'), status: 'active' }));
  const codes = view?.areas.map((a) => a.code) ?? [];
  const byArea = areaStats(stats, codes);
  const rows = codes
    .map((c) => ({ c, s: byArea.get(c) }))
    .filter((r) => r.s && (r.s.needs || r.s.offers))
    .sort((a, b) => (b.s?.urgent ?? 0) - (a.s?.urgent ?? 0) || (b.s?.needs ?? 0) - (a.s?.needs ?? 0));
  return (
    <>
      <h1>{t('map.title')}</h1>
      <p class="lead">{t('map.intro')}</p>
      {s.missing.needs ? <Notice kind="warn">{t('common.notAvailable', { what: s.missing.needs })}</Notice> : null}
      <Crumbs area={area} hrefOf={(code) => href('/map', { area: code || undefined })} />
      <RegionMap stats={stats} area={area} hrefOf={hrefOf} />
      <div class="table-wrap">
        <table class="responsive">
          <caption class="sr-only">{t('map.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('field.region')}</th>
              <th scope="col">{t('map.legend')}</th>
              <th scope="col">{t('public.openNeeds')}</th>
              <th scope="col">{t('public.openOffers')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ c, s: st }) => (
              <tr key={c} data-area={c}>
                <th scope="row" data-label={t('field.region')}>
                  <a href={hrefOf(c, drill(c))}>{regionName(c, s.lang)}</a>
                </th>
                <td data-label={t('map.legend')}>{num(st?.urgent ?? 0, s.lang)}</td>
                <td data-label={t('public.openNeeds')}>{st?.needs ?? 0}</td>
                <td data-label={t('public.openOffers')}>
                  <a href={href('/offers', { region: c.padEnd(6, '0'), status: 'available' })}>{st?.offers ?? 0}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

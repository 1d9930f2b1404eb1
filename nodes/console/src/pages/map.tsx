import { countyStats, RegionMap } from '../components/region.js';
import { Notice } from '../components/ui.js';
import { num } from '../lib/format.js';
import { MAP } from '../lib/regions.js';
import { href } from '../lib/router.js';
import { t, useApp } from '../lib/store.js';

/** Needs and offers by county; selecting a county opens the needs board filtered to it. */
export function MapPage() {
  const s = useApp();
  const stats = countyStats(s.needs ?? [], s.offers ?? []);
  const rows = MAP.counties
    .map((c) => ({ c, s: stats.get(c.code) }))
    .filter((r) => r.s && (r.s.needs || r.s.offers))
    .sort((a, b) => (b.s?.urgent ?? 0) - (a.s?.urgent ?? 0) || (b.s?.needs ?? 0) - (a.s?.needs ?? 0));
  return (
    <>
      <h1>{t('map.title')}</h1>
      <p class="lead">{t('map.intro')}</p>
      {s.missing.needs ? <Notice kind="warn">{t('common.notAvailable', { what: s.missing.needs })}</Notice> : null}
      <RegionMap stats={stats} hrefOf={(code) => href('/needs', { region: code, status: 'active' })} />
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
              <tr key={c.code}>
                <th scope="row" data-label={t('field.region')}>
                  <a href={href('/needs', { region: c.code, status: 'active' })}>{c.name}</a>
                </th>
                <td data-label={t('map.legend')}>{num(st?.urgent ?? 0, s.lang)}</td>
                <td data-label={t('public.openNeeds')}>{st?.needs ?? 0}</td>
                <td data-label={t('public.openOffers')}>
                  <a href={href('/offers', { region: c.code, status: 'available' })}>{st?.offers ?? 0}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

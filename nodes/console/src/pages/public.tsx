import { NeedCard, OfferCard } from '../components/cards.js';
import { Crumbs, countyStats, isOpenNeed, isOpenOffer, RegionMap } from '../components/region.js';
import { Notice } from '../components/ui.js';
import { VolunteersNear } from '../components/volunteers.js';
import { inRegion, regionName, regionPrefix } from '../lib/regions.js';
import { href, type Route } from '../lib/router.js';
import { t, useApp } from '../lib/store.js';

/**
 * The page anyone may open (as the Guiyang centre's public map): open needs
 * and available offers from public records. Resolved state never holds a
 * sealed part's plaintext, and this page shows no operator action.
 */
export function PublicPage({ route }: { route: Route }) {
  const s = useApp();
  const region = route.params.get('region') ?? '';
  const needs = (s.needs ?? []).filter((n) => isOpenNeed(n) && inRegion(n.region, region));
  const offers = (s.offers ?? []).filter((o) => isOpenOffer(o) && inRegion(o.region, region));
  const stats = countyStats(s.needs ?? [], s.offers ?? []);
  return (
    <>
      <h1>{t('public.title')}</h1>
      <p class="lead">{t('public.intro')}</p>
      {s.missing.needs ? <Notice kind="warn">{t('common.notAvailable', { what: s.missing.needs })}</Notice> : null}
      <Crumbs area={regionPrefix(region)} hrefOf={(code) => href('/public', { region: code ? code.padEnd(6, '0') : undefined })} />
      <RegionMap
        stats={stats}
        area={region}
        selected={region}
        hrefOf={(code) => href('/public', { region: code.padEnd(6, '0') === region ? undefined : code.padEnd(6, '0') })}
      />
      {region ? (
        <p>
          {t('field.region')}：<strong>{regionName(region, s.lang)}</strong> ·{' '}
          <a href="#/public" class="button-link">
            {t('common.clear')}
          </a>
        </p>
      ) : null}
      <div class="two-col">
        <section aria-labelledby="pub-needs">
          <h2 id="pub-needs">
            {t('public.openNeeds')} <span class="count">{needs.length}</span>
          </h2>
          {needs.length ? needs.map((n) => <NeedCard n={n} key={n.id} public />) : <p class="muted">{s.needs ? t('common.none') : t('common.loading')}</p>}
        </section>
        <section aria-labelledby="pub-offers">
          <h2 id="pub-offers">
            {t('public.openOffers')} <span class="count">{offers.length}</span>
          </h2>
          {offers.length ? offers.map((o) => <OfferCard o={o} key={o.id} public />) : <p class="muted">{s.offers ? t('common.none') : t('common.loading')}</p>}
        </section>
      </div>
      <VolunteersNear region={region} />
    </>
  );
}

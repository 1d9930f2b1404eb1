import type { BodyOf } from '@shuniu/protocol';
import type { NeedState, OfferState } from '@shuniu/resolve';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { num } from '../lib/format.js';
import { inRegion, regionName } from '../lib/regions.js';
import { t, useApp } from '../lib/store.js';
import { donorName } from './cards.js';
import { isOpenNeed, isOpenOffer } from './region.js';

/** Skills and availability of an offer of volunteers (spec/records.md §5.8 volunteerTeam). */
export type VolunteerTeam = NonNullable<BodyOf<'offer.posted'>['volunteers']>;

/**
 * The resolved state keeps an offer's figures, not its volunteers member:
 * each volunteer offer's team is read once from its signed record (a public
 * read, no sealed part) and kept for the page's life.
 */
const teams = new Map<string, VolunteerTeam | null>();
const asked = new Set<string>();

function useTeams(ids: string[]): Map<string, VolunteerTeam | null> {
  const [, setVersion] = useState(0);
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    for (const id of ids) {
      if (asked.has(id)) continue;
      asked.add(id);
      api<{ body: BodyOf<'offer.posted'> }>(`/v1/records/${id}`)
        .then((r) => teams.set(id, r.body.volunteers ?? null))
        .catch(() => {
          asked.delete(id);
        })
        .finally(() => {
          if (live) setVersion((v) => v + 1);
        });
    }
    return () => {
      live = false;
    };
  }, [key]);
  return teams;
}

/** How near an offer is to the open needs: needs in its county, then in its prefecture (first four digits). */
export function nearness(o: { region: string }, needs: readonly { region: string }[]): { county: number; prefecture: number } {
  let county = 0;
  let prefecture = 0;
  for (const n of needs) {
    if (n.region === o.region) county++;
    else if (n.region.slice(0, 4) === o.region.slice(0, 4)) prefecture++;
  }
  return { county, prefecture };
}

/** When a team can help, in words: days, hours, dates, remote. */
export function availabilityText(a: VolunteerTeam['availability'], lang: 'zh' | 'en'): string {
  const parts: string[] = [];
  if (a.days?.length) parts.push(a.days.map((d) => t(`weekday.${d}`)).join(lang === 'zh' ? '、' : ', '));
  if (a.hours) parts.push(`${a.hours.start}–${a.hours.end}`);
  if (a.from) parts.push(t('volunteers.from', { date: a.from.slice(0, 10) }));
  if (a.until) parts.push(t('volunteers.until', { date: a.until.slice(0, 10) }));
  if (a.remote) parts.push(t('volunteers.remote'));
  return parts.length ? parts.join(' · ') : t('volunteers.anytime');
}

/**
 * Available volunteers near the open needs, as the Guiyang centre's public
 * map showed neighbours' skills beside the needs: volunteer offers in the
 * selected area, those with open needs in their county first, then in
 * their prefecture; each with its skills and availability.
 */
export function VolunteersNear({ region }: { region: string }) {
  const s = useApp();
  const offers = (s.offers ?? []).filter((o) => o.kind === 'volunteers' && isOpenOffer(o) && inRegion(o.region, region));
  const needs = (s.needs ?? []).filter((n: NeedState) => isOpenNeed(n));
  const known = useTeams(offers.map((o) => o.id));
  const rows = offers
    .map((o) => ({ o, near: nearness(o, needs) }))
    .sort((a, b) => b.near.county - a.near.county || b.near.prefecture - a.near.prefecture || (a.o.id < b.o.id ? -1 : 1));
  return (
    <section aria-labelledby="pub-volunteers" class="volunteers">
      <h2 id="pub-volunteers">
        {t('volunteers.title')} <span class="count">{offers.length}</span>
      </h2>
      {rows.length === 0 ? <p class="muted">{s.offers ? t('common.none') : t('common.loading')}</p> : null}
      <div class="cards">
        {rows.map(({ o, near }) => (
          <VolunteerCard o={o} team={known.get(o.id)} near={near} key={o.id} />
        ))}
      </div>
    </section>
  );
}

function VolunteerCard({ o, team, near }: { o: OfferState; team: VolunteerTeam | null | undefined; near: { county: number; prefecture: number } }) {
  const s = useApp();
  return (
    <article class="card volunteer" data-offer={o.id} aria-labelledby={`vol-${o.id}`}>
      <h3 id={`vol-${o.id}`}>
        {donorName(o.donor, true)} · {t('volunteers.people', { n: num(o.available, s.lang) })}
      </h3>
      <p>
        {regionName(o.region, s.lang)}
        {near.county || near.prefecture ? ` · ${t('volunteers.near', { county: near.county, prefecture: near.prefecture })}` : ''}
      </p>
      {team ? (
        <>
          <ul class="chips" aria-label={t('volunteers.skills')}>
            {team.skills.map((k) => (
              <li class="chip" key={k} data-skill={k}>
                {t(`skill.${k}`)}
              </li>
            ))}
          </ul>
          <p class="availability">
            {t('volunteers.available')}
            {availabilityText(team.availability, s.lang)}
          </p>
        </>
      ) : team === null ? (
        <p class="muted">{t('volunteers.noSkills')}</p>
      ) : null}
    </article>
  );
}

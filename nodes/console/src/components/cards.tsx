import type { NeedState, OfferState } from '@shuniu/resolve';
import type { ComponentChildren } from 'preact';
import { qty, shortId, when, yuan } from '../lib/format.js';
import { regionName } from '../lib/regions.js';
import { getState, t } from '../lib/store.js';
import { Badge } from './ui.js';

export function hubName(id: string | undefined): string {
  if (!id) return '';
  const s = getState();
  const h = s.hubs?.find((x) => x.id === id);
  const name = h?.name ? (s.lang === 'en' && h.name.en ? h.name.en : h.name.zh) : undefined;
  return name ?? shortId(id);
}

/** A need at a glance: what, how much, how urgent, where, for whom, and how far along. */
export function NeedCard({ n, children, public: pub }: { n: NeedState; children?: ComponentChildren; public?: boolean }) {
  const { lang } = getState();
  const pct = (v: number) => `${Math.min(100, Math.round((v / (n.quantity || 1)) * 100))}%`;
  return (
    <article class={`card need urgency-${n.urgency}`} data-need={n.id} aria-labelledby={`need-${n.id}`}>
      <header>
        <h3 id={`need-${n.id}`}>
          {n.item.name} <span class="qty">{qty(n.quantity, n.unit, lang)}</span>
        </h3>
        <div class="badges">
          <Badge kind={`urgency-${n.urgency}`}>{t(`urgency.${n.urgency}`)}</Badge>
          <Badge kind={`status-${n.status}`}>
            <span data-testid="need-status">{t(`needStatus.${n.status}`)}</span>
          </Badge>
        </div>
      </header>
      <dl class="facts">
        <dt>{t('field.region')}</dt>
        <dd>{regionName(n.region, lang)}</dd>
        <dt>{t('field.beneficiaries.group')}</dt>
        <dd>
          {t(`group.${n.beneficiaries.group}`)} · {n.beneficiaries.count}
        </dd>
        <dt>{t('field.requester.name')}</dt>
        <dd>
          {n.requester.name} ({t(`orgKind.${n.requester.kind}`)})
        </dd>
        <dt>{t('field.neededBy')}</dt>
        <dd>{when(n.neededBy, lang)}</dd>
        {n.campaign ? (
          <>
            <dt>{t('field.campaign')}</dt>
            <dd>{n.campaign}</dd>
          </>
        ) : null}
        {pub ? null : (
          <>
            <dt>{t('reports.hub')}</dt>
            <dd>{hubName(n.hub)}</dd>
          </>
        )}
      </dl>
      <div class="progress" aria-hidden="true">
        <span class="p-alloc" style={{ width: pct(n.allocated) }} />
        <span class="p-recv" style={{ width: pct(n.received) }} />
        <span class="p-deliv" style={{ width: pct(n.delivered) }} />
      </div>
      <p class="muted small">
        {t('needs.progress', {
          allocated: qty(n.allocated, n.unit, lang),
          inTransit: qty(n.inTransit, n.unit, lang),
          received: qty(n.received, n.unit, lang),
          delivered: qty(n.delivered, n.unit, lang),
        })}
      </p>
      {children}
    </article>
  );
}

/** Donor intent as chips: where, for whom, for what, until when. */
export function IntentChips({ o }: { o: OfferState }) {
  const { lang } = getState();
  // Words, not pictograms: phones in the field may lack an emoji font.
  const chips: [string, string][] = [];
  for (const r of o.intent.regions ?? []) chips.push([t('field.region'), regionName(r.padEnd(6, '0'), lang)]);
  for (const g of o.intent.groups ?? []) chips.push([t('field.beneficiaries.group'), t(`group.${g}`)]);
  for (const p of o.intent.purposes ?? []) chips.push([t('field.purpose'), t(`purpose.${p}`)]);
  if (o.intent.validUntil) chips.push([t('field.intent.validUntil'), when(o.intent.validUntil, lang)]);
  return (
    <div class="intent">
      <span class="intent-label">{t('offers.intent')}：</span>
      {chips.length ? (
        <ul class="chips">
          {chips.map(([k, v]) => (
            <li key={k + v}>
              <span class="chip-key">{k}</span> {v}
            </li>
          ))}
        </ul>
      ) : (
        <span class="muted">{t('offers.intentNone')}</span>
      )}
    </div>
  );
}

/**
 * The donor as a page shows it: on public pages an individual who did not
 * agree to be named is 爱心人士 / "Anonymous donor" (issue 10 point 11).
 */
export function donorName(d: { name: string; kind: string; named?: boolean }, pub: boolean | undefined): string {
  if (pub && d.kind === 'individual' && d.named !== true) return t('donor.anonymous');
  return d.name;
}

export function OfferCard({ o, children, public: pub }: { o: OfferState; children?: ComponentChildren; public?: boolean }) {
  const { lang } = getState();
  return (
    <article class="card offer" data-offer={o.id} aria-labelledby={`offer-${o.id}`}>
      <header>
        <h3 id={`offer-${o.id}`}>
          {o.item.name} <span class="qty">{qty(o.quantity, o.unit, lang)}</span>
        </h3>
        <div class="badges">
          <Badge kind="kind">{t(`offerKind.${o.kind}`)}</Badge>
          <Badge kind={`offer-${o.status}`}>{t(`offerStatus.${o.status}`)}</Badge>
        </div>
      </header>
      <IntentChips o={o} />
      <dl class="facts">
        <dt>{t('field.donor.name')}</dt>
        <dd>
          <span data-testid="donor-name">{donorName(o.donor, pub)}</span> ({t(`donorKind.${o.donor.kind}`)})
        </dd>
        <dt>{t('field.region')}</dt>
        <dd>{regionName(o.region, lang)}</dd>
        <dt>{t('field.valueFen')}</dt>
        <dd>{yuan(o.valueFen, lang)}</dd>
        {o.campaign ? (
          <>
            <dt>{t('field.campaign')}</dt>
            <dd>{o.campaign}</dd>
          </>
        ) : null}
        {pub ? null : (
          <>
            <dt>{t('reports.hub')}</dt>
            <dd>{hubName(o.hub)}</dd>
          </>
        )}
      </dl>
      <p class="muted small">{t('offers.available', { available: qty(o.available, o.unit, lang), quantity: qty(o.quantity, o.unit, lang) })}</p>
      {children}
    </article>
  );
}

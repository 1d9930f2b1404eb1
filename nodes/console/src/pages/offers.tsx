import { beneficiaryGroup, donorKind, offerKind, offerPostedBody, offerWithdrawnBody, purpose, volunteerSkill, weekday } from '@shuniu/protocol';
import type { OfferState } from '@shuniu/resolve';
import { useState } from 'preact/hooks';
import { BoardHead, Filters, ParamSelect, urlFilters } from '../components/board.js';
import { OfferCard } from '../components/cards.js';
import { ItemDatalist, ItemWarnings, itemAware, itemHint } from '../components/items.js';
import { PrivateFieldset, PrivatePanel, privateDefaults, withPrivate } from '../components/private.js';
import { RegionSelect } from '../components/region.js';
import { ErrorSummary, enumOptions, Field, Notice, Submit, useRecordForm, type Values } from '../components/ui.js';
import { publish } from '../lib/api.js';
import { fromLocalInput, shortId } from '../lib/format.js';
import { inRegion, regionName } from '../lib/regions.js';
import type { Route } from '../lib/router.js';
import { getState, t, useApp } from '../lib/store.js';
import { numberOf, prune } from '../lib/validate.js';

const OFFER_STATUSES = ['available', 'allocated', 'withdrawn', 'expired'] as const;

function matches(o: OfferState, p: URLSearchParams): boolean {
  const item = (p.get('item') ?? '').trim().toLowerCase();
  if (!inRegion(o.region, p.get('region') ?? '')) return false;
  if (item && !o.item.code.toLowerCase().includes(item) && !o.item.name.toLowerCase().includes(item)) return false;
  if (p.get('kind') && o.kind !== p.get('kind')) return false;
  if (p.get('group') && o.intent.groups && !o.intent.groups.includes(p.get('group') as never)) return false;
  if (p.get('status') && o.status !== p.get('status')) return false;
  return true;
}

export function OffersPage({ route }: { route: Route }) {
  const s = useApp();
  const [creating, setCreating] = useState(false);
  const p = route.params;
  const setParam = urlFilters('/offers', p);
  const list = (s.offers ?? []).filter((o) => matches(o, p)).sort((a, b) => b.available - a.available || (a.id < b.id ? -1 : 1));
  return (
    <>
      <BoardHead
        title={t('offers.title')}
        missing={s.missing.offers}
        signedIn={s.signedIn}
        newLabel={t('offers.new')}
        formId="new-offer"
        creating={creating}
        setCreating={setCreating}
      />
      {creating ? <NewOfferForm onDone={() => setCreating(false)} /> : null}
      <Filters path="/offers" prefix="oflt" params={p} set={setParam}>
        <ParamSelect
          id="oflt-kind"
          param="kind"
          label={t('field.kind')}
          options={enumOptions('offerKind', offerKind.options, t('common.all'))}
          params={p}
          set={setParam}
        />
        <ParamSelect
          id="oflt-group"
          param="group"
          label={t('field.intent.groups')}
          options={enumOptions('group', beneficiaryGroup.options, t('common.all'))}
          params={p}
          set={setParam}
        />
        <ParamSelect
          id="oflt-status"
          param="status"
          label={t('field.status')}
          options={enumOptions('offerStatus', OFFER_STATUSES, t('common.all'))}
          params={p}
          set={setParam}
        />
      </Filters>
      <p class="muted" aria-live="polite">
        {s.offers ? t('common.count', { n: list.length }) : t('common.loading')}
      </p>
      <div class="cards">
        {list.map((o) => (
          <OfferCard o={o} key={o.id}>
            {s.signedIn ? <PrivatePanel id={o.id} /> : null}
            {s.signedIn && s.node?.hub === o.hub && o.status !== 'withdrawn' ? <WithdrawForm o={o} /> : null}
          </OfferCard>
        ))}
      </div>
    </>
  );
}

function WithdrawForm({ o }: { o: OfferState }) {
  const [open, setOpen] = useState(false);
  const f = useRecordForm(
    offerWithdrawnBody,
    { reason: '' },
    (v) => prune({ offer: o.id, reason: v.reason?.trim() }),
    (b) => {
      const { offer: _offer, ...rest } = b as Record<string, unknown>;
      return publish(`/v1/offers/${o.id}/withdraw`, rest);
    },
  );
  return (
    <div class="actions">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {t('offers.withdraw')}
      </button>
      {open ? (
        <form class="record-form inline" onSubmit={f.submit} noValidate aria-label={t('offers.withdrawTitle')}>
          <ErrorSummary issues={f.issues} error={f.error} />
          {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
          <Field name="reason" type="textarea" optional values={f.values} set={f.set} issues={f.fieldIssues} />
          <Submit busy={f.busy} />
        </form>
      ) : null}
    </div>
  );
}

/** Checkbox group for a donor-intent list; the value is kept comma-joined in the form state. */
function Checks({
  name,
  prefix,
  options,
  values,
  set,
}: {
  name: string;
  prefix: string;
  options: readonly string[];
  values: Values;
  set: (k: string, v: string) => void;
}) {
  const chosen = new Set((values[name] ?? '').split(',').filter(Boolean));
  return (
    <fieldset class="checks">
      <legend>
        {t(`field.${name}`)} <span class="muted">{t('common.optional')}</span>
      </legend>
      {options.map((o) => (
        <label key={o}>
          <input
            type="checkbox"
            checked={chosen.has(o)}
            onChange={(e) => {
              if ((e.currentTarget as HTMLInputElement).checked) chosen.add(o);
              else chosen.delete(o);
              set(name, [...chosen].join(','));
            }}
          />{' '}
          {t(`${prefix}.${o}`)}
        </label>
      ))}
    </fieldset>
  );
}

function buildOffer(v: Values) {
  const list = (k: string) => (v[k] ? (v[k] as string).split(',').filter(Boolean) : undefined);
  const yuanText = (v.valueFen ?? '').trim();
  const body = prune({
    kind: v.kind,
    item: { code: v['item.code']?.trim(), name: v['item.name']?.trim() },
    quantity: numberOf(v.quantity ?? ''),
    unit: { name: v['unit.name']?.trim(), base: v['unit.base']?.trim(), size: numberOf(v['unit.size'] ?? '') },
    // Entered in yuan; the wire carries whole fen.
    valueFen: yuanText === '' ? undefined : Math.round(Number(yuanText) * 100),
    // An individual is named publicly only with consent (issue 10 point 11); otherwise shown as 爱心人士.
    donor: {
      name: v['donor.name']?.trim(),
      kind: v['donor.kind'],
      ...(v['donor.kind'] === 'individual' && v['donor.named'] === 'true' ? { named: true } : {}),
    },
    intent: {
      regions: list('intent.regions')?.map((r) => r.replace(/(00)+$/, '')),
      groups: list('intent.groups'),
      purposes: list('intent.purposes'),
      validUntil: fromLocalInput(v['intent.validUntil'] ?? ''),
    },
    region: v.region,
    campaign: v.campaign?.trim(),
    note: v.note?.trim(),
    // Skills and availability: only on an offer of volunteers (spec/records.md §5.8).
    volunteers:
      v.kind === 'volunteers'
        ? {
            skills: list('volunteers.skills'),
            availability: {
              days: list('volunteers.availability.days'),
              hours:
                v['volunteers.availability.hours.start'] || v['volunteers.availability.hours.end']
                  ? { start: v['volunteers.availability.hours.start']?.trim(), end: v['volunteers.availability.hours.end']?.trim() }
                  : undefined,
              until: fromLocalInput(v['volunteers.availability.until'] ?? ''),
              remote: v['volunteers.availability.remote'] === 'true' ? true : undefined,
            },
          }
        : undefined,
  }) as Record<string, unknown>;
  // Skills given without any restriction on time: availability is still required, as an empty object.
  const team = body.volunteers as Record<string, unknown> | undefined;
  const volunteers = team ? { volunteers: { ...team, availability: team.availability ?? {} } } : {};
  // An intent with no constraint is still required, as an empty object.
  return { ...body, ...volunteers, intent: body.intent ?? {} };
}

function NewOfferForm({ onDone }: { onDone: () => void }) {
  const region = getState().node?.profile?.region ?? '';
  const f = useRecordForm(
    offerPostedBody,
    {
      kind: 'goods',
      'item.code': '',
      'item.name': '',
      quantity: '',
      'unit.name': '个',
      'unit.base': '个',
      'unit.size': '1',
      valueFen: '',
      'donor.name': '',
      'donor.kind': 'foundation',
      'donor.named': '',
      'intent.regions': '',
      'intent.groups': '',
      'intent.purposes': '',
      'intent.validUntil': '',
      region: region.endsWith('00') ? '' : region,
      campaign: '',
      note: '',
      'volunteers.skills': '',
      'volunteers.availability.days': '',
      'volunteers.availability.hours.start': '',
      'volunteers.availability.hours.end': '',
      'volunteers.availability.until': '',
      'volunteers.availability.remote': '',
      ...privateDefaults(),
    },
    buildOffer,
    (b, v) => publish('/v1/offers', withPrivate(b, v)),
  );
  const common = itemAware(f);
  const lang = getState().lang;
  const intentRegion = f.values['intent.regions'] ?? '';
  return (
    <form id="new-offer" class="record-form" onSubmit={f.submit} noValidate aria-labelledby="new-offer-h">
      <h2 id="new-offer-h">{t('offers.new')}</h2>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      {f.done ? <ItemWarnings warnings={f.warnings} /> : null}
      <ItemDatalist />
      <div class="grid">
        <Field name="kind" options={enumOptions('offerKind', offerKind.options)} {...common} />
        <Field name="item.name" {...common} />
        <Field name="item.code" list="item-codes" hint={itemHint(f.values['item.code'])} {...common} />
        <Field name="quantity" type="number" inputMode="numeric" min={1} {...common} />
        <Field name="unit.name" {...common} />
        <Field name="unit.base" {...common} />
        <Field name="unit.size" type="number" inputMode="numeric" min={1} {...common} />
        <Field name="valueFen" type="number" inputMode="decimal" min={0} {...common} />
        <Field name="donor.name" {...common} />
        <Field name="donor.kind" options={enumOptions('donorKind', donorKind.options)} {...common} />
        {f.values['donor.kind'] === 'individual' ? (
          <label class="check consent">
            <input
              type="checkbox"
              name="donor.named"
              checked={f.values['donor.named'] === 'true'}
              onChange={(e) => f.set('donor.named', (e.currentTarget as HTMLInputElement).checked ? 'true' : '')}
            />{' '}
            {t('field.donor.named')}
          </label>
        ) : null}
        <RegionSelect
          id="f-region"
          label={t('field.region')}
          value={f.values.region ?? ''}
          onChange={(v) => f.set('region', v)}
          empty="—"
          issues={f.fieldIssues.region ?? []}
        />
        <Field name="campaign" optional {...common} />
      </div>
      <fieldset class="intent-fields">
        <legend>{t('offers.intent')}</legend>
        <RegionSelect
          id="f-intent-regions"
          label={`${t('field.intent.regions')} ${t('common.optional')}`}
          value={intentRegion.split(',')[0] ?? ''}
          onChange={(v) => f.set('intent.regions', v)}
          allowPrefecture
          empty={t('offers.intentNone')}
          issues={f.fieldIssues['intent.regions.0'] ?? f.fieldIssues['intent.regions'] ?? []}
        />
        {intentRegion ? <p class="muted small">{regionName(intentRegion, lang)}</p> : null}
        <Checks name="intent.groups" prefix="group" options={beneficiaryGroup.options} values={f.values} set={f.set} />
        <Checks name="intent.purposes" prefix="purpose" options={purpose.options} values={f.values} set={f.set} />
        <Field name="intent.validUntil" type="datetime-local" optional {...common} />
      </fieldset>
      {f.values.kind === 'volunteers' ? (
        <fieldset class="volunteer-fields">
          <legend>{t('offers.volunteers')}</legend>
          <Checks name="volunteers.skills" prefix="skill" options={volunteerSkill.options} values={f.values} set={f.set} />
          <Checks name="volunteers.availability.days" prefix="weekday" options={weekday.options} values={f.values} set={f.set} />
          <div class="grid">
            <Field name="volunteers.availability.hours.start" optional hint="08:00" {...common} />
            <Field name="volunteers.availability.hours.end" optional hint="18:00" {...common} />
            <Field name="volunteers.availability.until" type="datetime-local" optional {...common} />
          </div>
          <label class="check">
            <input
              type="checkbox"
              name="volunteers.availability.remote"
              checked={f.values['volunteers.availability.remote'] === 'true'}
              onChange={(e) => f.set('volunteers.availability.remote', (e.currentTarget as HTMLInputElement).checked ? 'true' : '')}
            />{' '}
            {t('field.volunteers.availability.remote')}
          </label>
        </fieldset>
      ) : null}
      <Field name="note" type="textarea" optional {...common} />
      <PrivateFieldset values={f.values} set={f.set} />
      <div class="form-actions">
        <Submit busy={f.busy} />
        <button type="button" onClick={onDone}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

import { beneficiaryGroup, needClosedBody, needPostedBody, needUpdatedBody, orgKind, purpose, urgency } from '@shuniu/protocol';
import type { NeedState } from '@shuniu/resolve';
import { useState } from 'preact/hooks';
import { BoardHead, Filters, ParamSelect, urlFilters } from '../components/board.js';
import { NeedCard } from '../components/cards.js';
import { ItemDatalist, ItemWarnings, itemAware, itemHint } from '../components/items.js';
import { PrivateFieldset, PrivatePanel, privateDefaults, withPrivate } from '../components/private.js';
import { RegionSelect } from '../components/region.js';
import { ErrorSummary, enumOptions, Field, Notice, Submit, useRecordForm, type Values } from '../components/ui.js';
import { publish } from '../lib/api.js';
import { fromLocalInput, shortId, toLocalInput } from '../lib/format.js';
import { inRegion } from '../lib/regions.js';
import type { Route } from '../lib/router.js';
import { getState, t, useApp } from '../lib/store.js';
import { numberOf, prune } from '../lib/validate.js';

const NEED_STATUSES = ['open', 'partly_allocated', 'allocated', 'partly_delivered', 'fulfilled', 'expired', 'cancelled'] as const;

function matches(n: NeedState, p: URLSearchParams): boolean {
  const item = (p.get('item') ?? '').trim().toLowerCase();
  if (!inRegion(n.region, p.get('region') ?? '')) return false;
  if (item && !n.item.code.toLowerCase().includes(item) && !n.item.name.toLowerCase().includes(item)) return false;
  if (p.get('urgency') && n.urgency !== p.get('urgency')) return false;
  if (p.get('group') && n.beneficiaries.group !== p.get('group')) return false;
  const status = p.get('status') ?? '';
  if (status === 'active') return !n.closed && !['fulfilled', 'expired', 'cancelled'].includes(n.status);
  if (status && n.status !== status) return false;
  return true;
}

const URGENCY_ORDER = { critical: 0, high: 1, normal: 2, low: 3 } as const;

export function NeedsPage({ route }: { route: Route }) {
  const s = useApp();
  const [creating, setCreating] = useState(false);
  const p = route.params;
  const setParam = urlFilters('/needs', p);
  const list = (s.needs ?? [])
    .filter((n) => matches(n, p))
    .sort((a, b) => URGENCY_ORDER[a.urgency] - URGENCY_ORDER[b.urgency] || a.neededBy.localeCompare(b.neededBy) || (a.id < b.id ? -1 : 1));
  const mine = (n: NeedState) => s.signedIn && s.node?.hub === n.hub;
  return (
    <>
      <BoardHead
        title={t('needs.title')}
        missing={s.missing.needs}
        signedIn={s.signedIn}
        newLabel={t('needs.new')}
        formId="new-need"
        creating={creating}
        setCreating={setCreating}
      />
      {creating ? <NewNeedForm onDone={() => setCreating(false)} /> : null}
      <Filters path="/needs" prefix="flt" params={p} set={setParam}>
        <ParamSelect
          id="flt-urgency"
          param="urgency"
          label={t('field.urgency')}
          options={enumOptions('urgency', urgency.options, t('common.all'))}
          params={p}
          set={setParam}
        />
        <ParamSelect
          id="flt-group"
          param="group"
          label={t('field.beneficiaries.group')}
          options={enumOptions('group', beneficiaryGroup.options, t('common.all'))}
          params={p}
          set={setParam}
        />
        <ParamSelect
          id="flt-status"
          param="status"
          label={t('field.status')}
          options={enumOptions('needStatus', NEED_STATUSES, t('common.all'))}
          params={p}
          set={setParam}
        />
      </Filters>
      <p class="muted" aria-live="polite">
        {s.needs ? t('common.count', { n: list.length }) : t('common.loading')}
      </p>
      <div class="cards">
        {list.map((n) => (
          <NeedCard n={n} key={n.id}>
            {s.signedIn ? <PrivatePanel id={n.id} /> : null}
            {mine(n) && !n.closed ? <NeedActions n={n} /> : null}
          </NeedCard>
        ))}
      </div>
    </>
  );
}

function NeedActions({ n }: { n: NeedState }) {
  const [open, setOpen] = useState<'update' | 'close' | undefined>();
  return (
    <div class="actions">
      <button type="button" aria-expanded={open === 'update'} onClick={() => setOpen(open === 'update' ? undefined : 'update')}>
        {t('needs.update')}
      </button>
      <button type="button" aria-expanded={open === 'close'} onClick={() => setOpen(open === 'close' ? undefined : 'close')}>
        {t('needs.close')}
      </button>
      {open === 'update' ? <UpdateNeedForm n={n} /> : null}
      {open === 'close' ? <CloseNeedForm n={n} /> : null}
    </div>
  );
}

function defaults(): Values {
  const region = getState().node?.profile?.region ?? '';
  return {
    'item.code': '',
    'item.name': '',
    quantity: '',
    'unit.name': '个',
    'unit.base': '个',
    'unit.size': '1',
    urgency: 'high',
    neededBy: toLocalInput(Date.now() + 3 * 86_400_000),
    region: /^\d{4}[1-9]\d$|^\d{4}\d[1-9]$/.test(region) ? region : '',
    'beneficiaries.group': 'medical_staff',
    'beneficiaries.count': '',
    'requester.name': '',
    'requester.kind': 'hospital',
    campaign: '',
    purpose: '',
    note: '',
    ...privateDefaults(),
  };
}

function buildNeed(v: Values) {
  return prune({
    item: { code: v['item.code']?.trim(), name: v['item.name']?.trim() },
    quantity: numberOf(v.quantity ?? ''),
    unit: { name: v['unit.name']?.trim(), base: v['unit.base']?.trim(), size: numberOf(v['unit.size'] ?? '') },
    urgency: v.urgency,
    neededBy: fromLocalInput(v.neededBy ?? ''),
    region: v.region,
    beneficiaries: { group: v['beneficiaries.group'], count: numberOf(v['beneficiaries.count'] ?? '') },
    requester: { name: v['requester.name']?.trim(), kind: v['requester.kind'] },
    campaign: v.campaign?.trim(),
    purpose: v.purpose,
    note: v.note?.trim(),
  });
}

function NewNeedForm({ onDone }: { onDone: () => void }) {
  const f = useRecordForm(needPostedBody, defaults(), buildNeed, (b, v) => publish('/v1/needs', withPrivate(b, v)));
  const common = itemAware(f);
  return (
    <form id="new-need" class="record-form" onSubmit={f.submit} noValidate aria-labelledby="new-need-h">
      <h2 id="new-need-h">{t('needs.new')}</h2>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      {f.done ? <ItemWarnings warnings={f.warnings} /> : null}
      <ItemDatalist />
      <div class="grid">
        <Field name="item.name" {...common} />
        <Field name="item.code" list="item-codes" hint={itemHint(f.values['item.code'])} {...common} />
        <Field name="quantity" type="number" inputMode="numeric" min={1} {...common} />
        <Field name="unit.name" {...common} />
        <Field name="unit.base" {...common} />
        <Field name="unit.size" type="number" inputMode="numeric" min={1} {...common} />
        <Field name="urgency" options={enumOptions('urgency', urgency.options)} {...common} />
        <Field name="neededBy" type="datetime-local" {...common} />
        <RegionSelect
          id="f-region"
          label={t('field.region')}
          value={f.values.region ?? ''}
          onChange={(v) => f.set('region', v)}
          empty="—"
          issues={f.fieldIssues.region ?? []}
        />
        <Field name="beneficiaries.group" options={enumOptions('group', beneficiaryGroup.options)} {...common} />
        <Field name="beneficiaries.count" type="number" inputMode="numeric" min={0} {...common} />
        <Field name="requester.name" {...common} />
        <Field name="requester.kind" options={enumOptions('orgKind', orgKind.options)} {...common} />
        <Field name="campaign" optional {...common} />
        <Field name="purpose" optional options={enumOptions('purpose', purpose.options, '—')} {...common} />
        <Field name="note" type="textarea" optional {...common} />
      </div>
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

function UpdateNeedForm({ n }: { n: NeedState }) {
  const f = useRecordForm(
    needUpdatedBody,
    { quantity: '', urgency: '', neededBy: '', note: '' },
    (v) => prune({ need: n.id, quantity: numberOf(v.quantity ?? ''), urgency: v.urgency, neededBy: fromLocalInput(v.neededBy ?? ''), note: v.note?.trim() }),
    (b) => {
      const { need: _need, ...rest } = b as Record<string, unknown>;
      return publish(`/v1/needs/${n.id}/update`, rest);
    },
  );
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  return (
    <form class="record-form inline" onSubmit={f.submit} noValidate aria-label={t('needs.updateTitle')}>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      <div class="grid">
        <Field name="quantity" type="number" inputMode="numeric" optional hint={`${n.unit.name}`} {...common} />
        <Field name="urgency" optional options={enumOptions('urgency', urgency.options, '—')} {...common} />
        <Field name="neededBy" type="datetime-local" optional {...common} />
        <Field name="note" type="textarea" optional {...common} />
      </div>
      <Submit busy={f.busy} />
    </form>
  );
}

function CloseNeedForm({ n }: { n: NeedState }) {
  const f = useRecordForm(
    needClosedBody,
    { reason: 'fulfilled', note: '' },
    (v) => prune({ need: n.id, reason: v.reason, note: v.note?.trim() }),
    (b) => {
      const { need: _need, ...rest } = b as Record<string, unknown>;
      return publish(`/v1/needs/${n.id}/close`, rest);
    },
  );
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  return (
    <form class="record-form inline" onSubmit={f.submit} noValidate aria-label={t('needs.closeTitle')}>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      <Field name="reason" label={t('needs.closeReason')} options={enumOptions('closeReason', ['fulfilled', 'expired', 'cancelled'])} {...common} />
      <Field name="note" type="textarea" optional {...common} />
      <Submit busy={f.busy} />
    </form>
  );
}

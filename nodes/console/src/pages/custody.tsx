import { custodyDeliveredBody, custodyHandoffBody, custodyReceiptBody, orgKind, rejectReason } from '@shuniu/protocol';
import type { AllocationState, NeedState, ShipmentState } from '@shuniu/resolve';
import { useState } from 'preact/hooks';
import { hubName } from '../components/cards.js';
import { Badge, ErrorSummary, enumOptions, Field, Notice, Submit, useRecordForm, type Values } from '../components/ui.js';
import { publish } from '../lib/api.js';
import { fromLocalInput, qty, shortId, toLocalInput, when } from '../lib/format.js';
import type { Route } from '../lib/router.js';
import { getState, t, useApp } from '../lib/store.js';
import { numberOf, prune } from '../lib/validate.js';

const CARRIERS = ['chartered_truck', 'third_party', 'hub_vehicle', 'volunteer', 'post', 'other'] as const;

/** Needs whose allocations a shipment carries goods for. */
function needsOf(sh: ShipmentState, allocs: Map<string, AllocationState>, needs: Map<string, NeedState>): NeedState[] {
  const out: NeedState[] = [];
  for (const a of sh.allocations) {
    const n = needs.get(allocs.get(a)?.need ?? '');
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}

export function CustodyPage({ route }: { route?: Route } = {}) {
  const s = useApp();
  // A delivery note's QR code opens this page with ?receive=<shipment id>: the receipt form for that shipment.
  const receive = route?.params.get('receive') ?? undefined;
  const [form, setForm] = useState<'handoff' | 'receipt' | 'delivery' | undefined>(receive ? 'receipt' : undefined);
  const allocs = new Map((s.allocations ?? []).map((a) => [a.id, a]));
  const needs = new Map((s.needs ?? []).map((n) => [n.id, n]));
  const shipments = [...(s.shipments ?? [])].sort((a, b) => (a.expectedArrival < b.expectedArrival ? 1 : -1));
  const toggle = (f: typeof form) => setForm(form === f ? undefined : f);
  return (
    <>
      <h1>{t('custody.title')}</h1>
      <p class="lead">{t('custody.intro')}</p>
      {s.missing.shipments ? <Notice kind="warn">{t('common.notAvailable', { what: s.missing.shipments })}</Notice> : null}
      {s.signedIn ? (
        <div class="actions">
          {(['handoff', 'receipt', 'delivery'] as const).map((f) => (
            <button type="button" key={f} class={form === f ? 'primary' : ''} aria-expanded={form === f} onClick={() => toggle(f)}>
              {t(`custody.${f}`)}
            </button>
          ))}
        </div>
      ) : (
        <p class="muted">
          <a href="#/signin">{t('nav.signin')}</a> · {t('common.needSignin')}
        </p>
      )}
      {form === 'handoff' ? <HandoffForm /> : null}
      {form === 'receipt' ? (
        // Mounted again once the scanned shipment is in the state, so that the form opens on it.
        <ReceiptForm key={receive ? String((s.shipments ?? []).some((x) => x.id === receive)) : 'receipt'} shipment={receive} />
      ) : null}
      {form === 'delivery' ? <DeliveryForm /> : null}
      {shipments.length === 0 ? <p class="muted">{s.shipments ? t('custody.none') : t('common.loading')}</p> : null}
      <ol class="shipments">
        {shipments.map((sh) => (
          <ShipmentItem key={sh.id} sh={sh} carried={needsOf(sh, allocs, needs)} />
        ))}
      </ol>
    </>
  );
}

function ShipmentItem({ sh, carried }: { sh: ShipmentState; carried: NeedState[] }) {
  const { lang } = getState();
  const discrepancy = sh.status === 'received_with_discrepancy';
  const overdue = sh.status === 'overdue';
  const received = sh.receipt !== undefined;
  const delivered = carried.length > 0 && carried.every((n) => n.deliveries.length > 0);
  const steps: [string, boolean, string?][] = [
    ['handoff', true, sh.shipment],
    ['transit', true, t('custody.expected', { at: when(sh.expectedArrival, lang) })],
    ['received', received, sh.received ? t('custody.receivedAt', { at: when(sh.received, lang) }) : undefined],
    ['delivered', delivered],
  ];
  const current = delivered ? 3 : received ? 2 : 1;
  return (
    <li class={`card shipment${discrepancy ? ' flag-discrepancy' : ''}${overdue ? ' flag-overdue' : ''}${sh.late ? ' flag-late' : ''}`} data-shipment={sh.id}>
      <header>
        <h3>
          {hubName(sh.from)} → {hubName(sh.to)} <span class="muted small">#{sh.shipment}</span>
        </h3>
        <a class="small" href={`#/delivery-note?shipment=${encodeURIComponent(sh.id)}`} data-note={sh.id}>
          {t('note.link')}
        </a>
        <div class="badges">
          <Badge kind={`ship-${sh.status}`}>{t(`shipStatus.${sh.status}`)}</Badge>
          {discrepancy ? <Badge kind="danger">⚠ {t('custody.discrepancy')}</Badge> : null}
          {overdue ? <Badge kind="danger">⏰ {t('custody.overdue')}</Badge> : null}
          {sh.late ? <Badge kind="warn">⌛ {t('custody.late')}</Badge> : null}
        </div>
      </header>
      <ol class="timeline" aria-label={t('custody.title')}>
        {steps.map(([k, done, detail], i) => (
          <li key={k} class={`${done ? 'done' : ''}${i === current ? ' current' : ''}`} aria-current={i === current ? 'step' : undefined}>
            <span class="dot" aria-hidden="true">
              {done ? '✓' : ''}
            </span>
            <span class="step-label">{t(`custody.step.${k}`)}</span>
            {detail ? <span class="muted small"> {detail}</span> : null}
          </li>
        ))}
      </ol>
      <ul class="lines">
        {sh.lines.map((l, i) => (
          <li key={`${l.item.code}-${i}`}>
            {l.item.name} · {t('custody.shipped', { n: qty(l.shipped, l.unit, lang) })}
            {l.accepted !== undefined ? ` · ${t('custody.accepted')} ${qty(l.accepted, l.unit, lang)}` : ''}
            {l.rejected
              ? ` · ${t('custody.rejected')} ${qty(l.rejected, l.unit, lang)}${l.rejectReason ? ` (${t(`rejectReason.${l.rejectReason}`)})` : ''}`
              : ''}
            {l.missing ? ` · ${t('custody.missing')} ${qty(l.missing, l.unit, lang)}` : ''}
          </li>
        ))}
      </ul>
    </li>
  );
}

/** Whole units of a line when the base quantity divides, else base units with a unit of size 1. */
function lineOf(n: NeedState, base: number) {
  if (n.unit.size > 1 && base % n.unit.size === 0) return { item: n.item, quantity: base / n.unit.size, unit: n.unit };
  return { item: n.item, quantity: base, unit: { name: n.unit.base, base: n.unit.base, size: 1 } };
}

function HandoffForm() {
  const s = getState();
  const self = s.node?.hub ?? '';
  const needs = new Map((s.needs ?? []).map((n) => [n.id, n]));
  const shipped = new Set((s.shipments ?? []).flatMap((sh) => sh.allocations));
  const candidates = (s.allocations ?? []).filter((a) => (a.status === 'proposed' || a.status === 'accepted') && !shipped.has(a.id));
  const [chosen, setChosen] = useState<string[]>(candidates[0] ? [candidates[0].id] : []);
  const firstNeed = needs.get(candidates.find((a) => a.id === chosen[0])?.need ?? '');
  const f = useRecordForm(
    custodyHandoffBody,
    {
      to: firstNeed?.hub ?? '',
      shipment: `SH-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${Math.random().toString(36).slice(2, 6).toUpperCase()}`,
      expectedArrival: toLocalInput(Date.now() + 86_400_000),
      'carrier.name': '',
      'carrier.kind': 'chartered_truck',
      waybill: '',
      note: '',
    },
    (v: Values) =>
      prune({
        shipment: v.shipment?.trim(),
        from: self,
        to: v.to,
        lines: chosen.flatMap((id) => {
          const a = candidates.find((x) => x.id === id);
          const n = needs.get(a?.need ?? '');
          return a && n ? [lineOf(n, a.quantity)] : [];
        }),
        carrier: v['carrier.name']?.trim() ? { name: v['carrier.name'].trim(), kind: v['carrier.kind'] } : undefined,
        waybill: v.waybill?.trim(),
        expectedArrival: fromLocalInput(v.expectedArrival ?? ''),
        allocations: chosen,
        note: v.note?.trim(),
      }),
    (b) => publish('/v1/handoffs', b),
  );
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  const hubs = (s.hubs ?? []).filter((h) => h.id !== self);
  return (
    <form class="record-form" onSubmit={f.submit} noValidate aria-labelledby="handoff-h" id="handoff-form">
      <h2 id="handoff-h">{t('custody.handoff')}</h2>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      <fieldset class="checks">
        <legend>{t('field.allocations')}</legend>
        {candidates.length === 0 ? <p class="muted">{t('common.none')}</p> : null}
        {candidates.map((a) => {
          const n = needs.get(a.need);
          return (
            <label key={a.id}>
              <input
                type="checkbox"
                name="allocation"
                value={a.id}
                checked={chosen.includes(a.id)}
                onChange={(e) => {
                  const on = (e.currentTarget as HTMLInputElement).checked;
                  setChosen(on ? [...chosen, a.id] : chosen.filter((x) => x !== a.id));
                  if (on && n && !f.values.to) f.set('to', n.hub);
                }}
              />{' '}
              {n ? `${n.item.name} · ${qty(a.quantity, n.unit, s.lang)} → ${n.requester.name}` : shortId(a.id)}
            </label>
          );
        })}
      </fieldset>
      <div class="grid">
        <Field name="to" options={[['', '—'], ...hubs.map((h): [string, string] => [h.id, hubName(h.id)])]} {...common} />
        <Field name="shipment" {...common} />
        <Field name="expectedArrival" type="datetime-local" {...common} />
        <Field name="carrier.kind" options={enumOptions('carrierKind', CARRIERS)} {...common} />
        <Field name="carrier.name" optional {...common} />
        <Field name="waybill" optional {...common} />
        <Field name="note" type="textarea" optional {...common} />
      </div>
      <Submit busy={f.busy} />
    </form>
  );
}

function ReceiptForm({ shipment }: { shipment?: string | undefined } = {}) {
  const s = getState();
  const self = s.node?.hub ?? '';
  const open = (s.shipments ?? []).filter((sh) => sh.to === self && sh.receipt === undefined);
  const [which, setWhich] = useState(open.find((x) => x.id === shipment)?.id ?? open[0]?.id ?? '');
  const scanned = shipment ? (s.shipments ?? []).find((x) => x.id === shipment) : undefined;
  const sh = open.find((x) => x.id === which);
  const initial = (x: ShipmentState | undefined): Values => {
    const v: Values = { received: toLocalInput(Date.now()), note: '' };
    x?.lines.forEach((l, i) => {
      v[`lines.${i}.accepted`] = String(l.shipped / l.unit.size);
      v[`lines.${i}.rejected`] = '0';
      v[`lines.${i}.missing`] = '0';
      v[`lines.${i}.rejectReason`] = '';
    });
    return v;
  };
  const f = useRecordForm(
    custodyReceiptBody,
    initial(sh),
    (v) =>
      prune({
        handoff: sh?.handoff,
        lines: (sh?.lines ?? []).map((_, i) => ({
          line: i,
          accepted: numberOf(v[`lines.${i}.accepted`] ?? ''),
          rejected: numberOf(v[`lines.${i}.rejected`] ?? ''),
          rejectReason: v[`lines.${i}.rejectReason`],
          missing: numberOf(v[`lines.${i}.missing`] ?? ''),
        })),
        received: fromLocalInput(v.received ?? ''),
        note: v.note?.trim(),
      }),
    (b) => publish('/v1/receipts', b),
  );
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  return (
    <form class="record-form" onSubmit={f.submit} noValidate aria-labelledby="receipt-h" id="receipt-form">
      <h2 id="receipt-h">{t('custody.receipt')}</h2>
      {shipment && !open.some((x) => x.id === shipment) ? (
        <Notice kind="warn">{scanned?.receipt ? t('note.alreadyReceived', { shipment: scanned.shipment }) : t('note.notHere')}</Notice>
      ) : null}
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      <div class="field">
        <label for="f-handoff">{t('field.handoff')}</label>
        <select
          id="f-handoff"
          value={which}
          onChange={(e) => {
            const id = (e.currentTarget as HTMLSelectElement).value;
            setWhich(id);
            f.setValues(initial(open.find((x) => x.id === id)));
          }}
        >
          {open.length === 0 ? <option value="">{t('common.none')}</option> : null}
          {open.map((x) => (
            <option value={x.id} key={x.id}>
              #{x.shipment} · {hubName(x.from)} · {t('custody.expected', { at: when(x.expectedArrival, s.lang) })}
            </option>
          ))}
        </select>
      </div>
      {sh?.lines.map((l, i) => (
        <fieldset key={`${l.item.code}-${i}`} class="grid line">
          <legend>
            {l.item.name} · {t('custody.shipped', { n: qty(l.shipped, l.unit, s.lang) })} ({l.unit.name})
          </legend>
          <Field name={`lines.${i}.accepted`} label={t('field.accepted')} type="number" inputMode="numeric" min={0} {...common} />
          <Field name={`lines.${i}.rejected`} label={t('field.rejected')} type="number" inputMode="numeric" min={0} {...common} />
          <Field
            name={`lines.${i}.rejectReason`}
            label={t('field.rejectReason')}
            optional
            options={enumOptions('rejectReason', rejectReason.options, '—')}
            {...common}
          />
          <Field name={`lines.${i}.missing`} label={t('field.missing')} type="number" inputMode="numeric" min={0} {...common} />
        </fieldset>
      ))}
      <div class="grid">
        <Field name="received" type="datetime-local" {...common} />
        <Field name="note" type="textarea" optional {...common} />
      </div>
      <Submit busy={f.busy} />
    </form>
  );
}

function DeliveryForm() {
  const s = getState();
  const self = s.node?.hub ?? '';
  const allocs = new Map((s.allocations ?? []).map((a) => [a.id, a]));
  const mine = (s.needs ?? []).filter((n) => n.hub === self && n.received > n.delivered && !n.closed);
  const [which, setWhich] = useState(mine[0]?.id ?? '');
  const n = mine.find((x) => x.id === which);
  const handoffs = (s.shipments ?? [])
    .filter((sh) => sh.to === self && sh.receipt !== undefined && sh.allocations.some((a) => allocs.get(a)?.need === which))
    .map((sh) => sh.handoff);
  const initial = (x: NeedState | undefined): Values => {
    const line = x ? lineOf(x, x.received - x.delivered) : undefined;
    return {
      quantity: line ? String(line.quantity) : '',
      'recipient.name': x?.requester.name ?? '',
      'recipient.kind': x?.requester.kind ?? 'hospital',
      // People not served before: the need's head count on its first delivery, none on later ones (reports count people once per group: spec/resolution.md §10).
      peopleServed: x ? String(x.deliveries.length === 0 ? x.beneficiaries.count : 0) : '',
      delivered: toLocalInput(Date.now()),
      note: '',
    };
  };
  const f = useRecordForm(
    custodyDeliveredBody,
    initial(n),
    (v) => {
      const line = n ? lineOf(n, n.received - n.delivered) : undefined;
      return prune({
        need: n?.id,
        handoffs,
        lines: line ? [{ ...line, quantity: numberOf(v.quantity ?? '') }] : [],
        recipient: { name: v['recipient.name']?.trim(), kind: v['recipient.kind'], region: n?.region },
        peopleServed: numberOf(v.peopleServed ?? ''),
        delivered: fromLocalInput(v.delivered ?? ''),
        note: v.note?.trim(),
      });
    },
    (b) => publish('/v1/deliveries', b),
  );
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  return (
    <form class="record-form" onSubmit={f.submit} noValidate aria-labelledby="delivery-h" id="delivery-form">
      <h2 id="delivery-h">{t('custody.delivery')}</h2>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      <div class="field">
        <label for="f-need">{t('field.need')}</label>
        <select
          id="f-need"
          value={which}
          onChange={(e) => {
            const id = (e.currentTarget as HTMLSelectElement).value;
            setWhich(id);
            f.setValues(initial(mine.find((x) => x.id === id)));
          }}
        >
          {mine.length === 0 ? <option value="">{t('common.none')}</option> : null}
          {mine.map((x) => (
            <option value={x.id} key={x.id}>
              {x.item.name} · {x.requester.name} · {qty(x.received - x.delivered, x.unit, s.lang)}
            </option>
          ))}
        </select>
      </div>
      <div class="grid">
        <Field
          name="quantity"
          label={`${t('field.quantity')}${n ? `（${lineOf(n, n.received - n.delivered).unit.name}）` : ''}`}
          type="number"
          inputMode="numeric"
          min={1}
          {...common}
        />
        <Field name="recipient.name" {...common} />
        <Field name="recipient.kind" options={enumOptions('orgKind', orgKind.options)} {...common} />
        <Field name="peopleServed" type="number" inputMode="numeric" min={0} hint={t('custody.peopleServed.hint')} {...common} />
        <Field name="delivered" type="datetime-local" {...common} />
        <Field name="note" type="textarea" optional {...common} />
      </div>
      <Submit busy={f.busy} />
    </form>
  );
}

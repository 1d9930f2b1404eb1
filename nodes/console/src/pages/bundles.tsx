import { bundleFundedBody, bundlePostedBody } from '@shuniu/protocol';
import type { BundleState } from '@shuniu/resolve';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { BoardHead } from '../components/board.js';
import { hubName, NeedCard } from '../components/cards.js';
import { RegionSelect } from '../components/region.js';
import { Badge, ErrorSummary, Field, Notice, Submit, useRecordForm } from '../components/ui.js';
import { publish } from '../lib/api.js';
import { num, shortId, yuan } from '../lib/format.js';
import { regionName } from '../lib/regions.js';
import { href, type Route } from '../lib/router.js';
import { getState, t, useApp } from '../lib/store.js';

const STAGES = ['open', 'allocated', 'inTransit', 'delivered', 'closed'] as const;

/**
 * Bundles (spec/resolution.md §7.2): many small needs funded as a whole, as
 * Wuhan NPI passed community groups' needs to foundations. The list shows
 * each bundle's progress as the resolver derives it from its needs (needs by
 * stage, quantities covered over requested); a bundle's page lists its needs
 * and, for a signed-in operator (a foundation's node), a "fund this bundle"
 * form that signs a bundle.funded record.
 */
export function BundlesPage({ route }: { route: Route }) {
  const s = useApp();
  const [creating, setCreating] = useState(false);
  const id = route.params.get('id') ?? '';
  const list = [...(s.bundles ?? [])].sort((a, b) => a.title.localeCompare(b.title) || (a.id < b.id ? -1 : 1));
  const one = id ? list.find((b) => b.id === id) : undefined;
  if (id) {
    return (
      <>
        <p>
          <a href="#/bundles">{t('bundles.back')}</a>
        </p>
        {one ? <BundleDetail b={one} /> : <p class="muted">{s.bundles ? t('bundles.notFound') : t('common.loading')}</p>}
      </>
    );
  }
  return (
    <>
      <BoardHead
        title={t('bundles.title')}
        missing={s.missing.bundles}
        signedIn={s.signedIn}
        newLabel={t('bundles.new')}
        formId="new-bundle"
        creating={creating}
        setCreating={setCreating}
      />
      <p class="lead">{t('bundles.intro')}</p>
      {creating ? <NewBundleForm onDone={() => setCreating(false)} /> : null}
      <p class="muted" aria-live="polite">
        {s.bundles ? t('common.count', { n: list.length }) : t('common.loading')}
      </p>
      <div class="cards">
        {list.map((b) => (
          <BundleCard b={b} key={b.id}>
            <a class="button-link" href={href('/bundles', { id: b.id })}>
              {t('common.details')}
            </a>
          </BundleCard>
        ))}
      </div>
    </>
  );
}

/** A bundle at a glance: funding, needs by stage, and per item what is delivered of what was requested. */
function BundleCard({ b, children }: { b: BundleState; children?: ComponentChildren }) {
  const { lang } = getState();
  const p = b.progress;
  return (
    <article class="card bundle" data-bundle={b.id} aria-labelledby={`bundle-${b.id}`}>
      <header>
        <h3 id={`bundle-${b.id}`}>{b.title}</h3>
        <div class="badges">
          <Badge kind={`bundle-${b.status}`}>
            <span data-testid="bundle-status">{t(`bundleStatus.${b.status}`)}</span>
          </Badge>
        </div>
      </header>
      {b.description ? <p>{b.description}</p> : null}
      <dl class="facts">
        <dt>{t('field.region')}</dt>
        <dd>{regionName(b.region, lang)}</dd>
        <dt>{t('reports.hub')}</dt>
        <dd>{hubName(b.hub)}</dd>
        <dt>{t('bundles.funded')}</dt>
        <dd data-testid="bundle-funded">
          {b.targetFen !== undefined ? t('bundles.fundedOf', { funded: yuan(b.fundedFen, lang), target: yuan(b.targetFen, lang) }) : yuan(b.fundedFen, lang)}
        </dd>
        {b.funding.length ? (
          <>
            <dt>{t('bundles.funders')}</dt>
            <dd>{b.funding.map((f) => `${hubName(f.hub)} ${yuan(f.amountFen, lang)}`).join('，')}</dd>
          </>
        ) : null}
        <dt>{t('bundles.needs')}</dt>
        <dd data-testid="bundle-stages">
          {t('bundles.needCount', { n: p.needs })}
          {STAGES.filter((k) => p[k] > 0).map((k) => ` · ${t(`bundleStage.${k}`)} ${p[k]}`)}
          {p.missing > 0 ? ` · ${t('bundles.missing')} ${p.missing}` : ''}
        </dd>
      </dl>
      {p.items.map((it) => {
        const pct = (v: number) => `${it.requested ? Math.min(100, Math.round((v / it.requested) * 100)) : 0}%`;
        return (
          <div key={it.code} class="bundle-item">
            <div class="progress" aria-hidden="true">
              <span class="p-alloc" style={{ width: pct(it.allocated) }} />
              <span class="p-deliv" style={{ width: pct(it.delivered) }} />
            </div>
            <p class="muted small" data-testid="bundle-item">
              {t('bundles.item', {
                code: it.code,
                delivered: num(it.delivered, lang),
                allocated: num(it.allocated, lang),
                inTransit: num(it.inTransit, lang),
                requested: num(it.requested, lang),
                base: it.base,
              })}
            </p>
          </div>
        );
      })}
      {children}
    </article>
  );
}

function BundleDetail({ b }: { b: BundleState }) {
  const s = useApp();
  const needs = (s.needs ?? []).filter((n) => b.needs.includes(n.id));
  return (
    <>
      <h1>{b.title}</h1>
      <BundleCard b={b} />
      {s.signedIn && !b.closed ? <FundForm b={b} /> : null}
      <h2>{t('bundles.needs')}</h2>
      <div class="cards">
        {needs.map((n) => (
          <NeedCard n={n} key={n.id} />
        ))}
      </div>
      {b.progress.missing > 0 ? <p class="muted">{t('bundles.missingHint', { n: b.progress.missing })}</p> : null}
    </>
  );
}

/** "Fund this bundle": the operator's node pledges an amount in yuan for the whole bundle (bundle.funded, in fen). */
function FundForm({ b }: { b: BundleState }) {
  const f = useRecordForm(
    bundleFundedBody,
    { amountFen: b.targetFen !== undefined ? String(Math.max(0, b.targetFen - b.fundedFen) / 100) : '', note: '' },
    (v) => {
      const amount = Number((v.amountFen ?? '').trim());
      const note = v.note?.trim();
      return {
        bundle: b.id,
        amountFen: (v.amountFen ?? '').trim() === '' || !Number.isFinite(amount) ? -1 : Math.round(amount * 100),
        ...(note ? { note } : {}),
      };
    },
    (body) => {
      const { bundle: _bundle, ...rest } = body as Record<string, unknown>;
      return publish(`/v1/bundles/${b.id}/fund`, rest);
    },
  );
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  return (
    <form class="record-form" onSubmit={f.submit} noValidate aria-labelledby="fund-h">
      <h2 id="fund-h">{t('bundles.fund')}</h2>
      <p class="muted">{t('bundles.fundHint')}</p>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      <div class="grid">
        <Field name="amountFen" label={t('bundles.amount')} type="number" inputMode="decimal" min={0} {...common} />
        <Field name="note" type="textarea" optional {...common} />
      </div>
      <Submit busy={f.busy} label={t('bundles.fundSubmit')} />
    </form>
  );
}

/** yuan as typed → fen, or −1 (refused by the schema) when it is not a number. */
function fenOf(v: string | undefined): number | undefined {
  const x = (v ?? '').trim();
  if (x === '') return undefined;
  const n = Number(x);
  return Number.isFinite(n) ? Math.round(n * 100) : -1;
}

/** A new bundle: a title, the area, optional description and target, and the open needs it groups (any hub's). */
function NewBundleForm({ onDone }: { onDone: () => void }) {
  const s = useApp();
  const open = (s.needs ?? []).filter((n) => !n.closed && !['fulfilled', 'expired', 'cancelled'].includes(n.status));
  const f = useRecordForm(
    bundlePostedBody,
    { title: '', region: '', description: '', targetFen: '', needs: '' },
    (v) => {
      const target = fenOf(v.targetFen);
      const description = v.description?.trim();
      return {
        title: v.title?.trim(),
        region: v.region,
        needs: (v.needs ?? '').split(',').filter(Boolean),
        ...(description ? { description } : {}),
        ...(target !== undefined ? { targetFen: target } : {}),
      };
    },
    (body) => publish('/v1/bundles', body),
  );
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  const chosen = new Set((f.values.needs ?? '').split(',').filter(Boolean));
  const toggle = (id: string) => {
    if (chosen.has(id)) chosen.delete(id);
    else chosen.add(id);
    f.set('needs', [...chosen].join(','));
  };
  return (
    <form id="new-bundle" class="record-form" onSubmit={f.submit} noValidate aria-labelledby="new-bundle-h">
      <h2 id="new-bundle-h">{t('bundles.new')}</h2>
      <ErrorSummary issues={f.issues} error={f.error} />
      {f.done ? <Notice kind="ok">{t('common.published', { id: shortId(f.done) })}</Notice> : null}
      <div class="grid">
        <Field name="title" label={t('bundles.titleField')} {...common} />
        <RegionSelect
          id="f-region"
          label={t('field.region')}
          value={f.values.region ?? ''}
          onChange={(v) => f.set('region', v)}
          empty="—"
          issues={f.fieldIssues.region ?? []}
        />
        <Field name="targetFen" label={t('bundles.target')} type="number" inputMode="decimal" min={0} optional {...common} />
        <Field name="description" label={t('bundles.description')} type="textarea" optional {...common} />
      </div>
      <fieldset class="bundle-needs" aria-describedby={f.fieldIssues.needs?.length ? 'f-needs-err' : undefined}>
        <legend>{t('bundles.pick', { n: chosen.size })}</legend>
        {f.fieldIssues.needs?.length ? (
          <p class="error" id="f-needs-err">
            {t('bundles.pickOne')}
          </p>
        ) : null}
        {open.length === 0 ? <p class="muted">{t('common.none')}</p> : null}
        {open.map((n) => (
          <label key={n.id} class="check">
            <input type="checkbox" checked={chosen.has(n.id)} onChange={() => toggle(n.id)} /> {n.requester.name} · {n.item.name} ·{' '}
            {regionName(n.region, s.lang)}
          </label>
        ))}
      </fieldset>
      <div class="form-actions">
        <Submit busy={f.busy} />
        <button type="button" onClick={onDone}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

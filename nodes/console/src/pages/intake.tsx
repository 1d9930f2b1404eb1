import { beneficiaryGroup, item, needPostedBody, orgKind, urgency } from '@shuniu/protocol';
import { useEffect, useState } from 'preact/hooks';
import { ItemDatalist, itemHint } from '../components/items.js';
import { RegionSelect } from '../components/region.js';
import { Badge, ErrorSummary, enumOptions, Field, Notice, Submit, useRecordForm, type Values } from '../components/ui.js';
import { ApiError, api, type Issue } from '../lib/api.js';
import { fromLocalInput, num, shortId, toLocalInput, when } from '../lib/format.js';
import { regionName } from '../lib/regions.js';
import type { Route } from '../lib/router.js';
import { getState, t, useApp } from '../lib/store.js';
import { numberOf, prune } from '../lib/validate.js';

/**
 * Intake from groups that run no node (spec/node.md §8.7): the public form
 * (no sign-in), the operator's verification queue, and the tracking page a
 * submitter opens with the token. The contact goes to the node's queue only;
 * the tracking page and every public page never show it.
 */

/** The submitted need: a need.posted body whose item code may be left for the operator (the node's own rule). */
const intakeNeed = needPostedBody.omit({ campaign: true, ext: true }).extend({ item: item.partial({ code: true }) });

/** Form fields are named as the need's members, and the contact as the private fields of the need forms. */
const toField = (i: Issue): Issue => {
  const [head, ...rest] = i.path;
  if (head === 'need') return { ...i, path: rest };
  if (head === 'contact' || head === 'address' || head === 'note') return { ...i, path: ['private', ...i.path] };
  return i;
};

/** The submission checked as the node will: the need by the protocol's schema, the contact required. */
const submissionSchema = {
  safeParse(v: unknown) {
    const s = v as { need?: unknown; contact?: { name?: string; phone?: string } };
    const r = intakeNeed.safeParse(s.need);
    const issues = r.success ? [] : r.error.issues.map((i) => ({ code: i.code, path: ['need', ...i.path], message: i.message }));
    for (const k of ['name', 'phone'] as const)
      if (!s.contact?.[k]) issues.push({ code: 'too_small', path: ['contact', k], message: 'Too small: expected string to have >=1 characters' });
    return issues.length ? { success: false, error: { issues: issues.map((i) => toField(i as Issue)) } } : { success: true };
  },
};

function intakeDefaults(): Values {
  const region = getState().node?.profile?.region ?? '';
  return {
    'item.name': '',
    'item.code': '',
    quantity: '',
    'unit.name': '个',
    urgency: 'high',
    neededBy: toLocalInput(Date.now() + 3 * 86_400_000),
    region: /^\d{4}[1-9]\d$|^\d{4}\d[1-9]$/.test(region) ? region : '',
    'beneficiaries.group': 'medical_staff',
    'beneficiaries.count': '',
    'requester.name': '',
    'requester.kind': 'hospital',
    note: '',
    'private.contact.name': '',
    'private.contact.phone': '',
    'private.address': '',
    'private.note': '',
  };
}

function buildSubmission(v: Values) {
  const s = (k: string) => v[k]?.trim() ?? '';
  const unit = s('unit.name');
  return prune({
    need: {
      item: { name: s('item.name'), code: s('item.code') },
      quantity: numberOf(v.quantity ?? ''),
      unit: { name: unit, base: unit, size: 1 },
      urgency: v.urgency,
      neededBy: fromLocalInput(v.neededBy ?? ''),
      region: v.region,
      beneficiaries: { group: v['beneficiaries.group'], count: numberOf(v['beneficiaries.count'] ?? '') },
      requester: { name: s('requester.name'), kind: v['requester.kind'] },
      note: s('note'),
    },
    contact: { name: s('private.contact.name'), phone: s('private.contact.phone') },
    address: s('private.address'),
    note: s('private.note'),
  });
}

/** The public form: no sign-in; the answer is the tracking link. */
export function IntakePage() {
  useApp();
  const [track, setTrack] = useState<string>();
  const f = useRecordForm(submissionSchema, intakeDefaults(), buildSubmission, async (body) => {
    try {
      const r = await api<{ token: string; track: string }>('/v1/intake', { method: 'POST', body, auth: false });
      setTrack(`${location.origin}${location.pathname}#/track?t=${r.token}`);
      return { id: r.token };
    } catch (e) {
      if (e instanceof ApiError && e.issues.length) throw new ApiError(e.status, e.code, e.message, e.issues.map(toField));
      throw e;
    }
  });
  const common = { values: f.values, set: f.set, issues: f.fieldIssues };
  if (track)
    return (
      <>
        <h1>{t('intake.title')}</h1>
        <Notice kind="ok">
          <p>{t('intake.done')}</p>
          <p>
            <a href={track} class="track-link">
              {track}
            </a>
          </p>
        </Notice>
        <button
          type="button"
          onClick={() => {
            setTrack(undefined);
            f.setValues(() => intakeDefaults());
          }}
        >
          {t('intake.another')}
        </button>
      </>
    );
  return (
    <>
      <h1>{t('intake.title')}</h1>
      <p class="lead">{t('intake.intro')}</p>
      <form id="intake" class="record-form" onSubmit={f.submit} noValidate aria-labelledby="intake-need-h">
        <ErrorSummary issues={f.issues} error={f.error} />
        <ItemDatalist />
        <h2 id="intake-need-h">{t('intake.needTitle')}</h2>
        <div class="grid">
          <Field name="item.name" {...common} />
          <Field name="item.code" optional list="item-codes" hint={itemHint(f.values['item.code'])} {...common} />
          <Field name="quantity" type="number" inputMode="numeric" min={1} {...common} />
          <Field name="unit.name" {...common} />
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
          <Field name="note" type="textarea" optional {...common} />
        </div>
        <fieldset>
          <legend>{t('intake.contactTitle')}</legend>
          <p class="hint">{t('intake.contactHint')}</p>
          <div class="grid">
            <Field name="private.contact.name" {...common} />
            <Field name="private.contact.phone" {...common} />
            <Field name="private.address" optional {...common} />
            <Field name="private.note" type="textarea" optional {...common} />
          </div>
        </fieldset>
        <div class="form-actions">
          <Submit busy={f.busy} label={t('intake.submit')} />
        </div>
      </form>
    </>
  );
}

/** The tracking view the node serves (GET /v1/intake/track/{token}). */
interface Track {
  state: 'pending' | 'verified' | 'published' | 'rejected';
  stage: string;
  submittedMs: number;
  verifiedMs: number | null;
  decidedMs: number | null;
  reason: string | null;
  record: string | null;
  item: { name: string; code?: string };
  quantity: number;
  unit: { name: string; base: string; size: number };
  region: string;
  progress: { status: string; quantity: number; allocated: number; inTransit: number; received: number; delivered: number } | null;
}

const STAGES = ['submitted', 'verified', 'open', 'allocated', 'in_transit', 'delivered'] as const;

/** The submitter's page: progress only, never the contact. */
export function TrackPage({ route }: { route: Route }) {
  const s = useApp();
  const token = route.params.get('t') ?? '';
  const [view, setView] = useState<Track>();
  const [error, setError] = useState<string>();
  // Read again on every feed event: an allocation or a delivery moves the stage.
  useEffect(() => {
    let live = true;
    api<Track>(`/v1/intake/track/${encodeURIComponent(token)}`, { auth: false })
      .then((v) => {
        if (!live) return;
        setView(v);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (live) setError(e instanceof ApiError && e.status === 404 ? t('track.missing') : String((e as Error).message));
      });
    return () => {
      live = false;
    };
  }, [token, s.feedVersion]);
  if (error) return <Notice kind="warn">{error}</Notice>;
  if (!view) return <p class="muted">{t('common.loading')}</p>;
  const reached = view.stage === 'closed' ? 2 : STAGES.indexOf(view.stage as (typeof STAGES)[number]);
  return (
    <>
      <h1>{t('track.title')}</h1>
      <p class="lead">{t('track.intro')}</p>
      <dl class="track-facts">
        <dt>{t('field.item.name')}</dt>
        <dd>{view.item.name}</dd>
        <dt>{t('field.quantity')}</dt>
        <dd>
          {num(view.quantity, s.lang)} {view.unit.name}
        </dd>
        <dt>{t('field.region')}</dt>
        <dd>{regionName(view.region, s.lang)}</dd>
        <dt>{t('track.submitted')}</dt>
        <dd>{when(view.submittedMs, s.lang)}</dd>
      </dl>
      {view.stage === 'rejected' ? (
        <Notice kind="warn">
          {t('stage.rejected')}
          {view.reason ? ` · ${t('track.reason', { reason: view.reason })}` : ''}
        </Notice>
      ) : (
        <ol class="stages" aria-label={t('track.stages')}>
          {STAGES.map((st, i) => (
            <li key={st} class={i <= reached ? 'done' : 'todo'} aria-current={st === view.stage ? 'step' : undefined} data-stage={st}>
              {t(`stage.${st}`)}
            </li>
          ))}
        </ol>
      )}
      {view.stage === 'closed' ? <p>{t('stage.closed')}</p> : null}
      {view.progress ? (
        <p class="track-progress">
          {t('track.figures', {
            quantity: num(view.progress.quantity, s.lang),
            allocated: num(view.progress.allocated, s.lang),
            inTransit: num(view.progress.inTransit, s.lang),
            received: num(view.progress.received, s.lang),
            delivered: num(view.progress.delivered, s.lang),
            unit: view.unit.base,
          })}
        </p>
      ) : null}
    </>
  );
}

/** One submission as the operator sees it (GET /v1/intake). */
interface Submission {
  id: string;
  state: 'pending' | 'verified' | 'published' | 'rejected';
  need: {
    item: { name: string; code?: string };
    quantity: number;
    unit: { name: string };
    urgency: string;
    neededBy: string;
    region: string;
    beneficiaries: { group: string; count: number };
    requester: { name: string; kind: string };
    note?: string;
  };
  private: { contact: { name: string; phone: string }; address?: string; note?: string } | null;
  submittedMs: number;
  record: string | null;
}

/** The operator's verification queue: call back, then publish (signed, contact sealed) or reject. */
export function IntakeQueuePage() {
  const s = useApp();
  const [list, setList] = useState<Submission[]>();
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!s.signedIn) return;
    api<{ intake: Submission[] }>('/v1/intake?state=pending,verified')
      .then((r) => {
        setList(r.intake);
        setError(undefined);
      })
      .catch((e: unknown) => setError((e as Error).message));
  }, [s.signedIn, version]);
  if (!s.signedIn) return <Notice kind="warn">{t('queue.signin')}</Notice>;
  return (
    <>
      <h1>{t('queue.title')}</h1>
      <p class="lead">{t('queue.intro')}</p>
      {error ? <Notice kind="warn">{error}</Notice> : null}
      <ItemDatalist />
      <p class="muted" aria-live="polite">
        {list ? t('common.count', { n: list.length }) : t('common.loading')}
      </p>
      <div class="cards">
        {(list ?? []).map((x) => (
          <QueueCard x={x} key={x.id} done={() => setVersion((v) => v + 1)} />
        ))}
      </div>
    </>
  );
}

function QueueCard({ x, done }: { x: Submission; done: () => void }) {
  const s = useApp();
  const [code, setCode] = useState(x.need.item.code ?? '');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<string>();
  const act = async (what: 'verify' | 'publish' | 'reject') => {
    setBusy(true);
    setError(undefined);
    try {
      const body =
        what === 'publish'
          ? { need: { item: { name: x.need.item.name, code: code.trim() } } }
          : what === 'reject' && reason.trim()
            ? { reason: reason.trim() }
            : {};
      const r = await api<{ id?: string }>(`/v1/intake/${x.id}/${what}`, { method: 'POST', body });
      setResult(what === 'publish' ? t('queue.published', { id: shortId(r.id) }) : what === 'reject' ? t('queue.rejected') : t('intakeState.verified'));
      if (what !== 'verify') setTimeout(done, 1500);
      else done();
    } catch (e) {
      setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };
  const id = `q-${x.id}`;
  return (
    <article class="card intake" data-intake={x.id} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        {x.need.requester.name} · {x.need.item.name} <Badge kind={x.state}>{t(`intakeState.${x.state}`)}</Badge>
      </h3>
      <p>
        {num(x.need.quantity, s.lang)} {x.need.unit.name} · {t(`urgency.${x.need.urgency}`)} · {regionName(x.need.region, s.lang)} · {t('field.neededBy')}{' '}
        {when(x.need.neededBy, s.lang)}
      </p>
      <p class="muted">{t('queue.submitted', { time: when(x.submittedMs, s.lang) })}</p>
      {x.need.note ? <p>{x.need.note}</p> : null}
      {x.private ? (
        <dl class="private-fields">
          <dt>{t('field.private.contact.name')}</dt>
          <dd>{x.private.contact.name}</dd>
          <dt>{t('field.private.contact.phone')}</dt>
          <dd>
            <a href={`tel:${x.private.contact.phone}`}>{x.private.contact.phone}</a>
          </dd>
          {x.private.address ? (
            <>
              <dt>{t('field.private.address')}</dt>
              <dd>{x.private.address}</dd>
            </>
          ) : null}
          {x.private.note ? (
            <>
              <dt>{t('field.private.note')}</dt>
              <dd>{x.private.note}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {error ? <Notice kind="warn">{error}</Notice> : null}
      {result ? <Notice kind="ok">{result}</Notice> : null}
      <div class="field">
        <label for={`${id}-code`}>{t('field.item.code')}</label>
        <div class="hint" id={`${id}-code-hint`}>
          {itemHint(code)}
        </div>
        <input id={`${id}-code`} list="item-codes" value={code} aria-describedby={`${id}-code-hint`} onInput={(e) => setCode(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={`${id}-reason`}>
          {t('queue.rejectReason')}
          <span class="muted"> {t('common.optional')}</span>
        </label>
        <input id={`${id}-reason`} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </div>
      <div class="actions">
        {x.state === 'pending' ? (
          <button type="button" disabled={busy} onClick={() => act('verify')}>
            {t('queue.verify')}
          </button>
        ) : null}
        <button type="button" class="primary" disabled={busy} onClick={() => act('publish')}>
          {t('queue.publish')}
        </button>
        <button type="button" disabled={busy} onClick={() => act('reject')}>
          {t('queue.reject')}
        </button>
      </div>
    </article>
  );
}

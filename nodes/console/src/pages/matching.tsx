import { propose } from '@shuniu/match';
import { allocationBody } from '@shuniu/protocol';
import type { AllocationState, Conflict, NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { useEffect, useState } from 'preact/hooks';
import { hubName } from '../components/cards.js';
import { ErrorSummary, Notice } from '../components/ui.js';
import { ApiError, api, type Issue, publish } from '../lib/api.js';
import { qty, shortId, when } from '../lib/format.js';
import { regionName } from '../lib/regions.js';
import { getState, t, useApp } from '../lib/store.js';
import { check } from '../lib/validate.js';

/**
 * A proposal as GET /v1/match/proposals returns it: the `Proposal` of
 * @shuniu/match (packages/match/src/types.ts), of which the console reads
 * these members. `quantity` is in the need's base units.
 */
export interface Proposal {
  offer: string;
  need: string;
  quantity: number;
  unit: string;
  urgency?: string;
  arrival?: string;
  onTime?: boolean;
  coverage?: { before: number; after: number };
  reasons: { code: string; message: string }[];
}

/**
 * The engine run in the browser on the state this node resolved: the same
 * @shuniu/match the node runs, for a node that does not serve
 * /v1/match/proposals. The state clock (the latest hlc of any record) is
 * taken from the objects the console holds.
 */
export function proposeHere(needs: NeedState[], offers: OfferState[], allocations: AllocationState[], conflicts: Conflict[]): Proposal[] {
  const byId = <T extends { id: string }>(xs: T[]) => Object.fromEntries(xs.map((x) => [x.id, x]));
  const clock = Math.max(0, ...[...needs, ...offers, ...allocations].map((x) => x.hlc.ms));
  const state = {
    v: 1,
    clock,
    hubs: {},
    needs: byId(needs),
    offers: byId(offers),
    allocations: byId(allocations),
    shipments: {},
    conflicts: byId(conflicts),
    held: {},
    pending: {},
  };
  return propose(state as ResolvedState);
}

export function MatchingPage() {
  const s = useApp();
  const [served, setServed] = useState<Proposal[]>();
  const [error, setError] = useState<string>();
  const [local, setLocal] = useState(false);
  const [reload, setReload] = useState(0);
  // Kept at page level: once accepted, the proposal itself leaves the list
  // (the need is covered), and its card with it.
  const [accepted, setAccepted] = useState<string>();
  useEffect(() => {
    let live = true;
    api<{ proposals: Proposal[] }>('/v1/match/proposals')
      .then((r) => {
        if (live) {
          setServed(r.proposals ?? []);
          setError(undefined);
          setLocal(false);
        }
      })
      .catch((e) => {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404) setLocal(true);
        else setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
      });
    return () => {
      live = false;
    };
  }, [s.feedVersion, s.token, reload]);
  let proposals = served;
  let engineError: string | undefined;
  if (local && s.needs && s.offers) {
    try {
      proposals = proposeHere(s.needs, s.offers, s.allocations ?? [], s.conflicts ?? []);
    } catch (e) {
      proposals = [];
      engineError = String(e);
    }
  }
  const needs = new Map((s.needs ?? []).map((n) => [n.id, n]));
  const offers = new Map((s.offers ?? []).map((o) => [o.id, o]));
  return (
    <>
      <h1>{t('match.title')}</h1>
      <p class="lead">{t('match.intro')}</p>
      {!s.signedIn ? <Notice kind="warn">{t('common.needSignin')}</Notice> : null}
      {error ? <Notice kind="warn">{t('common.notAvailable', { what: error })}</Notice> : null}
      {local ? <p class="muted small">{t('match.local')}</p> : null}
      {engineError ? <Notice kind="warn">{engineError}</Notice> : null}
      {proposals === undefined && !error ? <p>{t('common.loading')}</p> : null}
      {accepted ? <Notice kind="ok">{t('match.accepted', { id: shortId(accepted) })}</Notice> : null}
      {proposals?.length === 0 ? <p class="muted">{t('match.none')}</p> : null}
      <div class="cards">
        {(proposals ?? []).map((p) => (
          <ProposalCard
            key={`${p.offer}/${p.need}`}
            p={p}
            need={needs.get(p.need)}
            offer={offers.get(p.offer)}
            onDone={(id) => {
              setAccepted(id);
              setReload((n) => n + 1);
            }}
          />
        ))}
      </div>
      <ManualAllocation needs={s.needs ?? []} offers={s.offers ?? []} />
      <Allocations list={s.allocations ?? []} needs={needs} offers={offers} />
    </>
  );
}

function ProposalCard({ p, need, offer, onDone }: { p: Proposal; need: NeedState | undefined; offer: OfferState | undefined; onDone: (id: string) => void }) {
  const { lang, signedIn } = getState();
  const [q, setQ] = useState(String(p.quantity));
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string>();
  const id = `prop-${p.offer.slice(0, 8)}-${p.need.slice(0, 8)}`;
  const accept = async (e: Event) => {
    e.preventDefault();
    const body = { offer: p.offer, need: p.need, quantity: Number(q) };
    const local = check(allocationBody, body);
    setIssues(local);
    setError(undefined);
    if (local.length) return;
    setBusy(true);
    try {
      const r = await publish('/v1/allocations', body);
      setDone(r.id);
      onDone(r.id);
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) setIssues(err.issues);
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article class="card proposal" data-proposal={`${p.offer}/${p.need}`} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        {offer?.item.name ?? shortId(p.offer)} → {need ? `${need.requester.name}（${regionName(need.region, lang)}）` : shortId(p.need)}
      </h3>
      <p class="muted small">
        {offer ? `${offer.donor.name} · ${hubName(offer.hub)}` : ''}
        {need ? ` → ${t(`urgency.${need.urgency}`)} · ${t(`group.${need.beneficiaries.group}`)} · ${t('field.neededBy')} ${when(need.neededBy, lang)}` : ''}
      </p>
      {p.arrival ? (
        <p class={p.onTime === false ? 'warn-text' : 'muted small'}>
          {t('match.arrival', { at: when(p.arrival, lang) })}
          {p.onTime === false ? ` · ${t('match.late')}` : ''}
        </p>
      ) : null}
      {p.coverage ? (
        <p class="muted small">{t('match.coverage', { before: Math.round(p.coverage.before * 100), after: Math.round(p.coverage.after * 100) })}</p>
      ) : null}
      <h4>{t('match.reasons')}</h4>
      <ul class="reasons">
        {p.reasons.map((r) => (
          <li key={r.code + r.message}>
            <strong>{t(`reason.${r.code}`)}</strong>
            <span class="muted"> — {r.message}</span>
          </li>
        ))}
      </ul>
      {done ? (
        <Notice kind="ok">{t('match.accepted', { id: shortId(done) })}</Notice>
      ) : signedIn ? (
        <form onSubmit={accept} noValidate class="accept-form">
          <ErrorSummary issues={issues} error={error} />
          <div class="field">
            <label for={`${id}-q`}>{t('match.quantity', { unit: p.unit })}</label>
            <input id={`${id}-q`} type="number" inputMode="numeric" min={1} value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
            {need ? <div class="hint">{qty(Number(q) || 0, need.unit, lang)}</div> : null}
          </div>
          <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
            {busy ? t('common.submitting') : t('match.accept')}
          </button>
        </form>
      ) : null}
    </article>
  );
}

/** An allocation chosen by hand, for when the engine proposes nothing the operator wants (or is not served). */
function ManualAllocation({ needs, offers }: { needs: NeedState[]; offers: OfferState[] }) {
  const { signedIn, lang } = getState();
  const [need, setNeed] = useState('');
  const [offer, setOffer] = useState('');
  const [q, setQ] = useState('');
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  if (!signedIn) return null;
  const openNeeds = needs.filter((n) => !n.closed && !['fulfilled', 'expired', 'cancelled'].includes(n.status));
  const openOffers = offers.filter((o) => o.status === 'available' && o.available > 0);
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { offer, need, quantity: q === '' ? undefined : Number(q) };
    const local = check(allocationBody, body);
    setIssues(local);
    setError(undefined);
    if (local.length) return;
    try {
      setDone((await publish('/v1/allocations', body)).id);
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) setIssues(err.issues);
      else setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <details class="manual">
      <summary>{lang === 'zh' ? '手动分配' : 'Allocate by hand'}</summary>
      <form onSubmit={submit} noValidate class="record-form">
        <ErrorSummary issues={issues} error={error} />
        {done ? <Notice kind="ok">{t('match.accepted', { id: shortId(done) })}</Notice> : null}
        <div class="field">
          <label for="f-offer">{t('field.offer')}</label>
          <select id="f-offer" value={offer} onChange={(e) => setOffer((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">—</option>
            {openOffers.map((o) => (
              <option value={o.id} key={o.id}>
                {o.item.name} · {qty(o.available, o.unit, lang)} · {o.donor.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-need">{t('field.need')}</label>
          <select id="f-need" value={need} onChange={(e) => setNeed((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">—</option>
            {openNeeds.map((n) => (
              <option value={n.id} key={n.id}>
                {n.item.name} · {qty(n.quantity, n.unit, lang)} · {n.requester.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-quantity">{t('field.quantity')}</label>
          <input id="f-quantity" type="number" inputMode="numeric" min={1} value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <button type="submit" class="primary">
          {t('common.submit')}
        </button>
      </form>
    </details>
  );
}

function Allocations({ list, needs, offers }: { list: AllocationState[]; needs: Map<string, NeedState>; offers: Map<string, OfferState> }) {
  const { lang, signedIn, node } = getState();
  if (!list.length) return null;
  const decide = async (a: AllocationState, verb: 'accept' | 'decline') => {
    await publish(`/v1/allocations/${a.id}/${verb}`, {});
  };
  return (
    <section aria-labelledby="allocs-h">
      <h2 id="allocs-h">{t('match.allocations')}</h2>
      <div class="table-wrap">
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">{t('field.offer')}</th>
              <th scope="col">{t('field.need')}</th>
              <th scope="col">{t('field.quantity')}</th>
              <th scope="col">{t('field.status')}</th>
              <th scope="col">
                <span class="sr-only">{t('common.details')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => {
              const n = needs.get(a.need);
              const o = offers.get(a.offer);
              return (
                <tr key={a.id} data-allocation={a.id}>
                  <td data-label={t('field.offer')}>{o ? `${o.item.name} · ${o.donor.name}` : shortId(a.offer)}</td>
                  <td data-label={t('field.need')}>{n ? `${n.requester.name}（${regionName(n.region, lang)}）` : shortId(a.need)}</td>
                  <td data-label={t('field.quantity')}>{qty(a.quantity, n?.unit, lang)}</td>
                  <td data-label={t('field.status')}>{t(`allocStatus.${a.status}`)}</td>
                  <td>
                    {signedIn && a.status === 'proposed' && n && n.hub === node?.hub ? (
                      <span class="row-actions">
                        <button type="button" onClick={() => void decide(a, 'accept')}>
                          {t('match.acceptAllocation')}
                        </button>
                        <button type="button" onClick={() => void decide(a, 'decline')}>
                          {t('match.declineAllocation')}
                        </button>
                      </span>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

import { type MatchFilters, propose } from '@shuniu/match';
import { allocationBody, unitLabel } from '@shuniu/protocol';
import type { AllocationState, Conflict, NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { useEffect, useState } from 'preact/hooks';
import { hubName } from '../components/cards.js';
import { ErrorSummary, Notice } from '../components/ui.js';
import { ApiError, api, type Issue, publish } from '../lib/api.js';
import { qty, shortId, when } from '../lib/format.js';
import { reasonText, type WireReason } from '../lib/reasons.js';
import { enclosingRegions, regionName, regionPrefix } from '../lib/regions.js';
import { getState, type NodeInfo, t, useApp } from '../lib/store.js';
import { check } from '../lib/validate.js';

/**
 * A proposal as GET /v1/match/proposals returns it: the `Proposal` of
 * @shuniu/match (packages/match/src/types.ts), of which the console reads
 * these members. `quantity` is in the need's base units.
 */
export interface Proposal {
  offer: string;
  need: string;
  /** The hub that must sign the allocation: the offer's author (spec/matching.md §1). */
  signer?: string;
  requester?: string;
  donor?: string;
  itemName?: string;
  quantity: number;
  unit: string;
  urgency?: string;
  region?: string;
  arrival?: string;
  onTime?: boolean;
  coverage?: { before: number; after: number };
  reasons: WireReason[];
}

/** A page of GET /v1/match/proposals (spec/node.md §6.1). */
interface ProposalPage {
  proposals: Proposal[];
  total?: number;
  /** The hubs that sign the page's proposals, by id. */
  signers?: Record<string, { name?: { zh: string; en?: string } }>;
}

/**
 * The engine run in the browser on the state this node resolved: the same
 * @shuniu/match the node runs, for a node that does not serve
 * /v1/match/proposals. The state clock (the latest hlc of any record) is
 * taken from the objects the console holds.
 */
export function proposeHere(
  needs: NeedState[],
  offers: OfferState[],
  allocations: AllocationState[],
  conflicts: Conflict[],
  filters: MatchFilters = {},
): Proposal[] {
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
  return propose(state as ResolvedState, { filters });
}

/** The region filter an operator starts with: its own hub's area, or everything for a national hub or one without a region. */
function defaultRegion(node: NodeInfo | undefined): string {
  const r = node?.profile?.region;
  if (!r || node?.profile?.level === 'national') return '';
  return regionPrefix(r);
}

export function MatchingPage() {
  const s = useApp();
  const [served, setServed] = useState<ProposalPage>();
  // undefined until the operator picks one: then the hub's own region (spec/node.md §6.1).
  const [picked, setPicked] = useState<string>();
  const region = picked ?? defaultRegion(s.node);
  const [error, setError] = useState<string>();
  const [local, setLocal] = useState(false);
  const [reload, setReload] = useState(0);
  // Kept at page level: once accepted, the proposal itself leaves the list
  // (the need is covered), and its card with it.
  const [accepted, setAccepted] = useState<string>();
  useEffect(() => {
    let live = true;
    api<ProposalPage>(`/v1/match/proposals${region ? `?region=${encodeURIComponent(region)}` : ''}`)
      .then((r) => {
        if (live) {
          setServed({ ...r, proposals: r.proposals ?? [] });
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
  }, [s.feedVersion, s.token, reload, region]);
  let proposals = served?.proposals;
  let engineError: string | undefined;
  if (local && s.needs && s.offers) {
    try {
      proposals = proposeHere(s.needs, s.offers, s.allocations ?? [], s.conflicts ?? [], region ? { region } : {});
    } catch (e) {
      proposals = [];
      engineError = String(e);
    }
  }
  const needs = new Map((s.needs ?? []).map((n) => [n.id, n]));
  const offers = new Map((s.offers ?? []).map((o) => [o.id, o]));
  const own = s.node?.hub;
  const signerOf = (p: Proposal) => p.signer ?? offers.get(p.offer)?.hub;
  const signerName = (id: string | undefined) => {
    const n = id ? served?.signers?.[id]?.name : undefined;
    return n ? (s.lang === 'en' && n.en ? n.en : n.zh) : hubName(id);
  };
  const ownRegion = s.node?.profile?.region;
  const choices = ownRegion ? enclosingRegions(ownRegion) : [];
  const mine = (proposals ?? []).filter((p) => own !== undefined && signerOf(p) === own).length;
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
      <div class="filters">
        <div class="field">
          <label for="f-match-region">{t('match.region')}</label>
          <select id="f-match-region" value={region} onChange={(e) => setPicked((e.currentTarget as HTMLSelectElement).value)}>
            {choices.map((c, i) => (
              <option value={c} key={c}>
                {i === 0 ? t('match.regionOwn', { name: regionName(c, s.lang) }) : regionName(c, s.lang)}
              </option>
            ))}
            {region && !choices.includes(region) ? <option value={region}>{regionName(region, s.lang)}</option> : null}
            <option value="">{t('match.regionAll')}</option>
          </select>
        </div>
      </div>
      {proposals?.length ? (
        <p class="muted small" data-counts>
          {t('match.counts', { total: served?.total ?? proposals.length, own: mine })}
        </p>
      ) : null}
      {proposals?.length === 0 ? <p class="muted">{t('match.none')}</p> : null}
      <div class="cards">
        {(proposals ?? []).map((p) => (
          <ProposalCard
            key={`${p.offer}/${p.need}`}
            p={p}
            need={needs.get(p.need)}
            offer={offers.get(p.offer)}
            mine={own !== undefined && signerOf(p) === own}
            signer={signerName(signerOf(p))}
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

function ProposalCard({
  p,
  need,
  offer,
  mine,
  signer,
  onDone,
}: {
  p: Proposal;
  need: NeedState | undefined;
  offer: OfferState | undefined;
  /** This node's hub is the offer's author, so it may sign the allocation. */
  mine: boolean;
  /** The signing hub's name. */
  signer: string;
  onDone: (id: string) => void;
}) {
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
        {p.itemName ?? offer?.item.name ?? shortId(p.offer)} → {p.requester ?? need?.requester.name ?? shortId(p.need)}
        {p.region || need ? `（${regionName(p.region ?? need?.region, lang)}）` : ''}
      </h3>
      <p class="muted small">
        {p.donor ?? offer?.donor.name ?? ''} · {t('match.signer', { hub: signer })}
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
          <li key={r.code} data-reason={r.code}>
            <strong>{t(`reason.${r.code}`)}</strong>
            <span class="muted"> — {reasonText(r, lang)}</span>
          </li>
        ))}
      </ul>
      {done ? (
        <Notice kind="ok">{t('match.accepted', { id: shortId(done) })}</Notice>
      ) : !mine ? (
        <div class="waiting" data-waiting>
          <p>
            <strong>{t('match.waiting', { hub: signer })}</strong>
          </p>
          <p class="muted small">{t('match.waitingHint')}</p>
        </div>
      ) : signedIn ? (
        <form onSubmit={accept} noValidate class="accept-form">
          <ErrorSummary issues={issues} error={error} />
          <div class="field">
            <label for={`${id}-q`}>{t('match.quantity', { unit: unitLabel(p.unit, lang) })}</label>
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
  const { signedIn, lang, node } = getState();
  const [need, setNeed] = useState('');
  const [offer, setOffer] = useState('');
  const [q, setQ] = useState('');
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  if (!signedIn) return null;
  const openNeeds = needs.filter((n) => !n.closed && !['fulfilled', 'expired', 'cancelled'].includes(n.status));
  // Only the offer's author may allocate it (spec/node.md §8.4): this hub's own offers.
  const openOffers = offers.filter((o) => o.status === 'available' && o.available > 0 && o.hub === node?.hub);
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

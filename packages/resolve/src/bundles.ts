/**
 * Bundles (spec/resolution.md §7.2): many small needs grouped by a hub into
 * one project a foundation funds as a whole, as Wuhan NPI passed the needs of
 * community chat groups to foundations. A bundle is a view over its needs:
 * its progress is derived from the needs' views, never stored by its author.
 *
 * Only the bundle's author changes it (`bundle.updated`, applied in seq
 * order; anyone else's is an `unauthorised` conflict, §2); any counting hub
 * may pledge (`bundle.funded`), and a funder's pledge with the highest seq is
 * its pledge in force. Bundles keep their own index beside the graph
 * (bundle-index.ts), which snapshots do not carry.
 */
import type { RecordOf } from '@shuniu/protocol';
import { NONE, sat, sorted } from './collections.js';
import { replaceConflicts, unauthorised } from './conflicts.js';
import { counts, type Obj, recOf, type State } from './graph.js';
import type { BundleProgress, BundleState, Conflict, NeedState } from './types.js';
import { needView } from './views.js';

/** A need's view (views.ts), then the bundles listing it are marked (scheduler.ts runs this for NEED_VIEW). */
export function needViewAndBundles(s: State, o: Obj): void {
  needView(s, o);
  const bs = s.bundleIdx.byNeed.get(o.id);
  if (bs !== undefined) for (const b of bs) s.bundleIdx.dirty.add(b);
}

/** Derives every marked bundle (scheduler.ts, after the need views). */
export function flushBundles(s: State): void {
  const idx = s.bundleIdx;
  if (idx.dirty.size === 0) return;
  const ids = [...idx.dirty];
  idx.dirty.clear();
  for (const id of ids) bundleView(s, id);
}

/** Which stage of a bundle's progress a need is at (spec/resolution.md §7.2). */
function stageOf(n: NeedState): 'open' | 'allocated' | 'inTransit' | 'delivered' | 'closed' {
  if (n.status === 'fulfilled') return 'delivered';
  if (n.status === 'cancelled' || n.status === 'expired') return 'closed';
  if (n.delivered > 0 || n.inTransit > 0 || n.received > 0) return 'inTransit';
  if (n.allocated > 0) return 'allocated';
  return 'open';
}

/** The progress of a set of needs, from their views alone. */
export function progressOf(s: State, needs: string[]): BundleProgress {
  const p: BundleProgress = { needs: needs.length, missing: 0, open: 0, allocated: 0, inTransit: 0, delivered: 0, closed: 0, items: [] };
  const items = new Map<string, BundleProgress['items'][number]>();
  for (const id of needs) {
    const n = s.needs.get(id);
    if (n === undefined) {
      p.missing++;
      continue;
    }
    p[stageOf(n)]++;
    if (n.status === 'cancelled') continue;
    let it = items.get(n.item.code);
    if (it === undefined) {
      // needs are sorted: the base unit is that of the first need of the code by id.
      it = { code: n.item.code, base: n.unit.base, requested: 0, allocated: 0, inTransit: 0, delivered: 0 };
      items.set(n.item.code, it);
    }
    it.requested = sat(it.requested + n.quantity);
    it.allocated = sat(it.allocated + Math.min(n.allocated, n.quantity));
    it.inTransit = sat(it.inTransit + n.inTransit);
    it.delivered = sat(it.delivered + Math.min(n.delivered, n.quantity));
  }
  p.items = [...items.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return p;
}

/** Sets the needs a bundle lists in the index (need → bundles). */
function setListed(s: State, id: string, needs: string[] | undefined): void {
  const idx = s.bundleIdx;
  for (const n of idx.needsOf.get(id) ?? NONE) {
    const set = idx.byNeed.get(n);
    if (set === undefined) continue;
    set.delete(id);
    if (set.size === 0) idx.byNeed.delete(n);
  }
  if (needs === undefined) {
    idx.needsOf.delete(id);
    return;
  }
  idx.needsOf.set(id, needs);
  for (const n of needs) {
    const set = idx.byNeed.get(n);
    if (set) set.add(id);
    else idx.byNeed.set(n, new Set([id]));
  }
}

function setOwn(s: State, id: string, list: Conflict[]): void {
  const old = s.bundleIdx.own.get(id);
  if (!old && list.length === 0) return;
  const ids = replaceConflicts(s, old, list);
  if (ids === undefined) s.bundleIdx.own.delete(id);
  else s.bundleIdx.own.set(id, ids);
}

/** One bundle's view: its needs, title and target after its author's updates, its pledges in force and its progress. */
function bundleView(s: State, id: string): void {
  const o = s.nodes.get(id);
  if (o === undefined || o.rec?.type !== 'bundle.posted' || !counts(o)) {
    s.bundles.delete(id);
    setListed(s, id, undefined);
    setOwn(s, id, []);
    return;
  }
  const r = o.rec as RecordOf<'bundle.posted'>;
  const own: Conflict[] = [];
  const updates: Obj[] = [];
  const pledges = new Map<string, Obj>();
  for (const x of s.bundleIdx.refs.get(id) ?? NONE) {
    if (!counts(x)) continue;
    const xr = recOf(x);
    if (xr.type === 'bundle.updated') {
      if (xr.hub !== r.hub) own.push(unauthorised(xr, x.id, id, r.hub));
      else updates.push(x);
    } else if (xr.type === 'bundle.funded') {
      const prev = pledges.get(xr.hub);
      if (prev === undefined || recOf(prev).seq < xr.seq) pledges.set(xr.hub, x);
    }
  }
  // One author, one chain: seq order is total.
  updates.sort((a, b) => recOf(a).seq - recOf(b).seq);
  const listed = new Set(r.body.needs);
  let title = r.body.title;
  let description = r.body.description;
  let targetFen = r.body.targetFen;
  let closed: BundleState['closed'];
  for (const x of updates) {
    const b = (recOf(x) as RecordOf<'bundle.updated'>).body;
    for (const n of b.add ?? NONE) listed.add(n);
    for (const n of b.remove ?? NONE) listed.delete(n);
    if (b.title !== undefined) title = b.title;
    if (b.description !== undefined) description = b.description;
    if (b.targetFen !== undefined) targetFen = b.targetFen;
    if (b.close !== undefined) closed = { reason: b.close, record: x.id };
  }
  const needs = sorted([...listed]);
  setListed(s, id, needs);
  const funding: BundleState['funding'] = [];
  let fundedFen = 0;
  for (const hub of sorted([...pledges.keys()])) {
    const x = pledges.get(hub) as Obj;
    const amountFen = (recOf(x) as RecordOf<'bundle.funded'>).body.amountFen;
    if (amountFen === 0) continue;
    funding.push({ amountFen, hub, record: x.id });
    fundedFen = sat(fundedFen + amountFen);
  }
  const status: BundleState['status'] = closed
    ? closed.reason
    : fundedFen === 0
      ? 'open'
      : targetFen !== undefined && fundedFen < targetFen
        ? 'partly_funded'
        : 'funded';
  const v: BundleState = {
    id,
    hub: r.hub,
    hlc: r.hlc,
    title,
    region: r.body.region,
    needs,
    status,
    updates: updates.map((x) => x.id),
    funding,
    fundedFen,
    progress: progressOf(s, needs),
  };
  if (description !== undefined) v.description = description;
  if (targetFen !== undefined) v.targetFen = targetFen;
  if (r.body.campaign !== undefined) v.campaign = r.body.campaign;
  if (closed) v.closed = closed;
  s.bundles.set(id, v);
  setOwn(s, id, own);
}

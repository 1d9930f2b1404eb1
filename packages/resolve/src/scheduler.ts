/**
 * The scheduler of re-derivation (spec/resolution.md §9, Cost): applying a
 * record only marks what it touches; `flush` derives the marked objects on
 * the next read, stage by stage in a fixed order where a stage only queues
 * later ones (bases of needs, offers and allocations, the two capacity passes
 * of §4, shipments and deliveries of §6, the views of §7, the group checks of
 * §5 and §6, pending). Hub chains and admission (§1) are settled first,
 * together, and objects whose status flips when the record clock passes a
 * date come back from the deadline queue once per object and date.
 */
import { refreshAdmission } from './admission.js';
import { allocBase, allocView, needStage, offerStage } from './allocations.js';
import { needBase, offerBase } from './authority.js';
import { flushBundles, needViewAndBundles } from './bundles.js';
import { pickRecovery, refreshChain } from './chains.js';
import { delivery, shipment } from './custody.js';
import { dbrCheck, dhCheck, lotCheck } from './custody-checks.js';
import { dupGroup } from './duplicates.js';
import {
  ALLOC_BASE,
  ALLOC_VIEW,
  DELIV,
  DOUBLE_HANDOFF,
  type HubData,
  mark,
  markChain,
  NEED_BASE,
  NEED_STAGE,
  NEED_VIEW,
  type Obj,
  OFFER_BASE,
  OFFER_STAGE,
  OFFER_VIEW,
  PENDING,
  SHIP,
  type State,
  TIMED,
} from './graph.js';
import { isStub } from './stubs.js';
import { hubView, offerView, pendingView } from './views.js';

/** Derives everything marked since the last flush; afterwards every view, conflict and pending entry of the state is current. */
export function flush(s: State): void {
  for (let top = s.deadlines.peek(); top && top[0] < s.clock; top = s.deadlines.peek()) {
    s.deadlines.pop();
    const [ms, stage, id] = top;
    const o = s.nodes.get(id);
    // An entry superseded by a later schedule of the same object is stale; so is one of an object that left memory (it left without one: objects.ts).
    if (o === undefined || isStub(s, o) || o.sched !== ms) continue;
    o.sched = undefined;
    mark(s, o, TIMED[stage]);
  }
  const chains = s.chainQueue;
  for (let i = 0; i < chains.length; i++) {
    const h = chains[i] as HubData;
    h.dirtyChain = false;
    refreshChain(s, h);
  }
  chains.length = 0;
  if (s.admissionDirty) refreshAdmission(s);
  // Which recovery wins depends on the vouching hubs' chains and admission
  // (hubs above the recovering one): settle hub chains and admission together.
  for (let round = 0; s.contested.size > 0 && round <= s.hubData.size; round++) {
    for (const id of s.contested) {
      const h = s.hubData.get(id);
      if (h === undefined || h.recoveries.length === 0 || pickRecovery(s, h) === h.win) continue;
      h.full = true;
      markChain(s, h);
    }
    if (chains.length === 0) break;
    for (let i = 0; i < chains.length; i++) {
      const h = chains[i] as HubData;
      h.dirtyChain = false;
      refreshChain(s, h);
    }
    chains.length = 0;
    if (s.admissionDirty) refreshAdmission(s);
  }
  const views = s.viewQueue;
  for (const h of views) {
    if (h.toHold.length === 0) continue;
    if (!h.admitted) for (const x of h.toHold) s.held.set(x.id, h.id);
    h.toHold = [];
  }
  for (let i = 0; i < views.length; i++) {
    const h = views[i] as HubData;
    h.dirtyView = false;
    hubView(s, h);
  }
  views.length = 0;

  // Stage by stage (a stage only queues later ones), each a direct loop.
  run(s, NEED_BASE, needBase);
  run(s, OFFER_BASE, offerBase);
  run(s, ALLOC_BASE, allocBase);
  run(s, OFFER_STAGE, offerStage);
  run(s, NEED_STAGE, needStage);
  run(s, SHIP, shipment);
  run(s, DELIV, delivery);
  run(s, NEED_VIEW, needViewAndBundles);
  run(s, OFFER_VIEW, offerView);
  run(s, ALLOC_VIEW, allocView);
  for (const k of s.dirtyGroups.dup) dupGroup(s, k);
  run(s, DOUBLE_HANDOFF, dhCheck);
  for (const k of s.dirtyGroups.lot) lotCheck(s, k);
  for (const k of s.dirtyGroups.dbr) dbrCheck(s, k);
  for (const g of Object.values(s.dirtyGroups)) g.clear();
  flushBundles(s);
  run(s, PENDING, pendingView);
}

/** Derives every object queued for `stage`, in queue order. */
function run(s: State, stage: number, f: (s: State, o: Obj) => void): void {
  const q = s.queue[stage] as Obj[];
  const clear = ~(1 << stage);
  for (let i = 0; i < q.length; i++) {
    const o = q[i] as Obj;
    o.mask &= clear;
    f(s, o);
  }
  q.length = 0;
}

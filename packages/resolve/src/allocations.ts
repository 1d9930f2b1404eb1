/**
 * Allocations: over-allocation and over-fulfilment (spec/resolution.md §4).
 * An allocation exists when it counts, its offer and need exist and the
 * offer's author made it; its decision is the need author's accepted/declined
 * with the highest seq; it is void on an item mismatch or (unless accepted)
 * a withdrawn offer or closed need. Two first-fit passes in resolution order
 * (accepted first, then hlc, then id): the offer's capacity, then each
 * need's; what does not fit is surplus, with one conflict per offer or need.
 */
import { compareHlc } from '@shuniu/protocol';
import { sat, sorted } from './collections.js';
import { conflict, setConflicts, unauthorised } from './conflicts.js';
import {
  ALLOC_VIEW,
  type AllocInfo,
  counts,
  mark,
  NEED_STAGE,
  NEED_VIEW,
  type Obj,
  OFFER_STAGE,
  OFFER_VIEW,
  PENDING,
  recOf,
  SHIP,
  type State,
} from './graph.js';
import { factsOf } from './stubs.js';
import type { AllocationState, Conflict } from './types.js';

const allocHlcId = (a: AllocInfo, b: AllocInfo): number => compareHlc(a.hlc, b.hlc) || (a.o.id < b.o.id ? -1 : a.o.id > b.o.id ? 1 : 0);
/** Resolution order of competing allocations: accepted first, then hlc, then record id (spec/resolution.md §4). */
export const allocOrder = (a: AllocInfo, b: AllocInfo): number => (a.decided === 'accepted' ? 0 : 1) - (b.decided === 'accepted' ? 0 : 1) || allocHlcId(a, b);
/**
 * One capacity pass (spec/resolution.md §4): the candidates, in resolution
 * order, stand while they fit `capacity` (`stand` marks each); the others are
 * surplus. Returns what stood, what was asked and the surplus ids.
 */
export function fill(cands: AllocInfo[], capacity: number, stand: (i: AllocInfo) => void): { used: number; requested: number; surplus: string[] } {
  if (cands.length > 1) cands.sort(allocOrder);
  let used = 0;
  let requested = 0;
  const surplus: string[] = [];
  for (const i of cands) {
    requested = sat(requested + i.quantity);
    if (used + i.quantity <= capacity) {
      stand(i);
      used += i.quantity;
    } else surplus.push(i.o.id);
  }
  return { used, requested, surplus };
}

export function allocBase(s: State, o: Obj): void {
  const r = o.rec;
  const own: Conflict[] = [];
  // Letting finished objects go (objects.ts), the neighbours are marked only when what they read of this allocation changed (below).
  const old = s.objects === undefined ? undefined : { info: o.alloc };
  if (r?.type === 'allocation' && old === undefined) neighbours(s, o);
  mark(s, o, ALLOC_VIEW);
  mark(s, o, PENDING);
  if (r?.type !== 'allocation' || !counts(o)) {
    o.alloc = undefined;
    setConflicts(s, 'a', o, own);
    if (old !== undefined) changedBase(s, o, old.info);
    return;
  }
  const offerO = o.t1 as Obj;
  const needO = o.t2 as Obj;
  const offer = offerSide(s, offerO);
  const need = needSide(s, needO);
  if (!offer || !need) {
    o.alloc = undefined;
    setConflicts(s, 'a', o, own);
    if (old !== undefined) changedBase(s, o, old.info);
    return;
  }
  if (r.hub !== offer.hub) {
    o.alloc = undefined;
    own.push(unauthorised(r, o.id, offerO.id, offer.hub));
    setConflicts(s, 'a', o, own);
    if (old !== undefined) changedBase(s, o, old.info);
    return;
  }
  let decision: Obj | undefined;
  if (o.allocDec !== undefined) {
    for (const x of o.allocDec) {
      if (!counts(x)) continue;
      const dr = recOf(x);
      if (dr.hub !== need.hub) own.push(unauthorised(dr, x.id, o.id, need.hub));
      else if (!decision || dr.seq > recOf(decision).seq) decision = x;
    }
  }
  const info: AllocInfo = {
    o,
    offerO,
    needO,
    hub: r.hub,
    hlc: r.hlc,
    quantity: r.body.quantity,
    decided: decision ? (recOf(decision).type === 'allocation.accepted' ? 'accepted' : 'declined') : undefined,
    decision: decision?.id,
    voidReason: undefined,
    s1: false,
    s2: false,
  };
  if (offer.code !== need.code) {
    info.voidReason = 'item_mismatch';
    own.push(
      conflict(`${o.id}/item_mismatch`, 'item_mismatch', [o.id, offerO.id, needO.id], [offer.hub, need.hub], {
        offerItem: offer.code,
        needItem: need.code,
      }),
    );
  } else if (info.decided !== 'accepted' && offer.ended) info.voidReason = 'offer_withdrawn';
  else if (info.decided !== 'accepted' && need.ended) info.voidReason = 'need_closed';
  o.alloc = info;
  setConflicts(s, 'a', o, own);
  if (old !== undefined) changedBase(s, o, old.info);
}

/** What an allocation's base reads of its offer or need: author, item code, and whether withdrawn or closed. */
interface Side {
  hub: string;
  code: string;
  ended: boolean;
}

/** An allocation's offer as its base reads it (from a stub's facts when the offer left memory: objects.ts). */
function offerSide(s: State, o: Obj): Side | undefined {
  const f = factsOf(s, o);
  if (f?.k === 'offer') return { hub: f.hub, code: f.code, ended: f.withdrawn };
  const x = o.offer;
  return x && { hub: x.hub, code: x.body.item.code, ended: x.withdrawn !== undefined };
}

/** An allocation's need as its base reads it (from a stub's facts when the need left memory: objects.ts). */
function needSide(s: State, o: Obj): Side | undefined {
  const f = factsOf(s, o);
  if (f?.k === 'need') return { hub: f.hub, code: f.code, ended: f.closed };
  const x = o.need;
  return x && { hub: x.hub, code: x.body.item.code, ended: x.closed !== undefined };
}

/** What reads an allocation's base: its offer's and need's capacity passes, the shipments listing it. */
function neighbours(s: State, o: Obj): void {
  mark(s, o.t1 as Obj, OFFER_STAGE);
  mark(s, o.t2 as Obj, NEED_STAGE);
  if (o.allocShip !== undefined) for (const sh of o.allocShip) mark(s, sh, SHIP);
}

/**
 * Letting finished objects go (objects.ts): the neighbours of an allocation are marked only when its
 * base changed in what they read (whether it exists, its decision, its void reason; the rest is its
 * record's), so that re-deriving an allocation does not bring back every finished object around it.
 * When nothing changed, the capacity passes would give it the same standing: it keeps the old one.
 */
function changedBase(s: State, o: Obj, old: AllocInfo | undefined): void {
  const info = o.alloc;
  if (old !== undefined && info !== undefined && old.decided === info.decided && old.decision === info.decision && old.voidReason === info.voidReason) {
    info.s1 = old.s1;
    info.s2 = old.s2;
    return;
  }
  if (old === undefined && info === undefined) return;
  if (recOf(o).type === 'allocation') neighbours(s, o);
}

/** A declined or void allocation that left memory standing in neither pass: a pass gives it nothing and changes nothing of it, so it is not loaded. */
export function idleStub(s: State, a: Obj): boolean {
  const f = factsOf(s, a);
  return f?.k === 'alloc' && f.idle;
}

/** First pass: the offer's capacity, accepted allocations first, then by hlc and id. */
export function offerStage(s: State, o: Obj): void {
  const offer = o.offer;
  const cands: AllocInfo[] = [];
  // Letting finished objects go (objects.ts): only the allocations whose first-pass standing changed mark what reads it.
  const was: [AllocInfo, boolean][] | undefined = s.objects === undefined ? undefined : [];
  if (o.offerAlloc !== undefined) {
    for (const a of o.offerAlloc) {
      if (idleStub(s, a)) continue;
      const i = a.alloc;
      if (!i) continue;
      if (was === undefined) {
        mark(s, a, ALLOC_VIEW);
        mark(s, i.needO, NEED_STAGE);
      } else was.push([i, i.s1]);
      i.s1 = false;
      if (!i.voidReason && i.decided !== 'declined') cands.push(i);
    }
  }
  mark(s, o, OFFER_VIEW);
  if (!offer) {
    if (was !== undefined) for (const [i, w] of was) if (w) stoodChanged(s, i, NEED_STAGE);
    setConflicts(s, 'os', o, []);
    return;
  }
  const { used, requested, surplus } = fill(cands, offer.quantity, (i) => {
    i.s1 = true;
  });
  if (was !== undefined) for (const [i, w] of was) if (i.s1 !== w) stoodChanged(s, i, NEED_STAGE);
  const own: Conflict[] = [];
  if (surplus.length > 0) {
    own.push(
      conflict(
        `${o.id}/over_allocation`,
        'over_allocation',
        [o.id, ...cands.map((i) => i.o.id)],
        [offer.hub, ...cands.map((i) => (needSide(s, i.needO) as Side).hub)],
        {
          offered: offer.quantity,
          requested,
          standing: used,
          surplus: sorted(surplus),
        },
      ),
    );
  }
  setConflicts(s, 'os', o, own);
}

/** Second pass: the need's capacity, over the allocations that stood the first pass, same order. */
export function needStage(s: State, o: Obj): void {
  const need = o.need;
  const cands: AllocInfo[] = [];
  // Letting finished objects go (objects.ts): only the allocations whose second-pass standing changed mark what reads it.
  const was: [AllocInfo, boolean][] | undefined = s.objects === undefined ? undefined : [];
  if (o.needAlloc !== undefined) {
    for (const a of o.needAlloc) {
      if (idleStub(s, a)) continue;
      const i = a.alloc;
      if (!i) continue;
      if (was === undefined) {
        mark(s, a, ALLOC_VIEW);
        mark(s, i.offerO, OFFER_VIEW);
      } else was.push([i, i.s2]);
      i.s2 = false;
      if (i.s1) cands.push(i);
    }
  }
  mark(s, o, NEED_VIEW);
  if (!need) {
    if (was !== undefined) for (const [i, w] of was) if (w) stoodChanged(s, i, OFFER_VIEW);
    setConflicts(s, 'ns', o, []);
    return;
  }
  const standing: string[] = [];
  const { used, requested, surplus } = fill(cands, need.quantity, (i) => {
    i.s2 = true;
    standing.push(i.o.id);
  });
  if (was !== undefined) for (const [i, w] of was) if (i.s2 !== w) stoodChanged(s, i, OFFER_VIEW);
  need.allocated = used;
  // Exact-size copies: an array grown by push() from empty reserves 16 slots, and these live in the state.
  need.standing = standing.slice();
  const own: Conflict[] = [];
  if (surplus.length > 0) {
    own.push(
      conflict(`${o.id}/over_fulfilment`, 'over_fulfilment', [o.id, ...cands.map((i) => i.o.id)], [need.hub, ...cands.map((i) => i.hub)], {
        needed: need.quantity,
        allocated: requested,
        standing: used,
        surplus: sorted(surplus),
      }),
    );
  }
  setConflicts(s, 'ns', o, own);
}

/** An allocation's standing in one capacity pass changed: its view, and the other side's stage (`NEED_STAGE` after the offer's pass) or view (`OFFER_VIEW` after the need's). */
function stoodChanged(s: State, i: AllocInfo, other: number): void {
  mark(s, i.o, ALLOC_VIEW);
  mark(s, other === NEED_STAGE ? i.needO : i.offerO, other);
}

export function allocView(s: State, o: Obj): void {
  const i = o.alloc;
  if (!i) {
    s.allocations.delete(o.id);
    return;
  }
  const status: AllocationState['status'] = i.voidReason
    ? 'void'
    : i.decided === 'declined'
      ? 'declined'
      : !i.s1 || !i.s2
        ? 'surplus'
        : i.decided === 'accepted'
          ? 'accepted'
          : 'proposed';
  // One literal with the members every allocation has (views-json.ts orders them), the optional ones after.
  const v: AllocationState = { id: o.id, hub: i.hub, hlc: i.hlc, offer: i.offerO.id, need: i.needO.id, quantity: i.quantity, status };
  if (i.decision !== undefined) v.decision = i.decision;
  if (status === 'surplus') v.surplusOf = i.s1 ? 'need' : 'offer';
  if (i.voidReason) v.voidReason = i.voidReason;
  s.allocations.set(o.id, v);
}

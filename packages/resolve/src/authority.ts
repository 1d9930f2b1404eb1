/**
 * Authority and ordering (spec/resolution.md §2, §3): who may change a need
 * or an offer (its author; anyone else's change is an `unauthorised`
 * conflict and changes nothing), and in what order one author's changes apply
 * (by seq: the latest seq that sets a field wins, the highest-seq
 * need.closed gives the reason, the first offer.withdrawn withdraws). The
 * base of each need and offer (its figures before allocation) is derived
 * here; the authority rules of allocations and custody are in their modules.
 */
import { timestampMs } from '@shuniu/protocol';
import { mul, NONE } from './collections.js';
import { setConflicts, unauthorised } from './conflicts.js';
import {
  ALLOC_BASE,
  counts,
  mark,
  NEED_STAGE,
  NEED_VIEW,
  type NeedInfo,
  type Obj,
  OFFER_STAGE,
  OFFER_VIEW,
  type OfferInfo,
  PENDING,
  recOf,
  SHIP,
  type State,
} from './graph.js';
import type { Conflict } from './types.js';

/**
 * The counting records that change object `target`: its author's, in
 * sequence order; anyone else's become `unauthorised` conflicts in `own` (spec/resolution.md §2).
 */
export function authorChanges(changes: Obj[] | undefined, target: Obj, author: string, own: Conflict[]): Obj[] {
  if (changes === undefined) return NONE;
  const ups: Obj[] = [];
  for (const u of changes) {
    if (!counts(u)) continue;
    const r = recOf(u);
    if (r.hub !== author) own.push(unauthorised(r, u.id, target.id, author));
    else ups.push(u);
  }
  return ups.length > 1 ? ups.sort((a, b) => recOf(a).seq - recOf(b).seq) : ups;
}

export function needBase(s: State, o: Obj): void {
  const old = o.need;
  const p = o.rec;
  const own: Conflict[] = [];
  let info: NeedInfo | undefined;
  if (p && p.type === 'need.posted' && counts(o)) {
    const b = p.body;
    info = {
      hub: p.hub,
      hlc: p.hlc,
      body: b,
      quantity: mul(b.quantity, b.unit.size),
      urgency: b.urgency,
      neededBy: b.neededBy,
      neededByMs: timestampMs(b.neededBy),
      beneficiaries: b.beneficiaries,
      closed: undefined,
      updates: [],
      dupKey: `${b.requester.name}\u0000${b.requester.kind}\u0000${b.item.code}`,
      item: b.item,
      unit: b.unit,
      requester: b.requester,
      allocated: 0,
      standing: [],
    };
    for (const u of authorChanges(o.needUpd, o, p.hub, own)) {
      const r = recOf(u);
      if (r.type === 'need.updated') {
        const x = r.body;
        if (x.quantity !== undefined) info.quantity = mul(x.quantity, b.unit.size);
        if (x.urgency !== undefined) info.urgency = x.urgency;
        if (x.neededBy !== undefined) {
          info.neededBy = x.neededBy;
          info.neededByMs = timestampMs(x.neededBy);
        }
        if (x.beneficiaries !== undefined) info.beneficiaries = x.beneficiaries;
        info.updates.push(u.id);
      } else if (r.type === 'need.closed') info.closed = { reason: r.body.reason, record: u.id };
    }
    if (info.updates.length > 0) info.updates = info.updates.slice();
  }
  o.need = info;
  setConflicts(s, 'n', o, own);

  const dupKey = info?.dupKey ?? old?.dupKey;
  if (dupKey !== undefined) {
    if (info && info.closed?.reason !== 'cancelled') {
      const g = s.dupGroups.get(dupKey);
      if (g) g.add(o);
      else s.dupGroups.set(dupKey, new Set([o]));
    } else s.dupGroups.get(dupKey)?.delete(o);
    s.dirtyGroups.dup.add(dupKey);
  }
  const allocs = o.needAlloc;
  if (allocs !== undefined) {
    // Letting finished objects go (objects.ts), only what read a changed fact is marked, so that an update of an
    // open need does not bring back its finished allocations and shipments: an allocation's base reads whether the
    // need exists and is closed (its author and item come with its record); a shipment whether it exists and its neededBy.
    const both = s.objects !== undefined && old !== undefined && info !== undefined;
    const reAlloc = !both || (old?.closed === undefined) !== (info?.closed === undefined);
    const reShip = !both || old?.neededByMs !== info?.neededByMs;
    for (const a of allocs) {
      if (reAlloc) mark(s, a, ALLOC_BASE);
      if (!reShip) continue;
      const ships = a.allocShip;
      if (ships !== undefined) for (const sh of ships) mark(s, sh, SHIP);
    }
  }
  mark(s, o, NEED_STAGE);
  mark(s, o, NEED_VIEW);
  mark(s, o, PENDING);
}

export function offerBase(s: State, o: Obj): void {
  const old = o.offer;
  const p = o.rec;
  const own: Conflict[] = [];
  let info: OfferInfo | undefined;
  if (p && p.type === 'offer.posted' && counts(o)) {
    const b = p.body;
    info = {
      hub: p.hub,
      hlc: p.hlc,
      body: b,
      quantity: mul(b.quantity, b.unit.size),
      valueFen: b.valueFen,
      intent: b.intent,
      withdrawn: undefined,
      updates: [],
      item: b.item,
      unit: b.unit,
      donor: b.donor,
    };
    for (const u of authorChanges(o.offerUpd, o, p.hub, own)) {
      const r = recOf(u);
      if (r.type === 'offer.updated') {
        const x = r.body;
        if (x.quantity !== undefined) info.quantity = mul(x.quantity, b.unit.size);
        if (x.valueFen !== undefined) info.valueFen = x.valueFen;
        if (x.intent !== undefined) info.intent = x.intent;
        info.updates.push(u.id);
      } else if (r.type === 'offer.withdrawn' && info.withdrawn === undefined) info.withdrawn = u.id;
    }
    if (info.updates.length > 0) info.updates = info.updates.slice();
  }
  o.offer = info;
  setConflicts(s, 'o', o, own);
  // Letting finished objects go (objects.ts), the allocations are marked only when what their base reads of the
  // offer changed: whether it exists and is withdrawn (its author and item come with its record).
  const same = s.objects !== undefined && old !== undefined && info !== undefined && (old.withdrawn === undefined) === (info.withdrawn === undefined);
  if (o.offerAlloc !== undefined && !same) for (const a of o.offerAlloc) mark(s, a, ALLOC_BASE);
  mark(s, o, OFFER_STAGE);
  mark(s, o, OFFER_VIEW);
  mark(s, o, PENDING);
}

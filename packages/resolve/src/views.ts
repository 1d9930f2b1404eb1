/**
 * The state and its hash (spec/resolution.md §7; hub status §1; need and
 * offer status §4; clock §6): each object's view as it appears in
 * `state()`, written with members in sorted order so that its JSON is its
 * JCS form (views-json.ts), `pending`, and the state hash over the
 * three-level bucket tree of every map (buckets.ts).
 */
import { type RecordOf, timestampMs } from '@shuniu/protocol';
import { allocOrder, idleStub } from './allocations.js';
import { stateDigest } from './buckets.js';
import { latestOnChain } from './chains.js';
import { NONE, sat, sorted } from './collections.js';
import { conflict, setGroupConflicts } from './conflicts.js';
import { isVersion } from './custody.js';
import { type AllocInfo, counts, type HubData, type Obj, objsAt, type State, schedule } from './graph.js';
import { factsOf } from './stubs.js';
import type { HubState, NeedState, OfferState, ResolvedState } from './types.js';

/** The maps of a resolved state. */
export type StateMapName = 'hubs' | 'needs' | 'offers' | 'allocations' | 'shipments' | 'conflicts' | 'held' | 'pending' | 'bundles';

// The large views (needs, offers, allocations, shipments) share their
// records' objects (item, unit, hlc, …): views-json.ts writes their members in
// sorted order whatever order they came in. Hub views are serialised by
// JSON.stringify, so what they take from records is copied in sorted order.
function cName(x: { zh: string; en?: string }): { zh: string; en?: string } {
  const o = {} as { zh: string; en?: string };
  if (x.en !== undefined) o.en = x.en;
  o.zh = x.zh;
  return o;
}

/** A hub's view (§1: status, chain head, forks, admission chain, level and region) and its `fork` conflicts. */
export function hubView(s: State, h: HubData): void {
  const id = h.id;
  const root = s.roots.has(id);
  const forks = [...h.forkSeqs].sort((a, b) => a - b).map((seq) => ({ ids: sorted((objsAt(h, seq) as Obj[]).map((o) => o.id)), seq }));
  let admission: string | undefined;
  let admissionChain: string[] = [];
  let level: HubState['level'];
  let region: string | undefined;
  const adm = s.admissionOf.get(id);
  if (h.admitted && adm) {
    const chain: string[] = [];
    let cur: string | undefined = adm.parent;
    while (cur !== undefined && chain.length <= s.admissionOf.size) {
      chain.push(cur);
      cur = s.admissionOf.get(cur)?.parent;
    }
    admissionChain = chain;
    admission = adm.record;
    const ar = (s.nodes.get(adm.record) as Obj).rec as RecordOf<'hub.admitted'>;
    level = ar.body.level;
    region = ar.body.region;
  }
  let profile: HubState['profile'];
  const profO = latestOnChain(h, h.profiles);
  if (profO) {
    const b = (profO.rec as RecordOf<'hub.profile'>).body;
    // Members in sorted order (viewJson).
    const p = {} as NonNullable<HubState['profile']>;
    if (b.contact !== undefined) p.contact = b.contact;
    p.endpoints = b.endpoints;
    p.level = b.level;
    p.name = cName(b.name);
    if (b.parent !== undefined) p.parent = b.parent;
    p.record = profO.id;
    p.region = b.region;
    profile = p;
    if (root) {
      level = b.level;
      region = b.region;
    }
  }
  let keys: HubState['keys'];
  const rotO = latestOnChain(h, h.rotations);
  const incO = h.live[0];
  const kb = rotO ? (rotO.rec as RecordOf<'hub.keys.rotated'>).body : (incO?.rec as RecordOf<'hub.inception'> | undefined)?.body;
  const krec = rotO ? rotO.id : incO?.id;
  if (kb && krec) keys = { encryptionKey: kb.encryptionKey, record: krec, recoveryCommitment: kb.recoveryCommitment, signingKey: kb.signingKey };
  // Members in sorted order (viewJson).
  const v = {} as HubState;
  if (admission !== undefined) v.admission = admission;
  v.admissionChain = admissionChain;
  v.admitted = h.admitted;
  v.forks = forks;
  if (h.live.length > 0) v.head = { id: (h.live[h.live.length - 1] as Obj).id, seq: h.live.length - 1 };
  v.id = id;
  if (keys) v.keys = keys;
  if (level !== undefined) v.level = level;
  if (profile) v.profile = profile;
  v.records = h.count;
  if (h.recovery !== undefined) v.recovery = h.recovery.id;
  if (region !== undefined) v.region = region;
  v.root = root;
  v.status = !h.admitted ? 'suspended' : h.forkedAt >= 0 ? 'forked' : 'active';
  s.hubs.set(id, v);
  setGroupConflicts(
    s,
    'h',
    id,
    v.forks.map((f) =>
      conflict(`${id}/fork/${f.seq}`, 'fork', f.ids, [id], { seq: f.seq, recovered: h.recovery !== undefined && (h.forkedAt < 0 || f.seq < h.forkedAt) }),
    ),
  );
}

/** A need's view with its status against the record clock (§4, §6): allocated, in transit, received, delivered. */
export function needView(s: State, o: Obj): void {
  const id = o.id;
  const info = o.need;
  if (!info) {
    s.needs.delete(id);
    return;
  }
  const st = info;
  let inTransit = 0;
  let received = 0;
  for (const a of o.needAlloc ?? NONE) {
    // Allocations and shipments that left memory are read from their stubs' facts (objects.ts), not loaded.
    const af = factsOf(s, a);
    const ships = af?.k === 'alloc' ? af.ships : a.allocShip;
    if (ships === undefined) continue;
    for (const sh of ships) {
      const f = factsOf(s, sh);
      if (f?.k === 'ship') {
        const j = f.per.indexOf(a.id);
        if (j < 0 || f.to !== info.hub) continue;
        if (f.received) received = sat(received + (f.per[j + 2] as number));
        else inTransit = sat(inTransit + (f.per[j + 1] as number));
        continue;
      }
      const c = sh.ship;
      const pa = c?.perAlloc.get(a.id);
      if (!c || !pa || c.to !== info.hub) continue;
      if (c.received) received = sat(received + pa.accepted);
      else inTransit = sat(inTransit + pa.shipped);
    }
  }
  let delivered = 0;
  const deliveries: string[] = [];
  for (const x of o.needDeliv ?? NONE) {
    const f = factsOf(s, x);
    const c = f?.k === 'deliv' ? f : x.deliv;
    if (!c?.byItem) continue;
    deliveries.push(x.id);
    delivered = sat(delivered + (c.byItem.get(info.body.item.code) ?? 0));
  }
  const b = info.body;
  let status: NeedState['status'];
  if (info.closed) status = info.closed.reason;
  else if (delivered >= info.quantity) status = 'fulfilled';
  else if (delivered > 0) status = 'partly_delivered';
  else if (st.allocated >= info.quantity) status = 'allocated';
  else if (info.neededByMs < s.clock) status = 'expired';
  else {
    status = st.allocated > 0 ? 'partly_allocated' : 'open';
    schedule(s, info.neededByMs, 'needView', o);
  }
  // One literal with the members every need has (views-json.ts orders them), the optional ones after.
  const v: NeedState = {
    id,
    hub: info.hub,
    hlc: info.hlc,
    item: info.item,
    unit: info.unit,
    quantity: info.quantity,
    urgency: info.urgency,
    neededBy: info.neededBy,
    region: b.region,
    beneficiaries: info.beneficiaries,
    requester: info.requester,
    status,
    allocated: st.allocated,
    inTransit,
    received,
    delivered,
    allocations: st.standing,
    deliveries: deliveries.length <= 1 ? deliveries.slice() : deliveries.sort().slice(),
    updates: info.updates,
  };
  if (b.campaign !== undefined) v.campaign = b.campaign;
  if (b.purpose !== undefined) v.purpose = b.purpose;
  if (info.closed) v.closed = info.closed;
  s.needs.set(id, v);
}

/** An offer's view with its status against the record clock (§4). */
export function offerView(s: State, o: Obj): void {
  const id = o.id;
  const info = o.offer;
  if (!info) {
    s.offers.delete(id);
    return;
  }
  const standing: AllocInfo[] = [];
  for (const a of o.offerAlloc ?? NONE) {
    if (idleStub(s, a)) continue;
    const i = a.alloc;
    if (i?.s1 && i.s2 && !i.voidReason && i.decided !== 'declined') standing.push(i);
  }
  standing.sort(allocOrder);
  let allocated = 0;
  for (const i of standing) allocated = sat(allocated + i.quantity);
  const b = info.body;
  const until = info.intent.validUntil === undefined ? undefined : timestampMs(info.intent.validUntil);
  let status: OfferState['status'];
  if (info.withdrawn !== undefined) status = 'withdrawn';
  else if (allocated >= info.quantity) status = 'allocated';
  else if (until !== undefined && until < s.clock) status = 'expired';
  else {
    status = 'available';
    if (until !== undefined) schedule(s, until, 'offerView', o);
  }
  // One literal with the members every offer has (views-json.ts orders them), the optional ones after.
  const v: OfferState = {
    id,
    hub: info.hub,
    hlc: info.hlc,
    kind: b.kind,
    item: info.item,
    unit: info.unit,
    quantity: info.quantity,
    valueFen: info.valueFen,
    donor: info.donor,
    intent: info.intent,
    region: b.region,
    status,
    allocated,
    available: Math.max(0, info.quantity - allocated),
    allocations: standing.map((i) => i.o.id),
    updates: info.updates,
  };
  if (b.availableFrom !== undefined) v.availableFrom = b.availableFrom;
  if (b.campaign !== undefined) v.campaign = b.campaign;
  if (info.withdrawn !== undefined) v.withdrawn = info.withdrawn;
  s.offers.set(id, v);
}

/** Whether an id is in `pending` (§7): not an object, and named by counting records through the members of §7's table. */
export function pendingView(s: State, o: Obj): void {
  const id = o.id;
  // Is `id` an object? Only the derivation of its record's type can make it one.
  const t = o.rec?.type;
  if (
    t === 'need.posted'
      ? o.need !== undefined
      : t === 'offer.posted'
        ? o.offer !== undefined
        : t === 'allocation'
          ? o.alloc !== undefined
          : t === 'custody.handoff' && o.ship !== undefined
  ) {
    s.pending.delete(id);
    return;
  }
  const waiting: string[] = [];
  // A handoff that is not a version of a shipment in the state (held, off the chain, unauthorised): the receipts and corrections naming it wait.
  const root = o.root;
  if (t === 'custody.handoff' && root !== undefined && (root.ship === undefined || !isVersion(o, root))) {
    for (const x of root.shipReceipts ?? NONE) if (x.t1 === o && counts(x)) waiting.push(x.id);
    for (const x of root.shipVersions ?? NONE) if (x.t1 === o && counts(x)) waiting.push(x.id);
  }
  countingIn(o.needUpd, waiting);
  countingIn(o.needAlloc, waiting);
  countingIn(o.needDeliv, waiting);
  countingIn(o.offerUpd, waiting);
  countingIn(o.offerAlloc, waiting);
  countingIn(o.allocDec, waiting);
  countingIn(o.waitHandoff, waiting);
  if (waiting.length === 0) s.pending.delete(id);
  else s.pending.set(id, sorted(waiting));
}

/** Adds to `out` the ids of the records of `xs` that count. */
function countingIn(xs: Obj[] | undefined, out: string[]): void {
  if (xs !== undefined) for (const x of xs) if (counts(x)) out.push(x.id);
}

/** The resolved state as plain JSON (maps keyed by id, in sorted key order). The caller flushes first. */
export function stateOf(s: State): ResolvedState {
  const st: ResolvedState = {
    v: 1,
    clock: s.clock,
    hubs: s.hubs.toObject(),
    needs: s.needs.toObject(),
    offers: s.offers.toObject(),
    allocations: s.allocations.toObject(),
    shipments: s.shipments.toObject(),
    conflicts: s.conflicts.toObject(),
    held: s.held.toObject(),
    pending: s.pending.toObject(),
  };
  // Present only when not empty (§7.2): a state without bundles is as before bundles existed.
  if (s.bundles.size > 0) st.bundles = s.bundles.toObject();
  return st;
}

/**
 * The state hash (§7): digest of {v, clock, and for each map its root},
 * where a map's root is digest({prefix: digest({key: digest(value)})}) over
 * 4,096 key prefixes. Only entries changed since the last call are
 * re-hashed, then their buckets. The caller flushes first.
 */
export function stateHash(s: State): string {
  const h = s.hashText;
  const top: Record<string, unknown> = {
    allocations: s.allocations.root(h),
    clock: s.clock,
    conflicts: s.conflicts.root(h),
    held: s.held.root(h),
    hubs: s.hubs.root(h),
    needs: s.needs.root(h),
    offers: s.offers.root(h),
    pending: s.pending.root(h),
    shipments: s.shipments.root(h),
    v: 1,
  };
  // `bundles` enters the hash only when there is one (§7.2): a state without bundles hashes as before they existed.
  if (s.bundles.size > 0) top.bundles = s.bundles.root(h);
  return stateDigest(top, h);
}

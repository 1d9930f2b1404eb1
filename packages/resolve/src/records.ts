/**
 * Filing records (spec/resolution.md §1, Which records count; §9, Cost): a
 * record is kept under its own node and filed under the ids it names (§7's
 * table: need.updated → its need, allocation → its offer and need, a
 * handoff → the handoff it corrects, …), and its hub's chain is queued to be
 * walked again. Nothing is derived here: `touch` marks what a record feeds
 * once it starts or stops counting, and the scheduler derives it on the next
 * read.
 */
import type { Verified } from '@shuniu/protocol';
import { fileBundleRecord, touchBundle } from './bundle-index.js';
import {
  ALLOC_BASE,
  add,
  DELIV,
  type HubData,
  mark,
  markChain,
  markView,
  NEED_BASE,
  node,
  type Obj,
  OFFER_BASE,
  PENDING,
  type Rec,
  recOf,
  SHIP,
  type State,
} from './graph.js';

/**
 * Adds one verified record. Idempotent; any order. Cheap: it files the
 * record under the ids it names and marks those objects for re-derivation,
 * which happens on the next state()/stateHash()/toJSON().
 */
export function fileRecord(s: State, v: Verified): void {
  const o = node(s, v.id);
  if (o.rec !== undefined) return;
  // Only what resolution reads is kept: not the signature (checked before) nor the version.
  const src = v.record;
  const r = { type: src.type, hub: src.hub, seq: src.seq, prev: src.prev, hlc: src.hlc, body: src.body } as Rec;
  o.rec = r;
  s.records++;
  if (r.hlc.ms > s.clock) s.clock = r.hlc.ms;

  let h = s.hubData.get(r.hub);
  if (!h) {
    h = {
      id: r.hub,
      first: [],
      more: new Map(),
      toHold: [],
      live: [],
      forkedAt: -1,
      forkSeqs: new Set(),
      recoveries: [],
      recovery: undefined,
      win: undefined,
      admissions: [],
      revocations: [],
      profiles: [],
      rotations: [],
      admitted: s.roots.has(r.hub) || s.admissionOf.has(r.hub),
      full: false,
      count: 0,
      dirtyChain: false,
      dirtyView: false,
    };
    s.hubData.set(r.hub, h);
  }
  o.h = h;
  h.count++;
  if (h.first[r.seq] !== undefined) {
    const more = h.more.get(r.seq);
    if (more) more.push(o);
    else h.more.set(r.seq, [o]);
    h.forkSeqs.add(r.seq);
  } else h.first[r.seq] = o;
  // A record below the tip may fork the chain; and while a recovery's
  // ancestry is incomplete, any record may be the missing ancestor.
  if (r.seq < h.live.length || (h.recoveries.length > 0 && h.recovery === undefined)) h.full = true;
  if (!h.admitted) h.toHold.push(o);
  markChain(s, h);
  markView(s, h);

  switch (r.type) {
    case 'hub.admitted':
      h.admissions.push(o);
      s.admissionDirty = true;
      break;
    case 'hub.admission.revoked':
      h.revocations.push(o);
      s.admissionDirty = true;
      break;
    case 'hub.profile':
      h.profiles.push(o);
      break;
    case 'hub.keys.rotated':
      h.rotations.push(o);
      if (r.body.recovery) {
        h.recoveries.push(o);
        h.full = true;
        if (o.vouches !== undefined) s.contested.add(h.id);
      }
      break;
    case 'attestation':
      if (r.body.kind === 'recovery_vouched') {
        const t = node(s, r.body.subject);
        t.vouches = add(t.vouches, o);
        if (t.rec?.type === 'hub.keys.rotated' && t.rec.body.recovery) s.contested.add(t.rec.hub);
      }
      break;
    case 'need.updated':
    case 'need.closed': {
      const t = node(s, r.body.need);
      o.t1 = t;
      t.needUpd = add(t.needUpd, o);
      break;
    }
    case 'offer.updated':
    case 'offer.withdrawn': {
      const t = node(s, r.body.offer);
      o.t1 = t;
      t.offerUpd = add(t.offerUpd, o);
      break;
    }
    case 'allocation': {
      const offer = node(s, r.body.offer);
      const need = node(s, r.body.need);
      o.t1 = offer;
      o.t2 = need;
      offer.offerAlloc = add(offer.offerAlloc, o);
      need.needAlloc = add(need.needAlloc, o);
      break;
    }
    case 'allocation.accepted':
    case 'allocation.declined': {
      const t = node(s, r.body.allocation);
      o.t1 = t;
      t.allocDec = add(t.allocDec, o);
      break;
    }
    case 'custody.handoff':
      o.allocs = r.body.allocations.map((a) => node(s, a));
      if (r.body.corrects === undefined) setRoot(s, o, o);
      else {
        const c = node(s, r.body.corrects);
        o.t1 = c;
        if (c.root !== undefined) setRoot(s, o, c.root);
        else c.waitHandoff = add(c.waitHandoff, o);
      }
      break;
    case 'custody.receipt': {
      const hd = node(s, r.body.handoff);
      o.t1 = hd;
      if (hd.root !== undefined) hd.root.shipReceipts = add(hd.root.shipReceipts, o);
      else hd.waitHandoff = add(hd.waitHandoff, o);
      break;
    }
    case 'custody.delivered': {
      const need = node(s, r.body.need);
      o.t1 = need;
      need.needDeliv = add(need.needDeliv, o);
      if (r.body.corrects !== undefined) {
        const c = node(s, r.body.corrects);
        o.t2 = c;
        c.correctedBy = add(c.correctedBy, o);
      }
      break;
    }
    case 'bundle.updated':
    case 'bundle.funded':
      fileBundleRecord(s, o);
      break;
    default:
      break;
  }
}

/** A handoff joins its shipment; receipts and corrections that waited for it follow. */
export function setRoot(s: State, handoff: Obj, root: Obj): void {
  handoff.root = root;
  root.shipVersions = add(root.shipVersions, handoff);
  for (const a of handoff.allocs as Obj[]) {
    const ships = a.allocShip;
    if (ships === undefined) a.allocShip = [root];
    else if (!ships.includes(root)) ships.push(root);
  }
  mark(s, root, SHIP);
  const waiting = handoff.waitHandoff;
  if (!waiting) return;
  handoff.waitHandoff = undefined;
  mark(s, handoff, PENDING);
  for (const w of waiting) {
    if (recOf(w).type === 'custody.handoff') setRoot(s, w, root);
    else root.shipReceipts = add(root.shipReceipts, w);
  }
}

/** Marks what a record feeds, after it started or stopped counting. */
export function touch(s: State, o: Obj): void {
  const r = recOf(o);
  markView(s, o.h as HubData);
  switch (r.type) {
    case 'hub.admitted':
    case 'hub.admission.revoked':
      s.admissionDirty = true;
      break;
    case 'hub.profile':
      // A root admits with the level and region of its latest profile.
      if (s.roots.has(r.hub)) s.admissionDirty = true;
      break;
    case 'need.posted':
      mark(s, o, NEED_BASE);
      break;
    case 'need.updated':
    case 'need.closed':
      mark(s, o.t1 as Obj, NEED_BASE);
      mark(s, o.t1 as Obj, PENDING);
      break;
    case 'offer.posted':
      mark(s, o, OFFER_BASE);
      break;
    case 'offer.updated':
    case 'offer.withdrawn':
      mark(s, o.t1 as Obj, OFFER_BASE);
      mark(s, o.t1 as Obj, PENDING);
      break;
    case 'allocation':
      mark(s, o, ALLOC_BASE);
      mark(s, o.t1 as Obj, PENDING);
      mark(s, o.t2 as Obj, PENDING);
      break;
    case 'allocation.accepted':
    case 'allocation.declined':
      mark(s, o.t1 as Obj, ALLOC_BASE);
      mark(s, o.t1 as Obj, PENDING);
      break;
    case 'custody.handoff':
      if (o.root !== undefined) mark(s, o.root, SHIP);
      if (o.t1 !== undefined) mark(s, o.t1, PENDING);
      break;
    case 'custody.receipt': {
      const root = (o.t1 as Obj).root;
      if (root !== undefined) mark(s, root, SHIP);
      mark(s, o.t1 as Obj, PENDING);
      break;
    }
    case 'custody.delivered':
      mark(s, o, DELIV);
      if (o.t2 !== undefined) mark(s, o.t2, DELIV);
      mark(s, o.t1 as Obj, PENDING);
      break;
    case 'bundle.posted':
    case 'bundle.updated':
    case 'bundle.funded':
      touchBundle(s, o);
      break;
    default:
      break;
  }
}

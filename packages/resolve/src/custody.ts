/**
 * Custody (spec/resolution.md §6, Shipment, Figures, Clock, Attribution to
 * needs): handoffs form a shipment (the counting version with the highest
 * seq is in force; corrections join only through counting, authorised
 * versions), the receipt in force is the `to` hub's with the highest seq,
 * per-line figures in base units, the shipment's status against the record
 * clock, each line attributed to the listed allocations of its item, and
 * deliveries (those no later delivery of the same author corrects). What a
 * shipment or delivery contributes goes into the groups the checks of
 * custody-checks.ts read.
 */
import { type RecordOf, timestampMs } from '@shuniu/protocol';
import { Group, mul, NONE, SmallMap, sat, sorted } from './collections.js';
import { conflict, setConflicts, unauthorised } from './conflicts.js';
import {
  type AllocInfo,
  counts,
  type DelivContrib,
  DOUBLE_HANDOFF,
  type Handed,
  mark,
  NEED_VIEW,
  type Obj,
  PENDING,
  type PerAlloc,
  recOf,
  type ShipContrib,
  type State,
  schedule,
} from './graph.js';
import { factsOf } from './stubs.js';
import type { Conflict, ShipmentLineState, ShipmentState } from './types.js';

/** Derives one shipment (o: its first handoff): versions, receipt, figures, status, attribution and its contributions to the custody groups. */
export function shipment(s: State, o: Obj): void {
  const id = o.id;
  const own: Conflict[] = [];
  const old = o.ship;
  let contrib: ShipContrib | undefined;
  let view: ShipmentState | undefined;
  const root = o.rec as RecordOf<'custody.handoff'>;
  const counted = counts(o);
  if (counted && root.hub !== root.body.from) own.push(unauthorised(root, id, id, root.body.from));
  else if (counted) {
    let eff = root;
    let effO = o;
    const versions: string[] = [];
    for (const vo of o.shipVersions ?? NONE) {
      if (!counts(vo) || !linkCounts(vo, o)) continue;
      const vr = vo.rec as RecordOf<'custody.handoff'>;
      // §2: signed by the first handoff's author, and keeping its `from` (a correction that changes
      // the sender names as expected the hub its `from` says should have signed it).
      if (vr.hub !== root.hub || vr.body.from !== root.hub) {
        own.push(unauthorised(vr, vo.id, id, vr.hub !== root.hub ? root.hub : vr.body.from));
        continue;
      }
      versions.push(vo.id);
      if (vr.seq > eff.seq) {
        eff = vr;
        effO = vo;
      }
    }
    const effId = effO.id;
    const b = eff.body;
    let receipt: RecordOf<'custody.receipt'> | undefined;
    let receiptId: string | undefined;
    for (const ro of o.shipReceipts ?? NONE) {
      // A receipt names a version of this shipment: the shipment itself or a counting, authorised correction (else it waits, pending).
      if (!counts(ro) || !isVersion(ro.t1 as Obj, o)) continue;
      const rr = ro.rec as RecordOf<'custody.receipt'>;
      if (rr.hub !== b.to) own.push(unauthorised(rr, ro.id, id, b.to));
      else if (!receipt || rr.seq > receipt.seq) {
        receipt = rr;
        receiptId = ro.id;
      }
    }
    // Receipt figures per line, then the lines with members in sorted order (viewJson).
    let mismatch = false;
    const got: ({ accepted: number; rejected: number; missing: number; rejectReason?: string } | undefined)[] = [];
    if (receipt) {
      for (const rl of receipt.body.lines) {
        const bl = b.lines[rl.line];
        if (!bl || got[rl.line] !== undefined) {
          mismatch = true;
          continue;
        }
        const size = bl.unit.size;
        got[rl.line] = { accepted: mul(rl.accepted, size), rejected: mul(rl.rejected, size), missing: mul(rl.missing, size), rejectReason: rl.rejectReason };
      }
    }
    let shipped = 0;
    let acc = 0;
    let rej = 0;
    let mis = 0;
    let discrepancy = false;
    const lines: ShipmentLineState[] = b.lines.map((l, i) => {
      const q = mul(l.quantity, l.unit.size);
      shipped = sat(shipped + q);
      const g = got[i];
      // One literal with every member it will have (views-json.ts orders them).
      let ln: ShipmentLineState;
      if (receipt) {
        const a = g ? g.accepted : 0;
        const r = g ? g.rejected : 0;
        const m = g ? g.missing : 0;
        ln = { item: l.item, unit: l.unit, shipped: q, accepted: a, rejected: r, missing: m, unaccounted: q - a - r - m };
        if (g?.rejectReason !== undefined) ln.rejectReason = g.rejectReason;
        if (ln.unaccounted !== 0) mismatch = true;
        if (a !== q) discrepancy = true;
        acc = sat(acc + a);
        rej = sat(rej + r);
        mis = sat(mis + m);
      } else ln = { item: l.item, unit: l.unit, shipped: q };
      if (l.expiry !== undefined) ln.expiry = l.expiry;
      if (l.lot !== undefined) ln.lot = l.lot;
      return ln;
    });
    const ea = timestampMs(b.expectedArrival);
    let status: ShipmentState['status'] = 'in_transit';
    if (receipt) status = discrepancy ? 'received_with_discrepancy' : 'received';
    else if (ea < s.clock) status = 'overdue';
    else schedule(s, ea, 'ship', o);
    // One literal with every member it will have (views-json.ts orders them).
    view = receipt
      ? {
          id,
          handoff: effId,
          versions: sorted(versions),
          hub: root.hub,
          from: b.from,
          to: b.to,
          shipment: b.shipment,
          expectedArrival: b.expectedArrival,
          allocations: b.allocations,
          lines,
          status,
          late: false,
          receipt: receiptId,
          received: receipt.body.received,
          shipped,
          accepted: acc,
          rejected: rej,
          missing: mis,
        }
      : {
          id,
          handoff: effId,
          versions: sorted(versions),
          hub: root.hub,
          from: b.from,
          to: b.to,
          shipment: b.shipment,
          expectedArrival: b.expectedArrival,
          allocations: b.allocations,
          lines,
          status,
          late: false,
          shipped,
        };
    contrib = {
      from: b.from,
      to: b.to,
      received: receipt !== undefined,
      perAlloc: new SmallMap(),
      acceptedByItem: new SmallMap(),
      lotShipped: undefined,
      lotAccepted: undefined,
    };
    if (receipt && receiptId && mismatch) {
      own.push(
        conflict(`${id}/receipt_mismatch`, 'receipt_mismatch', [id, effId, receiptId], [b.from, b.to], {
          shipped,
          accounted: sat(acc + rej + mis),
        }),
      );
    }

    // Attribute each line to the listed allocations of its item, in list
    // order, each up to its quantity; the last one takes the rest.
    const allocs: AllocInfo[] = [];
    const codes: (string | undefined)[] = [];
    const receivedMs = receipt ? timestampMs(receipt.body.received) : undefined;
    const effAllocs = effO.allocs as Obj[];
    for (let j = 0; j < b.allocations.length; j++) {
      const aid = b.allocations[j] as string;
      if (b.allocations.indexOf(aid) !== j) continue;
      const a = (effAllocs[j] as Obj).alloc;
      if (a === undefined) continue;
      allocs.push(a);
      // A need that left memory is read from its stub's facts (objects.ts), not loaded.
      const nf = factsOf(s, a.needO);
      const n = nf?.k === 'need' ? nf : a.needO.need && { code: a.needO.need.body.item.code, neededByMs: a.needO.need.neededByMs };
      codes.push(n?.code);
      if (receivedMs !== undefined && n && receivedMs > n.neededByMs) view.late = true;
    }
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i] as ShipmentLineState;
      const code = l.item.code;
      const acc = l.accepted ?? 0;
      if (acc > 0) contrib.acceptedByItem.set(code, sat((contrib.acceptedByItem.get(code) ?? 0) + acc));
      const lot = (b.lines[i] as { lot?: string }).lot;
      if (lot !== undefined) {
        const k = `${code}|${lot}`;
        if (contrib.lotShipped === undefined) contrib.lotShipped = new SmallMap();
        contrib.lotShipped.set(k, sat((contrib.lotShipped.get(k) ?? 0) + l.shipped));
        if (acc > 0) {
          if (contrib.lotAccepted === undefined) contrib.lotAccepted = new SmallMap();
          contrib.lotAccepted.set(k, sat((contrib.lotAccepted.get(k) ?? 0) + acc));
        }
      }
      let lastMatch = -1;
      for (let j = 0; j < allocs.length; j++) if (codes[j] === code) lastMatch = j;
      let sLeft = l.shipped;
      let aLeft = acc;
      for (let j = 0; j <= lastMatch; j++) {
        if (codes[j] !== code) continue;
        const a = allocs[j] as AllocInfo;
        const last = j === lastMatch;
        const sh = last ? sLeft : Math.min(sLeft, a.quantity);
        const t = last ? aLeft : Math.min(aLeft, a.quantity);
        sLeft -= sh;
        aLeft -= t;
        const pa = contrib.perAlloc.get(a.o.id);
        if (pa) {
          pa.shipped = sat(pa.shipped + sh);
          pa.accepted = sat(pa.accepted + t);
        } else contrib.perAlloc.set(a.o.id, { shipped: sh, accepted: t, needO: a.needO, ao: a.o });
      }
    }
  }
  setConflicts(s, 's', o, own);
  if (view) s.shipments.set(id, view);
  else s.shipments.delete(id);
  o.ship = contrib;

  // Move this shipment's contributions from the old groups to the new ones (put replaces a member).
  if (old) shipGroups(s, id, old, false);
  if (contrib) shipGroups(s, id, contrib, true);
  // The receipt of a handoff another version names also counts as pending until the handoff exists.
  mark(s, o, PENDING);
  for (const vo of o.shipVersions ?? NONE) mark(s, vo, PENDING);
}

/**
 * A correction joins the shipment of the handoff it names only through
 * records that change something (spec/resolution.md §1, §2, §6): every
 * handoff on its `corrects` path up to `root` counts and is authorised.
 */
export function linkCounts(vo: Obj, root: Obj): boolean {
  for (let x = vo.t1; x !== undefined && x !== root; x = x.t1) if (!authorisedVersion(x, root)) return false;
  return true;
}

/** A correction that counts and is signed by the shipment's sender (spec/resolution.md §2). */
export function authorisedVersion(vo: Obj, root: Obj): boolean {
  const r = recOf(root) as RecordOf<'custody.handoff'>;
  const v = vo.rec as RecordOf<'custody.handoff'> | undefined;
  return v !== undefined && counts(vo) && v.hub === r.hub && v.body.from === r.hub;
}

/** Whether `vo` is a version of the shipment `root` (counting and authorised): `root` itself or one of its counting, authorised corrections. */
export function isVersion(vo: Obj, root: Obj): boolean {
  return vo === root || (authorisedVersion(vo, root) && linkCounts(vo, root));
}

/** Removes (put false) or puts a shipment's contributions in the custody groups, marking them. */
export function shipGroups(s: State, id: string, c: ShipContrib, put: boolean): void {
  const dbr = s.dirtyGroups.dbr;
  const lot = s.dirtyGroups.lot;
  const pa = c.perAlloc;
  for (let i = 0; i < pa.k.length; i++) {
    const x = pa.v[i] as PerAlloc;
    // A need's view counts only the shipments to its own hub: a need that left memory is not loaded for a leg to another hub (its stub's facts: stubs.ts).
    const nf = factsOf(s, x.needO);
    if (nf?.k !== 'need' || nf.hub === c.to) mark(s, x.needO, NEED_VIEW);
    // The allocation's handoffs (double handoff, spec/resolution.md §6).
    const ao = x.ao;
    if (put) {
      const h: Handed = { ship: id, from: c.from, to: c.to, q: x.shipped };
      if (ao.dh === undefined) ao.dh = [h];
      else ao.dh.push(h);
    } else if (ao.dh !== undefined) {
      const i = ao.dh.findIndex((h) => h.ship === id);
      if (i >= 0) {
        ao.dh[i] = ao.dh[ao.dh.length - 1] as Handed;
        ao.dh.pop();
      }
      if (ao.dh.length === 0) ao.dh = undefined;
    }
    mark(s, ao, DOUBLE_HANDOFF);
  }
  fileAmounts(s.dbrReceived, c.to, c.acceptedByItem, id, c.to, put, dbr);
  if (c.lotShipped !== undefined) fileAmounts(s.lotShipped, c.from, c.lotShipped, id, c.to, put, lot);
  if (c.lotAccepted !== undefined) fileAmounts(s.lotHeld, c.to, c.lotAccepted, id, c.to, put, lot);
}

/** Puts (or removes) one shipment's amounts into the groups keyed `<owner>|<key>` and marks those groups dirty. */
export function fileAmounts(m: Map<string, Group>, owner: string, amounts: SmallMap<number>, id: string, to: string, put: boolean, dirty: Set<string>): void {
  for (let i = 0; i < amounts.k.length; i++) {
    const k = `${owner}|${amounts.k[i]}`;
    const g = group(m, k);
    if (put) g.put(id, to, amounts.v[i] as number);
    else g.remove(id);
    dirty.add(k);
  }
}

/** The group of key `k`, created on first use. */
export function group(m: Map<string, Group>, k: string): Group {
  let g = m.get(k);
  if (!g) {
    g = new Group();
    m.set(k, g);
  }
  return g;
}

/** A delivery's contribution to its need and to the delivered-beyond-received groups (none when a counting delivery of the same author corrects it). */
export function delivery(s: State, o: Obj): void {
  const id = o.id;
  const r = o.rec;
  const old = o.deliv;
  let c: DelivContrib | undefined;
  if (r && r.type === 'custody.delivered' && counts(o)) {
    const superseded = (o.correctedBy ?? NONE).some((x) => counts(x) && recOf(x).hub === r.hub);
    if (!superseded) {
      c = { hub: r.hub, needO: o.t1 as Obj, byItem: new SmallMap() };
      for (const l of r.body.lines) c.byItem.set(l.item.code, sat((c.byItem.get(l.item.code) ?? 0) + mul(l.quantity, l.unit.size)));
    }
  }
  o.deliv = c;
  for (const x of old === undefined ? (c === undefined ? [] : [c]) : c === undefined ? [old] : [old, c]) {
    const put = x === c;
    mark(s, x.needO, NEED_VIEW);
    const bi = x.byItem;
    for (let i = 0; i < bi.k.length; i++) {
      const k = `${x.hub}|${bi.k[i]}`;
      const g = group(s.dbrDelivered, k);
      if (put) g.put(id, x.hub, bi.v[i] as number);
      else g.remove(id);
      s.dirtyGroups.dbr.add(k);
    }
  }
}

/**
 * Counting chains, forks and recovery (spec/resolution.md §1, Counting
 * chain; spec/keys.md §5.1): from a hub's inception forward, the record at
 * each seq whose prev is the one counted before; two records at a seq are a
 * fork and stop the chain; a vouched recovery beats every one that is not,
 * then the greatest hlc, then id, and its branch is what counts.
 */
import type { RecordOf } from '@shuniu/protocol';
import { byHlcId, counts, type HubData, type Obj, objsAt, recOf, type State } from './graph.js';
import { touch } from './records.js';

/** A recovery_vouched attestation counts for a recovery when its hlc.ms is at most this long after the recovery's (spec/keys.md §5.1). */
export const VOUCH_WINDOW_MS = 72 * 3600 * 1000;

/**
 * Walks forward from the end of the counting chain `live`. Without a
 * recovery any second record at a seq is a fork and the chain stops before
 * it; after a recovery only children of the tip (by prev) compete, since the
 * thief's old branch continues elsewhere. Returns the fork seq or -1.
 */
export function extend(h: HubData, live: Obj[], afterRecovery: boolean): number {
  for (;;) {
    const seq = live.length;
    const one = h.first[seq];
    if (one === undefined) return -1;
    const tip = seq === 0 ? null : (live[seq - 1] as Obj).id;
    if (!h.more.has(seq)) {
      // The common case: one record at this seq.
      const r = recOf(one);
      if (seq === 0 ? r.type !== 'hub.inception' : r.prev !== tip) return -1;
      live.push(one);
      continue;
    }
    const all = objsAt(h, seq) as Obj[];
    const children = all.filter((x) => {
      const r = recOf(x);
      return seq === 0 ? r.type === 'hub.inception' : r.prev === tip;
    });
    if (!afterRecovery && all.length >= 2) return seq;
    if (children.length >= 2) return seq;
    if (children.length === 0) return -1;
    live.push(children[0] as Obj);
  }
}

export function refreshChain(s: State, h: HubData): void {
  const old = h.live;
  if (!h.full) {
    const start = old.length;
    h.forkedAt = extend(h, old, h.recovery !== undefined);
    if (h.admitted) for (let q = start; q < old.length; q++) touch(s, old[q] as Obj);
    if (old.length > start && (h.admissions.length > 0 || h.revocations.length > 0)) s.admissionDirty = true;
    return;
  }
  h.full = false;
  let live: Obj[] = [];
  h.recovery = undefined;
  if (h.recoveries.length > 0) {
    // The winning recovery (vouched first, then the greatest hlc, then id)
    // decides the branch that survives: its ancestors by prev, then its descendants.
    const win = pickRecovery(s, h) as Obj;
    h.win = win;
    const path: Obj[] = [];
    let cur: Obj | undefined = win;
    while (cur !== undefined) {
      path.push(cur);
      const r = recOf(cur);
      if (r.seq === 0) break;
      const next: Obj | undefined = r.prev === null ? undefined : s.nodes.get(r.prev);
      if (!next?.rec || next.rec.hub !== h.id || next.rec.seq !== r.seq - 1) cur = undefined;
      else cur = next;
    }
    // Until every ancestor is held the branch cannot be checked: nothing counts yet.
    if (cur && recOf(cur).seq === 0 && recOf(cur).type === 'hub.inception') {
      live = path.reverse();
      h.recovery = win;
    }
  }
  if (h.recoveries.length === 0 || h.recovery !== undefined) h.forkedAt = extend(h, live, h.recovery !== undefined);
  else h.forkedAt = -1;
  h.live = live;
  if (h.admitted) {
    const n = Math.max(old.length, live.length);
    for (let q = 0; q < n; q++) {
      const a = old[q];
      const b = live[q];
      if (a === b) continue;
      if (a !== undefined) touch(s, a);
      if (b !== undefined) touch(s, b);
    }
  }
  if (h.admissions.length > 0 || h.revocations.length > 0) s.admissionDirty = true;
}

/**
 * Among a hub's recoveries (spec/keys.md §5.1): a vouched one beats every
 * one that is not; among equals the greatest hlc, then id, wins.
 */
export function pickRecovery(s: State, h: HubData): Obj | undefined {
  let best: Obj | undefined;
  let bestVouched = false;
  for (const o of h.recoveries) {
    const v = vouched(s, o);
    if (
      best === undefined ||
      (v && !bestVouched) ||
      (v === bestVouched && byHlcId({ hlc: recOf(o).hlc, id: o.id }, { hlc: recOf(best).hlc, id: best.id }) > 0)
    ) {
      best = o;
      bestVouched = v;
    }
  }
  return best;
}

/**
 * A recovery is vouched when a counting attestation {kind:
 * "recovery_vouched", result: "pass"} names it, by a hub on the recovering
 * hub's admission chain (its admitter or above), with an hlc.ms at most
 * VOUCH_WINDOW_MS after the recovery's.
 */
export function vouched(s: State, o: Obj): boolean {
  if (o.vouches === undefined) return false;
  const r = recOf(o);
  const above = new Set<string>();
  for (let cur = s.admissionOf.get(r.hub); cur !== undefined && !above.has(cur.parent); cur = s.admissionOf.get(cur.parent)) above.add(cur.parent);
  if (above.size === 0) return false;
  for (const a of o.vouches) {
    const ar = a.rec as RecordOf<'attestation'>;
    if (ar.body.result === 'pass' && above.has(ar.hub) && ar.hlc.ms <= r.hlc.ms + VOUCH_WINDOW_MS && counts(a)) return true;
  }
  return false;
}

export function latestOnChain(h: HubData, list: Obj[]): Obj | undefined {
  let best: Obj | undefined;
  for (const o of list) {
    const r = recOf(o);
    if (h.live[r.seq] !== o) continue;
    if (!best || r.seq > recOf(best).seq) best = o;
  }
  return best;
}

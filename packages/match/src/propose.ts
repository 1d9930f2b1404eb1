import { formatTimestamp, timestampMs } from '@shuniu/protocol';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { explain } from './reasons.js';
import {
  cmpStr,
  DEFAULT_TRANSIT,
  departure,
  duplicateGroups,
  groupGap,
  needIsOpen,
  offerIsOpen,
  representative,
  type Scale,
  Units,
  URGENCY_RANK,
} from './rules.js';
import type { MatchFilters, MatchOptions, Proposal, TransitTable } from './types.js';
import { divide } from './waterfill.js';

/** A need (or the representative of a duplicate group) that still lacks goods. */
interface Slot {
  need: NeedState;
  members: string[] | undefined;
  quantity: number;
  /** Base units the need (its group) has before the plan. */
  covered: number;
  neededByMs: number;
  r4: string;
  r2: string;
  /** Position among all slots by (urgency, neededBy, need id): the output order (§Proposals as records). */
  out: number;
}

interface OfferPlan {
  offer: OfferState;
  /** Position of the offer by id (the last output sort key). */
  idRank: number;
  validUntilMs: number;
  departs: number;
  /** Eligible needs before any proposal (§Order of offers). */
  count: number;
}

const ROUNDS = 8;
const HOUR_MS = 3_600_000;
const CAPPED = 1;
const BONUS = 2;

const isoCache = new Map<number, string>();
/** formatTimestamp, memoised: arrival times repeat across the many proposals of one offer. */
function iso(ms: number): string {
  let s = isoCache.get(ms);
  if (s === undefined) {
    if (isoCache.size > 10_000) isoCache.clear();
    s = formatTimestamp(ms);
    isoCache.set(ms, s);
  }
  return s;
}

function startsWithAny(region: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (region.startsWith(p)) return true;
  return false;
}

const cmpSlot = (a: Slot, b: Slot) => a.neededByMs - b.neededByMs || cmpStr(a.need.id, b.need.id);

const SHIFT = 15;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

/** `size` rows of the plan's columns. */
class Chunk {
  readonly offer: Int32Array;
  readonly slot: Int32Array;
  readonly scale: Int32Array;
  readonly round: Uint8Array;
  readonly flags: Uint8Array;
  readonly competing: Int32Array;
  readonly before: Float64Array;
  readonly quantity: Float64Array;
  readonly amount: Float64Array;
  readonly arrival: Float64Array;
  readonly level: Float64Array;

  constructor(size: number, from?: Chunk) {
    const col = <T extends Int32Array | Uint8Array | Float64Array>(make: new (n: number) => T, old: T | undefined): T => {
      const a = new make(size);
      if (old !== undefined) a.set(old.subarray(0, size));
      return a;
    };
    this.offer = col(Int32Array, from?.offer);
    this.slot = col(Int32Array, from?.slot);
    this.scale = col(Int32Array, from?.scale);
    this.round = col(Uint8Array, from?.round);
    this.flags = col(Uint8Array, from?.flags);
    this.competing = col(Int32Array, from?.competing);
    this.before = col(Float64Array, from?.before);
    this.quantity = col(Float64Array, from?.quantity);
    this.amount = col(Float64Array, from?.amount);
    this.arrival = col(Float64Array, from?.arrival);
    this.level = col(Float64Array, from?.level);
  }
}

/**
 * Plan rows as typed columns in fixed chunks of 32,768 rows: no object per
 * proposal, nothing for the collector to trace, and no copy as the plan grows
 * (a doubling array would hold its old and new columns at once: the worker's
 * peak at national scale).
 */
class Rows {
  n = 0;
  readonly chunks: Chunk[] = [];

  add(
    offer: number,
    slot: number,
    scale: number,
    round: number,
    flags: number,
    competing: number,
    before: number,
    quantity: number,
    amount: number,
    arrival: number,
    level: number,
  ): void {
    const k = this.n & MASK;
    if (k === 0) this.chunks.push(new Chunk(CHUNK));
    const c = this.chunks[this.chunks.length - 1] as Chunk;
    this.n++;
    c.offer[k] = offer;
    c.slot[k] = slot;
    c.scale[k] = scale;
    c.round[k] = round;
    c.flags[k] = flags;
    c.competing[k] = competing;
    c.before[k] = before;
    c.quantity[k] = quantity;
    c.amount[k] = amount;
    c.arrival[k] = arrival;
    c.level[k] = level;
  }

  /** The last chunk cut to the rows it holds. */
  trim(): this {
    const k = this.n & MASK;
    if (k !== 0) this.chunks[this.chunks.length - 1] = new Chunk(k, this.chunks[this.chunks.length - 1]);
    return this;
  }

  /** The chunk holding row `i` (its index there is `i & MASK`). */
  at(i: number): Chunk {
    return this.chunks[i >> SHIFT] as Chunk;
  }

  slot(i: number): number {
    return (this.chunks[i >> SHIFT] as Chunk).slot[i & MASK] as number;
  }

  offer(i: number): number {
    return (this.chunks[i >> SHIFT] as Chunk).offer[i & MASK] as number;
  }
}

/**
 * A whole plan (spec/matching.md), held compactly: one row per proposal in
 * plan order, with what is needed to write the proposal and its reasons on
 * demand. At national scale (100,000 needs × 5,000 offers, about three
 * million proposals) the plan fits in a few hundred megabytes where the
 * written proposals would not; a node serves pages of it.
 *
 * @example
 * const p = plan(state);
 * const page = p.select({ region: '4201' }).slice(0, 500).map((i) => p.proposal(i));
 */
export class Plan {
  /** Number of proposals in the plan. */
  readonly size: number;
  /** The state's clock the plan was made at. */
  readonly clock: number;
  private sorted: Int32Array | undefined;

  /** @internal */
  constructor(
    private readonly offers: OfferPlan[],
    private readonly slots: Slot[],
    private readonly scales: Scale[],
    private readonly rows: Rows,
    private readonly transit: TransitTable,
    clock: number,
    /** Number of offers in the state (idRank < this). */
    private readonly offerCount: number,
  ) {
    this.size = rows.n;
    this.clock = clock;
  }

  /** Row indices in output order (urgency, neededBy, need id, offer id), computed once. */
  order(): Int32Array {
    if (this.sorted !== undefined) return this.sorted;
    const n = this.size;
    const nOffers = Math.max(1, this.offerCount);
    const out = new Int32Array(n);
    // One numeric key per row when it fits in a double exactly: (slot order × offers + offer rank) × rows + row.
    let maxOut = 0;
    const outOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const o = (this.slots[this.rows.slot(i)] as Slot).out;
      outOf[i] = o;
      if (o > maxOut) maxOut = o;
    }
    if ((maxOut + 1) * nOffers * n < 2 ** 53) {
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const o = this.offers[this.rows.offer(i)] as OfferPlan;
        keys[i] = ((outOf[i] as number) * nOffers + o.idRank) * n + i;
      }
      keys.sort();
      for (let i = 0; i < n; i++) out[i] = (keys[i] as number) % n;
    } else {
      const idx = Array.from({ length: n }, (_, i) => i);
      idx.sort(
        (a, b) =>
          (outOf[a] as number) - (outOf[b] as number) ||
          (this.offers[this.rows.offer(a)] as OfferPlan).idRank - (this.offers[this.rows.offer(b)] as OfferPlan).idRank,
      );
      out.set(idx);
    }
    this.sorted = out;
    return out;
  }

  /**
   * Row indices, in output order, of the proposals that pass every filter
   * (spec/matching.md §Filters). Without a filter, the plan's own order (not a
   * copy: do not write to it).
   */
  select(f: MatchFilters | undefined): Int32Array {
    const order = this.order();
    if (f === undefined || (f.region === undefined && f.item === undefined && f.urgency === undefined && f.offers === undefined && f.needs === undefined))
      return order;
    let out = new Int32Array(Math.min(order.length, 1024));
    let count = 0;
    const urg = f.urgency === undefined ? undefined : Array.isArray(f.urgency) ? f.urgency : [f.urgency];
    const offers = f.offers === undefined ? undefined : new Set(f.offers);
    const needs = f.needs === undefined ? undefined : new Set(f.needs);
    for (let k = 0; k < order.length; k++) {
      const i = order[k] as number;
      const n = (this.slots[this.rows.slot(i)] as Slot).need;
      if (f.region !== undefined && !n.region.startsWith(f.region)) continue;
      if (f.item !== undefined && n.item.code !== f.item) continue;
      if (urg !== undefined && !urg.includes(n.urgency)) continue;
      if (offers !== undefined && !offers.has((this.offers[this.rows.offer(i)] as OfferPlan).offer.id)) continue;
      if (needs !== undefined && !needs.has(n.id)) continue;
      if (count === out.length) {
        const more = new Int32Array(Math.min(order.length, out.length * 2));
        more.set(out);
        out = more;
      }
      out[count++] = i;
    }
    return out.slice(0, count);
  }

  /** The proposal of row `i`, written out with its reasons. */
  proposal(i: number): Proposal {
    const c = this.rows.at(i);
    const k = i & MASK;
    const offer = (this.offers[c.offer[k] as number] as OfferPlan).offer;
    const slot = this.slots[c.slot[k] as number] as Slot;
    const scale = this.scales[c.scale[k] as number] as Scale;
    const n = slot.need;
    const before = c.before[k] as number;
    const quantity = c.quantity[k] as number;
    const arrival = c.arrival[k] as number;
    const flags = c.flags[k] as number;
    const level = c.level[k] as number;
    const onTime = arrival <= slot.neededByMs;
    const after = before + quantity;
    return {
      offer: offer.id,
      need: n.id,
      signer: offer.hub,
      requester: n.requester.name,
      donor: offer.donor.name,
      itemName: n.item.name,
      quantity,
      unit: n.unit.base,
      offerQuantity: (c.amount[k] as number) / scale.offer,
      offerUnit: offer.unit.base,
      item: n.item.code,
      urgency: n.urgency,
      region: n.region,
      neededBy: n.neededBy,
      arrival: iso(arrival),
      onTime,
      coverage: { before: before / slot.quantity, after: after / slot.quantity },
      limit: flags & CAPPED ? 'need' : 'offer',
      reasons: explain({
        offer,
        need: n,
        members: slot.members,
        scale,
        arrival,
        onTime,
        round: c.round[k] as number,
        rounds: ROUNDS,
        demand: slot.quantity,
        before,
        quantity,
        capped: (flags & CAPPED) !== 0,
        bonus: (flags & BONUS) !== 0,
        level: Number.isNaN(level) ? undefined : level,
        competing: c.competing[k] as number,
        lot: scale.lot,
        transit: this.transit,
        clock: this.clock,
      }),
    };
  }
}

/**
 * Proposes allocations for a resolved state (spec/matching.md). The result
 * depends only on `state` and `opts`: never on the local clock or on the
 * order of keys in the state's maps.
 *
 * @example
 * const proposals = propose(resolver.state(), { filters: { region: '4201' } });
 * for (const p of proposals) author.sign('allocation', allocationBody(p));
 */
export function propose(state: ResolvedState, opts: MatchOptions = {}): Proposal[] {
  const p = plan(state, opts);
  return Array.from(p.select(opts.filters), (i) => p.proposal(i));
}

/**
 * Plans the whole state (filters in `opts` are ignored: they select from a
 * plan, see Plan.select). Same plan as propose(), kept compact.
 *
 * @example const p = plan(state); p.size // number of proposals
 */
export function plan(state: ResolvedState, opts: Omit<MatchOptions, 'filters'> = {}): Plan {
  const transit: TransitTable = { ...DEFAULT_TRANSIT, ...opts.transit };
  const units = new Units(opts.catalogue);
  const clock = state.clock;
  const dups = duplicateGroups(state);

  // Needs that can still receive, one slot each (a duplicate group by its representative), in id order.
  const slots: Slot[] = [];
  for (const id of Object.keys(state.needs).sort(cmpStr)) {
    const need = state.needs[id] as NeedState;
    if (!needIsOpen(need)) continue;
    const members = dups.get(id);
    if (members !== undefined && representative(state, members) !== id) continue;
    const gap = groupGap(state, need, members);
    if (gap.covered >= gap.quantity) continue;
    slots.push({
      need,
      members,
      quantity: gap.quantity,
      covered: gap.covered,
      neededByMs: timestampMs(need.neededBy),
      r4: need.region.slice(0, 4),
      r2: need.region.slice(0, 2),
      out: 0,
    });
  }
  // The hot loops read columns of small integers instead of strings (offers × needs of an item can be tens of millions of pairs).
  const nS = slots.length;
  const ids = new Map<string, number>();
  const intern = (x: string) => {
    let v = ids.get(x);
    if (v === undefined) {
      v = ids.size;
      ids.set(x, v);
    }
    return v;
  };
  const cov = new Float64Array(nS);
  const qty = new Float64Array(nS);
  const due = new Float64Array(nS);
  const grp = new Int32Array(nS);
  const pur = new Int32Array(nS);
  const unit = new Int32Array(nS);
  const urg = new Int32Array(nS);
  const r6 = new Int32Array(nS);
  const r4 = new Int32Array(nS);
  const r2 = new Int32Array(nS);
  const rank = new Int32Array(nS);
  const stamps = new Int32Array(nS).fill(-1);
  // Slot lists by item code, urgency and region prefix ('' or 2, 4, 6 characters), each in round order (neededBy, need id).
  const lists = new Map<string, number[]>();
  const add = (key: string, i: number) => {
    const list = lists.get(key);
    if (list) list.push(i);
    else lists.set(key, [i]);
  };
  for (let i = 0; i < nS; i++) {
    const slot = slots[i] as Slot;
    const n = slot.need;
    cov[i] = slot.covered;
    qty[i] = slot.quantity;
    due[i] = slot.neededByMs;
    grp[i] = intern(`g:${n.beneficiaries.group}`);
    pur[i] = n.purpose === undefined ? -1 : intern(`p:${n.purpose}`);
    unit[i] = intern(`u:${n.unit.base}`);
    urg[i] = URGENCY_RANK[n.urgency];
    r6[i] = intern(`r:${n.region}`);
    r4[i] = intern(`r:${slot.r4}`);
    r2[i] = intern(`r:${slot.r2}`);
  }
  const inRoundOrder = Array.from({ length: nS }, (_, i) => i).sort(
    (a, b) => cmpStr((slots[a] as Slot).need.item.code, (slots[b] as Slot).need.item.code) || cmpSlot(slots[a] as Slot, slots[b] as Slot),
  );
  for (let k = 0; k < nS; k++) {
    const i = inRoundOrder[k] as number;
    rank[i] = k;
    const n = (slots[i] as Slot).need;
    const head = `${n.item.code}\u0000${urg[i]}\u0000`;
    add(head, i);
    for (let len = 2; len <= 6 && len <= n.region.length; len += 2) add(head + n.region.slice(0, len), i);
  }
  {
    const byOut = slots.slice().sort((a, b) => URGENCY_RANK[a.need.urgency] - URGENCY_RANK[b.need.urgency] || cmpSlot(a, b));
    for (let k = 0; k < byOut.length; k++) (byOut[k] as Slot).out = k;
  }

  // The eligible needs (H1, H2, H5, H6 with a positive gap) of an offer and one urgency, in round order; scales by unit id into `sc`.
  let sc: (Scale | null | undefined)[] = [];
  let visit = 0;
  const allowed = (xs: readonly string[] | undefined, tag: string): Uint8Array | undefined => {
    if (xs === undefined) return undefined;
    const a = new Uint8Array(ids.size + 1);
    for (const x of xs) {
      const v = ids.get(`${tag}:${x}`);
      if (v !== undefined) a[v] = 1;
    }
    return a;
  };
  const EMPTY: number[] = [];
  /** Counts the eligible needs of urgency `u`; pushes them to `out` unless it is undefined. */
  const scan = (offer: OfferState, untilMs: number, u: number, out: number[] | undefined): number => {
    const { regions } = offer.intent;
    const head = `${offer.item.code}\u0000${u}\u0000`;
    const sources: number[][] = [];
    if (regions === undefined) sources.push(lists.get(head) ?? EMPTY);
    else
      for (const p of regions) {
        const l = Math.min(6, p.length & ~1);
        const src = lists.get(head + p.slice(0, l));
        if (src !== undefined) sources.push(src);
      }
    if (sources.length === 0) return 0;
    const groups = allowed(offer.intent.groups, 'g');
    const purposes = allowed(offer.intent.purposes, 'p');
    // One prefix of 2, 4 or 6 characters: its list holds exactly the needs it allows.
    const checkRegion = regions !== undefined && !(regions.length === 1 && [2, 4, 6].includes((regions[0] as string).length));
    const stamp = visit++;
    let count = 0;
    for (const src of sources)
      for (let k = 0; k < src.length; k++) {
        const i = src[k] as number;
        if (stamps[i] === stamp) continue;
        // intentBreach (rules.ts) on interned values, with the timestamps parsed once.
        if (groups !== undefined && groups[grp[i] as number] !== 1) continue;
        if (purposes !== undefined && ((pur[i] as number) < 0 || purposes[pur[i] as number] !== 1)) continue;
        if ((due[i] as number) > untilMs) continue;
        if (checkRegion && !startsWithAny((slots[i] as Slot).need.region, regions as readonly string[])) continue;
        const un = unit[i] as number;
        let scale = sc[un];
        if (scale === undefined) {
          scale = units.scale(offer, (slots[i] as Slot).need) ?? null;
          sc[un] = scale;
        }
        if (scale === null) continue;
        stamps[i] = stamp;
        count++;
        out?.push(i);
      }
    if (out !== undefined && sources.length > 1 && out.length > 1) out.sort((a, b) => (rank[a] as number) - (rank[b] as number));
    return count;
  };

  const offerIds = Object.keys(state.offers).sort(cmpStr);
  const plans: OfferPlan[] = [];
  for (let r = 0; r < offerIds.length; r++) {
    const offer = state.offers[offerIds[r] as string] as OfferState;
    if (!offerIsOpen(offer, clock)) continue;
    const validUntil = offer.intent.validUntil;
    const untilMs = validUntil === undefined ? Number.POSITIVE_INFINITY : timestampMs(validUntil);
    sc = [];
    let count = 0;
    for (let u = 0; u < 4; u++) count += scan(offer, untilMs, u, undefined);
    if (count === 0) continue;
    plans.push({ offer, idRank: r, validUntilMs: untilMs, departs: departure(offer, clock), count });
  }
  // Most restricted supply first, so that it goes where only it can go (spec/matching.md §Order of offers).
  plans.sort(
    (a, b) =>
      a.count - b.count ||
      a.validUntilMs - b.validUntilMs ||
      a.offer.hlc.ms - b.offer.hlc.ms ||
      a.offer.hlc.c - b.offer.hlc.c ||
      cmpStr(a.offer.id, b.offer.id),
  );

  const rows = new Rows();
  const scales: Scale[] = [];
  let scaleIds: number[] = [];
  const rounds: number[][] = Array.from({ length: ROUNDS }, () => []);
  const arrivals = new Float64Array(nS);
  const found: number[] = [];
  const cQ = new Float64Array(nS);
  const cC = new Float64Array(nS);
  const cCap = new Float64Array(nS);
  const cLot = new Float64Array(nS);
  const claimCols = { quantity: cQ, covered: cC, cap: cCap, lot: cLot };
  const hoursBy = [transit.sameCounty, transit.samePrefecture, transit.sameProvince, transit.otherProvince];
  for (let pi = 0; pi < plans.length; pi++) {
    const plan = plans[pi] as OfferPlan;
    const { offer, departs } = plan;
    let left = offer.available;
    sc = [];
    scaleIds = [];
    // hoursBetween (rules.ts) on interned prefixes; a region never interned matches no need's.
    const o6 = ids.get(`r:${offer.region}`) ?? -1;
    const o4 = ids.get(`r:${offer.region.slice(0, 4)}`) ?? -1;
    const o2 = ids.get(`r:${offer.region.slice(0, 2)}`) ?? -1;
    for (const r of rounds) r.length = 0;
    // Urgency u's needs fill rounds u (on time) and u + 4 (late), scanned when round u is reached: most offers run out in the first rounds.
    const fill = (u: number) => {
      found.length = 0;
      scan(offer, plan.validUntilMs, u, found);
      for (let k = 0; k < found.length; k++) {
        const i = found[k] as number;
        const rel = r6[i] === o6 ? 0 : r4[i] === o4 ? 1 : r2[i] === o2 ? 2 : 3;
        const arrival = departs + (hoursBy[rel] as number) * HOUR_MS;
        arrivals[i] = arrival;
        // A slot is in one round only, so a gap closed in an earlier round of this offer is never one of this round's.
        if ((cov[i] as number) >= (qty[i] as number)) continue;
        (rounds[(arrival <= (due[i] as number) ? 0 : 4) + u] as number[]).push(i);
      }
    };
    for (let r = 0; r < ROUNDS && left > 0; r++) {
      if (r < 4) fill(r);
      const list = rounds[r] as number[];
      if (list.length === 0) continue;
      // Every candidate of one offer shares the offer's scale (see Units.scale), so one supply figure serves all claims.
      const so = (sc[unit[list[0] as number] as number] as Scale).offer;
      let competing = 0;
      for (let j = 0; j < list.length; j++) {
        const i = list[j] as number;
        const scale = sc[unit[i] as number] as Scale;
        const q = qty[i] as number;
        const c = cov[i] as number;
        const gap = (q - c) * scale.need;
        const cap = Math.floor(gap / scale.lot) * scale.lot;
        if (cap > 0) competing++;
        cQ[j] = q * scale.need;
        cC[j] = c * scale.need;
        cCap[j] = cap;
        cLot[j] = scale.lot;
      }
      const div = divide(claimCols, list.length, left * so);
      const level = div.level === undefined ? Number.NaN : div.level;
      for (let j = 0; j < list.length; j++) {
        const amount = div.amounts[j] as number;
        if (amount <= 0) continue;
        const i = list[j] as number;
        const scale = sc[unit[i] as number] as Scale;
        const quantity = amount / scale.need;
        const u = unit[i] as number;
        let sid = scaleIds[u];
        if (sid === undefined) {
          sid = scales.length;
          scales.push(scale);
          scaleIds[u] = sid;
        }
        rows.add(
          pi,
          i,
          sid,
          r,
          (div.capped[j] ? CAPPED : 0) | (div.bonus[j] ? BONUS : 0),
          competing,
          cov[i] as number,
          quantity,
          amount,
          arrivals[i] as number,
          level,
        );
        cov[i] = (cov[i] as number) + quantity;
        left -= amount / scale.offer;
      }
    }
  }
  return new Plan(plans, slots, scales, rows.trim(), transit, clock, offerIds.length);
}

import { timestampMs, type Urgency } from '@shuniu/protocol';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import type { Catalogue, TransitTable } from './types.js';

/** spec/matching.md §Arrival: hours, chosen for road transport under the 2020 lockdown passes. */
export const DEFAULT_TRANSIT: TransitTable = { sameCounty: 6, samePrefecture: 12, sameProvince: 24, otherProvince: 72 };

export const URGENCY_RANK: Record<Urgency, number> = { critical: 0, high: 1, normal: 2, low: 3 };
export const URGENCIES: readonly Urgency[] = ['critical', 'high', 'normal', 'low'];

const HOUR_MS = 3_600_000;

/** Code-unit order, the same in every language (never localeCompare). */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Statuses a need may still receive goods in (spec/matching.md §Hard rules H5). */
export function needIsOpen(n: NeedState): boolean {
  return n.closed === undefined && (n.status === 'open' || n.status === 'partly_allocated' || n.status === 'allocated' || n.status === 'partly_delivered');
}

/**
 * What a need already has, in its base units. Shipments carry goods for the
 * need's allocations, so in-transit and received goods are part of
 * `allocated`; the maximum guards against goods shipped or delivered beyond
 * the allocations (spec/matching.md §Gap).
 */
export function covered(n: NeedState): number {
  return Math.max(n.allocated, n.inTransit + n.received, n.delivered, 0);
}

/** An offer may give only while not withdrawn or expired, and before its donor's validUntil (H5, H1d). */
export function offerIsOpen(o: OfferState, clock: number): boolean {
  if (o.status === 'withdrawn' || o.status === 'expired' || o.withdrawn !== undefined) return false;
  if (o.intent.validUntil !== undefined && timestampMs(o.intent.validUntil) <= clock) return false;
  return o.available > 0;
}

export type IntentBreach = 'intent_region' | 'intent_group' | 'intent_purpose' | 'intent_valid_until';

/**
 * The donor-intent rule H1 (spec/matching.md): a constraint that is present
 * restricts, an empty list allows nothing, a missing one allows everything.
 */
export function intentBreach(o: OfferState, n: NeedState): IntentBreach | undefined {
  const { regions, groups, purposes, validUntil } = o.intent;
  if (regions !== undefined && !regions.some((p) => n.region.startsWith(p))) return 'intent_region';
  if (groups !== undefined && !groups.includes(n.beneficiaries.group)) return 'intent_group';
  if (purposes !== undefined && (n.purpose === undefined || !(purposes as string[]).includes(n.purpose))) return 'intent_purpose';
  if (validUntil !== undefined && timestampMs(n.neededBy) > timestampMs(validUntil)) return 'intent_valid_until';
  return undefined;
}

/** Sizes of the offer's and the need's base units in a common unit, or undefined if they cannot be matched (H2). */
export interface Scale {
  offer: number;
  need: number;
  /** Smallest amount, in the common unit, that is a whole number of both base units. */
  lot: number;
  common: string;
}

export class Units {
  private readonly items = new Map<string, { base: string; units: Map<string, number> }>();

  constructor(catalogue?: Catalogue) {
    for (const it of catalogue?.items ?? []) {
      const units = new Map<string, number>([[it.base, 1]]);
      for (const [name, size] of Object.entries(it.units ?? {})) {
        if (!Number.isSafeInteger(size) || size < 1)
          throw new RangeError(`catalogue: unit ${name} of ${it.code} must hold a positive whole number of ${it.base}`);
        if (name !== it.base) units.set(name, size);
      }
      if (this.items.has(it.code)) throw new RangeError(`catalogue: item ${it.code} listed twice`);
      this.items.set(it.code, { base: it.base, units });
    }
  }

  /**
   * H2: same item code, and both base units in the catalogue entry of that
   * code (measured in its base) or, failing that, the same base unit. All the
   * needs an offer can serve are then measured in one common unit.
   */
  scale(o: OfferState, n: NeedState): Scale | undefined {
    if (o.item.code !== n.item.code) return undefined;
    const it = this.items.get(n.item.code);
    const so = it?.units.get(o.unit.base);
    const sn = it?.units.get(n.unit.base);
    if (it !== undefined && so !== undefined && sn !== undefined) return { offer: so, need: sn, lot: lcm(so, sn), common: it.base };
    if (o.unit.base === n.unit.base && so === undefined) return { offer: 1, need: 1, lot: 1, common: n.unit.base };
    return undefined;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

/** When the goods can leave (spec/matching.md §Arrival): the later of the state clock and the offer's availableFrom. */
export function departure(o: OfferState, clock: number): number {
  return o.availableFrom !== undefined ? Math.max(clock, timestampMs(o.availableFrom)) : clock;
}

/** Transit hours between two GB/T 2260 codes by the longest common prefix of 6, 4 or 2 digits. */
export function hoursBetween(from: string, to: string, transit: TransitTable): number {
  if (from === to) return transit.sameCounty;
  if (from.slice(0, 4) === to.slice(0, 4)) return transit.samePrefecture;
  if (from.slice(0, 2) === to.slice(0, 2)) return transit.sameProvince;
  return transit.otherProvince;
}

/** Estimated arrival in ms: departure plus transit hours. */
export function arrivalMs(o: OfferState, n: NeedState, clock: number, transit: TransitTable): number {
  return departure(o, clock) + hoursBetween(o.region, n.region, transit) * HOUR_MS;
}

/**
 * Duplicate groups (spec/matching.md §Duplicates): the connected components
 * of the needs named together by `duplicate_need` conflicts. Returns need id
 * → sorted member ids, for needs in a group of two or more.
 */
export function duplicateGroups(state: ResolvedState): Map<string, string[]> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    let y = x;
    while (y !== r) {
      const next = parent.get(y) as string;
      parent.set(y, r);
      y = next;
    }
    return r;
  };
  const ids = Object.keys(state.conflicts).sort(cmpStr);
  for (const cid of ids) {
    const c = state.conflicts[cid];
    if (c === undefined || c.rule !== 'duplicate_need') continue;
    const subject = cid.slice(0, cid.indexOf('/'));
    const members = [...new Set([subject, ...c.records])].filter((id) => state.needs[id] !== undefined).sort(cmpStr);
    for (const m of members) if (!parent.has(m)) parent.set(m, m);
    for (let i = 1; i < members.length; i++) {
      const a = find(members[0] as string);
      const b = find(members[i] as string);
      if (a !== b) parent.set(cmpStr(a, b) < 0 ? b : a, cmpStr(a, b) < 0 ? a : b);
    }
  }
  const byRoot = new Map<string, string[]>();
  for (const id of [...parent.keys()].sort(cmpStr)) {
    const r = find(id);
    const list = byRoot.get(r) ?? [];
    list.push(id);
    byRoot.set(r, list);
  }
  const out = new Map<string, string[]>();
  for (const list of byRoot.values()) if (list.length > 1) for (const id of list) out.set(id, list);
  return out;
}

/** The member of a duplicate group that is matched: the earliest posted open need (hlc, then id). */
export function representative(state: ResolvedState, members: string[]): string | undefined {
  let best: NeedState | undefined;
  for (const id of members) {
    const n = state.needs[id];
    if (n === undefined || !needIsOpen(n)) continue;
    if (best === undefined || n.hlc.ms < best.hlc.ms || (n.hlc.ms === best.hlc.ms && (n.hlc.c < best.hlc.c || (n.hlc.c === best.hlc.c && n.id < best.id))))
      best = n;
  }
  return best?.id;
}

/** A need's gap, for its duplicate group: the representative's quantity less what every open member already has. */
export function groupGap(state: ResolvedState, rep: NeedState, members: string[] | undefined): { quantity: number; covered: number } {
  if (members === undefined) return { quantity: rep.quantity, covered: covered(rep) };
  let c = 0;
  for (const id of members) {
    const n = state.needs[id];
    // The resolver flags duplicates of one item; a member counted in another unit is left out rather than guessed.
    if (n !== undefined && needIsOpen(n) && n.item.code === rep.item.code && n.unit.base === rep.unit.base) c += covered(n);
  }
  return { quantity: rep.quantity, covered: c };
}

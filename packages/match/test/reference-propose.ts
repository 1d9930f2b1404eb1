/**
 * The engine as it was before the plan was made compact and indexed (issue 11
 * point 5): kept verbatim as the reference the differential test compares the
 * optimized propose() with. Not exported.
 */
import { formatTimestamp, timestampMs } from '@shuniu/protocol';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { explain } from '../src/reasons.js';
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
} from '../src/rules.js';
import type { MatchFilters, MatchOptions, Proposal, TransitTable } from '../src/types.js';
import { type Claim, waterfill } from './reference-waterfill.js';

/** A need (or the representative of a duplicate group) that still lacks goods. */
interface Slot {
  need: NeedState;
  members: string[] | undefined;
  quantity: number;
  /** Base units of the need, updated as the plan proceeds. */
  covered: number;
  neededByMs: number;
  r4: string;
  r2: string;
}

interface Candidate {
  slot: Slot;
  scale: Scale;
  arrival: number;
  onTime: boolean;
  /** 0–3 on time by urgency, 4–7 late by urgency (spec/matching.md §Order). */
  round: number;
}

interface OfferPlan {
  offer: OfferState;
  validUntilMs: number;
  cands: Candidate[];
}

const ROUNDS = 8;
const HOUR_MS = 3_600_000;

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
  const transit: TransitTable = { ...DEFAULT_TRANSIT, ...opts.transit };
  const units = new Units(opts.catalogue);
  const clock = state.clock;
  const dups = duplicateGroups(state);

  const byCode = new Map<string, Slot[]>();
  for (const id of Object.keys(state.needs).sort(cmpStr)) {
    const need = state.needs[id] as NeedState;
    if (!needIsOpen(need)) continue;
    const members = dups.get(id);
    if (members !== undefined && representative(state, members) !== id) continue;
    const gap = groupGap(state, need, members);
    if (gap.covered >= gap.quantity) continue;
    const slot: Slot = {
      need,
      members,
      quantity: gap.quantity,
      covered: gap.covered,
      neededByMs: timestampMs(need.neededBy),
      r4: need.region.slice(0, 4),
      r2: need.region.slice(0, 2),
    };
    const list = byCode.get(need.item.code);
    if (list) list.push(slot);
    else byCode.set(need.item.code, [slot]);
  }

  const plans: OfferPlan[] = [];
  for (const id of Object.keys(state.offers).sort(cmpStr)) {
    const offer = state.offers[id] as OfferState;
    if (!offerIsOpen(offer, clock)) continue;
    const cands: Candidate[] = [];
    const { regions, groups, purposes, validUntil } = offer.intent;
    const untilMs = validUntil === undefined ? Number.POSITIVE_INFINITY : timestampMs(validUntil);
    const departs = departure(offer, clock);
    const or4 = offer.region.slice(0, 4);
    const or2 = offer.region.slice(0, 2);
    const scales = new Map<string, Scale | null>();
    for (const slot of byCode.get(offer.item.code) ?? []) {
      // intentBreach (rules.ts) inlined with the timestamps parsed once.
      const n = slot.need;
      if (regions !== undefined && !startsWithAny(n.region, regions)) continue;
      if (groups !== undefined && !groups.includes(n.beneficiaries.group)) continue;
      if (purposes !== undefined && (n.purpose === undefined || !(purposes as string[]).includes(n.purpose))) continue;
      if (slot.neededByMs > untilMs) continue;
      let scale = scales.get(n.unit.base);
      if (scale === undefined) {
        scale = units.scale(offer, n) ?? null;
        scales.set(n.unit.base, scale);
      }
      if (scale === null) continue;
      // hoursBetween (rules.ts) on prefixes cut once.
      const hours =
        n.region === offer.region
          ? transit.sameCounty
          : slot.r4 === or4
            ? transit.samePrefecture
            : slot.r2 === or2
              ? transit.sameProvince
              : transit.otherProvince;
      const arrival = departs + hours * HOUR_MS;
      const onTime = arrival <= slot.neededByMs;
      cands.push({ slot, scale, arrival, onTime, round: (onTime ? 0 : 4) + URGENCY_RANK[slot.need.urgency] });
    }
    if (cands.length === 0) continue;
    plans.push({ offer, validUntilMs: untilMs, cands });
  }
  // Most restricted supply first, so that it goes where only it can go (spec/matching.md §Order of offers).
  plans.sort(
    (a, b) =>
      a.cands.length - b.cands.length ||
      a.validUntilMs - b.validUntilMs ||
      a.offer.hlc.ms - b.offer.hlc.ms ||
      a.offer.hlc.c - b.offer.hlc.c ||
      cmpStr(a.offer.id, b.offer.id),
  );

  const out: Proposal[] = [];
  for (const plan of plans) {
    const { offer } = plan;
    let left = offer.available;
    const rounds: Candidate[][] = Array.from({ length: ROUNDS }, () => []);
    for (const c of plan.cands) (rounds[c.round] as Candidate[]).push(c);
    for (let r = 0; r < ROUNDS && left > 0; r++) {
      const list = (rounds[r] as Candidate[]).filter((c) => c.slot.covered < c.slot.quantity);
      if (list.length === 0) continue;
      list.sort((a, b) => a.slot.neededByMs - b.slot.neededByMs || cmpStr(a.slot.need.id, b.slot.need.id));
      // Every candidate of one offer shares the offer's scale (see Units.scale), so one supply figure serves all claims.
      const so = (list[0] as Candidate).scale.offer;
      const claims: Claim[] = list.map(({ slot, scale }) => {
        const gap = (slot.quantity - slot.covered) * scale.need;
        return { quantity: slot.quantity * scale.need, covered: slot.covered * scale.need, cap: Math.floor(gap / scale.lot) * scale.lot, lot: scale.lot };
      });
      const div = waterfill(claims, left * so);
      const competing = claims.filter((c) => c.cap > 0).length;
      for (let i = 0; i < list.length; i++) {
        const amount = div.amounts[i] as number;
        if (amount <= 0) continue;
        const c = list[i] as Candidate;
        const quantity = amount / c.scale.need;
        const offerQuantity = amount / c.scale.offer;
        const before = c.slot.covered;
        c.slot.covered += quantity;
        left -= offerQuantity;
        out.push({
          offer: offer.id,
          need: c.slot.need.id,
          signer: offer.hub,
          requester: c.slot.need.requester.name,
          donor: offer.donor.name,
          itemName: c.slot.need.item.name,
          quantity,
          unit: c.slot.need.unit.base,
          offerQuantity,
          offerUnit: offer.unit.base,
          item: c.slot.need.item.code,
          urgency: c.slot.need.urgency,
          region: c.slot.need.region,
          neededBy: c.slot.need.neededBy,
          arrival: iso(c.arrival),
          onTime: c.onTime,
          coverage: { before: before / c.slot.quantity, after: c.slot.covered / c.slot.quantity },
          limit: div.capped[i] ? 'need' : 'offer',
          reasons: explain({
            offer,
            need: c.slot.need,
            members: c.slot.members,
            scale: c.scale,
            arrival: c.arrival,
            onTime: c.onTime,
            round: r,
            rounds: ROUNDS,
            demand: c.slot.quantity,
            before,
            quantity,
            capped: div.capped[i] === true,
            bonus: div.bonus[i] === true,
            level: div.level,
            competing,
            lot: (claims[i] as Claim).lot,
            transit,
            clock,
          }),
        });
      }
    }
  }
  const due = new Map<string, number>();
  for (const p of out) if (!due.has(p.neededBy)) due.set(p.neededBy, timestampMs(p.neededBy));
  return applyFilters(out, opts.filters).sort(
    (a, b) =>
      URGENCY_RANK[a.urgency] - URGENCY_RANK[b.urgency] ||
      (due.get(a.neededBy) as number) - (due.get(b.neededBy) as number) ||
      cmpStr(a.need, b.need) ||
      cmpStr(a.offer, b.offer),
  );
}

function applyFilters(list: Proposal[], f: MatchFilters | undefined): Proposal[] {
  if (f === undefined) return list;
  const urg = f.urgency === undefined ? undefined : Array.isArray(f.urgency) ? f.urgency : [f.urgency];
  const offers = f.offers === undefined ? undefined : new Set(f.offers);
  const needs = f.needs === undefined ? undefined : new Set(f.needs);
  return list.filter(
    (p) =>
      (f.region === undefined || p.region.startsWith(f.region)) &&
      (f.item === undefined || p.item === f.item) &&
      (urg === undefined || urg.includes(p.urgency)) &&
      (offers === undefined || offers.has(p.offer)) &&
      (needs === undefined || needs.has(p.need)),
  );
}

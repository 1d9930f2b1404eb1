import { formatTimestamp, timestampMs, type Urgency } from '@shuniu/protocol';
import type { NeedState, OfferState } from '@shuniu/resolve';
import type { Scale } from './rules.js';
import type { TransitTable } from './types.js';

/**
 * The reason codes of spec/matching.md §9, in the order a proposal lists
 * them. Each reason is a code and its parameters; `message` is an English
 * rendering for logs and the CLI. Clients render the code and parameters in
 * their own language.
 */
export const REASON_CODES = [
  'priority',
  'intent',
  'arrival.on_time',
  'arrival.late',
  'duplicate.representative',
  'unit.converted',
  'quantity.fills_gap',
  'quantity.fair_share',
  'quantity.remainder',
  'quantity.lot',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** How far the goods travel: the longest common prefix of the offer's and the need's region codes (§6). */
export type Relation = 'same_county' | 'same_prefecture' | 'same_province' | 'other_province';

export interface ArrivalParams {
  /** The offer's availableFrom when it is after the state clock (the goods wait for it); absent: available now. */
  availableFrom?: string;
  relation: Relation;
  /** Transit hours for the relation. */
  hours: number;
  /** Estimated arrival (RFC 3339). */
  arrival: string;
  neededBy: string;
}

/** The parameters of each reason code (spec/matching.md §9). Shares (`before`, `after`, `level`) are fractions of the need, 0 to 1. */
export interface ReasonParams {
  priority: { urgency: Urgency; onTime: boolean; round: number; rounds: number };
  /**
   * One member per restriction the donor set, absent when not set (an empty
   * object: no restriction). `region` with `within`: the need's region and
   * the allowed prefixes it lies in; `group`, `purpose`: the need's; `neededBy`
   * with `validUntil`: the need falls due within the donor's period.
   */
  intent: { region?: string; within?: string[]; group?: string; purpose?: string; neededBy?: string; validUntil?: string };
  'arrival.on_time': ArrivalParams;
  'arrival.late': ArrivalParams;
  /** The other members of the need's duplicate group, whose allocations count toward its gap. */
  'duplicate.representative': { others: string[] };
  /** One `offerUnit` is `offerSize` `common` units; one `needUnit` is `needSize`. */
  'unit.converted': { item: string; offerUnit: string; offerSize: number; needUnit: string; needSize: number; common: string };
  /** The need's remaining gap (`unit`, its base unit) and what it gets: all of it when `quantity` = `gap`, else the whole lots of `lot` `common` units that fit. */
  'quantity.fills_gap': { gap: number; quantity: number; unit: string; lot: number; common: string; before: number; after: number };
  /** Supply short in round `round`: `competing` needs raised to the share `level`. */
  'quantity.fair_share': { round: number; competing: number; level: number; before: number; after: number };
  'quantity.remainder': { lot: number; common: string };
  'quantity.lot': { lot: number; common: string };
}

/** A reason as code and parameters (what a client renders). */
export type ReasonData = { [K in ReasonCode]: { code: K; params: ReasonParams[K] } }[ReasonCode];

/** A reason: its code, its parameters and an English message made from them. */
export type Reason = ReasonData & { message: string };

const RELATION_TEXT: Record<Relation, string> = {
  same_county: 'same county',
  same_prefecture: 'same prefecture',
  same_province: 'same province',
  other_province: 'other province',
};

/** A share as a percentage, rounded down to 0.1 % (never shows a need covered that is not). */
export const pct = (x: number): string => `${(Math.floor(x * 1000) / 10).toString()}%`;

/**
 * The English message of a reason, made from its code and parameters only.
 *
 * @example reasonMessage({ code: 'quantity.lot', params: { lot: 50, common: 'piece' } }) // 'whole lots of 50 piece only'
 */
export function reasonMessage(x: ReasonData): string {
  switch (x.code) {
    case 'priority': {
      const p = x.params;
      return `${p.urgency} need, ${p.onTime ? 'reachable before its neededBy' : 'not reachable before its neededBy'}: round ${p.round} of ${p.rounds}`;
    }
    case 'intent': {
      const p = x.params;
      const parts: string[] = [];
      if (p.region !== undefined) parts.push(`region ${p.region} within ${(p.within ?? []).join(', ')}`);
      if (p.group !== undefined) parts.push(`group ${p.group}`);
      if (p.purpose !== undefined) parts.push(`purpose ${p.purpose}`);
      if (p.validUntil !== undefined) parts.push(`neededBy ${p.neededBy ?? ''} not after validUntil ${p.validUntil}`);
      return parts.length === 0 ? 'the donor set no restriction' : `donor intent allows it: ${parts.join('; ')}`;
    }
    case 'arrival.on_time':
    case 'arrival.late': {
      const p = x.params;
      const start = p.availableFrom !== undefined ? `available ${p.availableFrom}` : 'available now';
      return `${start}, ${RELATION_TEXT[p.relation]} (${p.hours} h): arrives ${p.arrival}, ${x.code === 'arrival.on_time' ? 'by' : 'after'} neededBy ${p.neededBy}`;
    }
    case 'duplicate.representative':
      return `matched once for likely duplicates ${x.params.others.join(', ')}; their allocations count toward the gap`;
    case 'unit.converted': {
      const p = x.params;
      return `1 ${p.offerUnit} = ${p.offerSize} ${p.common}, 1 ${p.needUnit} = ${p.needSize} ${p.common} (catalogue ${p.item})`;
    }
    case 'quantity.fills_gap': {
      const p = x.params;
      const whole = p.quantity === p.gap ? 'fills the remaining gap' : `gives the whole lots of ${p.lot} ${p.common} that fit the remaining gap`;
      return `${whole} of ${p.gap} ${p.unit}: coverage ${pct(p.before)} → ${pct(p.after)}`;
    }
    case 'quantity.fair_share': {
      const p = x.params;
      return `supply short in round ${p.round}: ${p.competing} competing needs raised to an equal coverage of ${pct(p.level)}; this need ${pct(p.before)} → ${pct(p.after)}`;
    }
    case 'quantity.remainder':
      return `one more lot of ${x.params.lot} ${x.params.common} from the largest remainders (ties: earlier neededBy, then need id)`;
    case 'quantity.lot':
      return `whole lots of ${x.params.lot} ${x.params.common} only`;
  }
}

function reason<K extends ReasonCode>(code: K, params: ReasonParams[K]): Reason {
  const data = { code, params } as ReasonData;
  return { ...data, message: reasonMessage(data) };
}

/** The relation of two GB/T 2260 codes by their longest common prefix of 6, 4 or 2 digits (§6). */
export function relation(from: string, to: string): Relation {
  if (from === to) return 'same_county';
  if (from.slice(0, 4) === to.slice(0, 4)) return 'same_prefecture';
  if (from.slice(0, 2) === to.slice(0, 2)) return 'same_province';
  return 'other_province';
}

/** What explain() needs to know about one proposal. */
export interface Explained {
  offer: OfferState;
  need: NeedState;
  /** The need's duplicate group (its representative included), if any. */
  members: string[] | undefined;
  scale: Scale;
  /** Estimated arrival, ms. */
  arrival: number;
  onTime: boolean;
  /** Round, 0-based; of `rounds`. */
  round: number;
  rounds: number;
  /** The need's (group's) demand and what it had before this proposal, base units of the need. */
  demand: number;
  before: number;
  quantity: number;
  capped: boolean;
  bonus: boolean;
  level: number | undefined;
  competing: number;
  lot: number;
  transit: TransitTable;
  clock: number;
}

/** The reasons of one proposal, in the order of spec/matching.md §9. */
export function explain(e: Explained): Reason[] {
  const n = e.need;
  const offer = e.offer;
  const out: Reason[] = [reason('priority', { urgency: n.urgency, onTime: e.onTime, round: e.round + 1, rounds: e.rounds })];
  const { regions, groups, purposes, validUntil } = offer.intent;
  const intent: ReasonParams['intent'] = {};
  if (regions !== undefined) {
    intent.region = n.region;
    intent.within = regions.filter((p) => n.region.startsWith(p));
  }
  if (groups !== undefined) intent.group = n.beneficiaries.group;
  if (purposes !== undefined) intent.purpose = n.purpose ?? '';
  if (validUntil !== undefined) {
    intent.neededBy = n.neededBy;
    intent.validUntil = validUntil;
  }
  out.push(reason('intent', intent));
  const rel = relation(offer.region, n.region);
  const hours = {
    same_county: e.transit.sameCounty,
    same_prefecture: e.transit.samePrefecture,
    same_province: e.transit.sameProvince,
    other_province: e.transit.otherProvince,
  }[rel];
  const arrival: ArrivalParams = {
    ...(offer.availableFrom !== undefined && timestampMs(offer.availableFrom) > e.clock ? { availableFrom: offer.availableFrom } : {}),
    relation: rel,
    hours,
    arrival: formatTimestamp(e.arrival),
    neededBy: n.neededBy,
  };
  out.push(reason(e.onTime ? 'arrival.on_time' : 'arrival.late', arrival));
  if (e.members !== undefined) out.push(reason('duplicate.representative', { others: e.members.filter((m) => m !== n.id) }));
  if (e.scale.offer !== 1 || e.scale.need !== 1)
    out.push(
      reason('unit.converted', {
        item: n.item.code,
        offerUnit: offer.unit.base,
        offerSize: e.scale.offer,
        needUnit: n.unit.base,
        needSize: e.scale.need,
        common: e.scale.common,
      }),
    );
  const before = e.before / e.demand;
  const after = (e.before + e.quantity) / e.demand;
  if (e.capped) {
    out.push(
      reason('quantity.fills_gap', {
        gap: e.demand - e.before,
        quantity: e.quantity,
        unit: n.unit.base,
        lot: e.lot,
        common: e.scale.common,
        before,
        after,
      }),
    );
  } else {
    out.push(reason('quantity.fair_share', { round: e.round + 1, competing: e.competing, level: e.level ?? 0, before, after }));
    if (e.bonus) out.push(reason('quantity.remainder', { lot: e.lot, common: e.scale.common }));
    if (e.lot > 1) out.push(reason('quantity.lot', { lot: e.lot, common: e.scale.common }));
  }
  return out;
}

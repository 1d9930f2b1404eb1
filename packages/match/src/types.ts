import type { Urgency } from '@shuniu/protocol';
import type { Reason } from './reasons.js';

/**
 * One catalogue item: its code, the base unit quantities of it are counted in
 * and how many base units each other unit holds (spec/matching.md §Units).
 *
 * @example { code: 'PPE.MASK.SURGICAL', base: 'piece', units: { box: 50, carton: 2000 } }
 */
export interface CatalogueItem {
  code: string;
  base: string;
  /** unit name → number of `base` units it holds (a positive integer). */
  units?: Record<string, number>;
  /** Codes of items that may be given where this one is needed (spec/catalogue.md §5): hints only, never proposals. */
  substitutes?: string[];
}

export interface Catalogue {
  items: CatalogueItem[];
}

/** Hours from an offer's region to a need's region (spec/matching.md §Arrival). */
export interface TransitTable {
  /** Same six-digit code (county or district). */
  sameCounty: number;
  /** Same first four digits (prefecture). */
  samePrefecture: number;
  /** Same first two digits (province). */
  sameProvince: number;
  otherProvince: number;
}

/** Filters select which proposals are returned; they never change the plan (spec/matching.md §Filters). */
export interface MatchFilters {
  /** GB/T 2260 prefix (2, 4 or 6 digits) the need's region must start with. */
  region?: string;
  /** Catalogue item code of the need. */
  item?: string;
  urgency?: Urgency | Urgency[];
  /** Offer ids. */
  offers?: string[];
  /** Need ids. */
  needs?: string[];
}

export interface MatchOptions {
  catalogue?: Catalogue;
  transit?: Partial<TransitTable>;
  filters?: MatchFilters;
}

export type { ArrivalParams, Reason, ReasonCode, ReasonData, ReasonParams, Relation } from './reasons.js';

/** Which bound decided the quantity: the need's remaining gap or the offer's supply shared fairly. */
export type Limit = 'need' | 'offer';

/**
 * A proposed allocation. `quantity` is what the allocation record carries:
 * base units of the need (equal to the offer's base units unless a catalogue
 * conversion applies, when `offerQuantity` is the offer side).
 */
export interface Proposal {
  offer: string;
  need: string;
  /** The hub that must sign the allocation: the offer's author (only it may allocate its offer, spec/resolution.md). */
  signer: string;
  /** The need's requester (hospital, community…), the offer's donor and the need's item as written, for review. */
  requester: string;
  donor: string;
  itemName: string;
  quantity: number;
  unit: string;
  offerQuantity: number;
  offerUnit: string;
  item: string;
  urgency: Urgency;
  region: string;
  neededBy: string;
  /** Estimated arrival (RFC 3339) from the transit table. */
  arrival: string;
  onTime: boolean;
  /** Share of the need (its duplicate group) covered before and after this proposal and those before it in the plan. */
  coverage: { before: number; after: number };
  limit: Limit;
  reasons: Reason[];
}

export type ViolationRule =
  | 'unknown_offer'
  | 'unknown_need'
  | 'quantity_not_positive_integer'
  | 'offer_not_available'
  | 'need_not_open'
  | 'intent_region'
  | 'intent_group'
  | 'intent_purpose'
  | 'intent_valid_until'
  | 'item_mismatch'
  | 'over_offer'
  | 'over_need'
  | 'duplicate_matched_twice';

export interface Violation {
  rule: ViolationRule;
  offer: string;
  need: string;
  message: string;
}

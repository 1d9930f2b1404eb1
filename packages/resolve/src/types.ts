import type { BeneficiaryGroup, DonorIntent, Hlc, HubLevel, Item, Unit, Urgency } from '@shuniu/protocol';
import type { ObjectStore } from './objects.js';

/**
 * The resolved state: what every replica computes from the same SET of
 * verified records (spec/resolution.md §7). Plain JSON, no undefined members,
 * so its canonical form and digest are well defined. Maps are keyed by record
 * id (base64url); quantities are in BASE units (quantity × unit.size) with the
 * unit kept for display.
 */

/** Trusted root hub ids: roots are admitted by definition; every other hub needs a chain of hub.admitted records up to one. */
export interface ResolverOptions {
  roots: string[];
  /**
   * SHA-256 for the state hash: the 32-byte digest of `bytes`, which it must
   * not keep (the buffer is reused). Default: the package's pure TypeScript
   * one, so that it runs anywhere; a node passes its native one, e.g.
   * `(b) => createHash('sha256').update(b).digest()`. Any correct SHA-256
   * gives the same state hash.
   */
  sha256?: (bytes: Uint8Array) => Uint8Array;
  /**
   * base64url (no padding) of the SHA-256 of the UTF-8 encoding of `text`:
   * when the platform hashes strings directly (Node ≥ 20.12:
   * `(t) => hash('sha256', t, 'base64url')` from node:crypto) this spares the
   * encoding step of `sha256`. Takes precedence over `sha256`; same digests.
   */
  sha256Text?: (text: string) => string;
  /**
   * Where finished objects (spec/resolution.md §11) go when `Resolver.letGo()`
   * is called: they leave memory and come back from here when a record or a
   * derivation reads them; the state and its hash are the same as without.
   * Default: none, everything stays in memory. `MapObjectStore` is the
   * in-memory reference; a node passes one over its store.
   */
  objects?: ObjectStore;
}

/** active: admitted and not forked; forked: two records at one seq and no recovery yet; suspended: not admitted (its records are held). */
export type HubStatus = 'active' | 'forked' | 'suspended';

export interface ForkState {
  seq: number;
  /** Every record id the hub signed at that seq (sorted): the proof. */
  ids: string[];
}

export interface HubProfileState {
  record: string;
  name: { zh: string; en?: string };
  level: HubLevel;
  region: string;
  parent?: string;
  endpoints: string[];
  contact?: string;
}

export interface HubKeysState {
  /** The inception or hub.keys.rotated record the keys come from. */
  record: string;
  signingKey: string;
  encryptionKey: string;
  recoveryCommitment: string;
}

export interface HubState {
  id: string;
  status: HubStatus;
  root: boolean;
  admitted: boolean;
  /** Hub ids from the hub that admitted this one up to a trusted root; [] for a root or a hub not admitted. */
  admissionChain: string[];
  /** The hub.admitted record on the chosen chain. */
  admission?: string;
  /** From the admission (the admitting hub's word) or, for a root, from its own profile. */
  level?: HubLevel;
  region?: string;
  profile?: HubProfileState;
  keys?: HubKeysState;
  /** Last record of the hub's counting chain. */
  head?: { seq: number; id: string };
  /** Number of this hub's records held by the resolver (counting or not). */
  records: number;
  forks: ForkState[];
  /** The hub.keys.rotated record with `recovery` whose branch survives. */
  recovery?: string;
}

export type NeedStatus = 'open' | 'partly_allocated' | 'allocated' | 'partly_delivered' | 'fulfilled' | 'expired' | 'cancelled';

export interface NeedState {
  id: string;
  hub: string;
  hlc: Hlc;
  item: Item;
  unit: Unit;
  /** Base units (the posted or latest updated quantity × unit.size). */
  quantity: number;
  urgency: Urgency;
  neededBy: string;
  region: string;
  beneficiaries: { group: BeneficiaryGroup; count: number };
  requester: { name: string; kind: string; region?: string };
  campaign?: string;
  purpose?: string;
  status: NeedStatus;
  closed?: { reason: 'fulfilled' | 'expired' | 'cancelled'; record: string };
  /** Sum of standing (proposed or accepted) allocations. */
  allocated: number;
  /** Shipped to the need's hub for its allocations, no receipt yet. */
  inTransit: number;
  /** Accepted by the need's hub in receipts of shipments for its allocations. */
  received: number;
  /** Delivered to the requester (custody.delivered lines of the need's item). */
  delivered: number;
  /** Standing allocation ids, in resolution order. */
  allocations: string[];
  /** Counting custody.delivered records not superseded by a correction (sorted). */
  deliveries: string[];
  /** need.updated records applied, in seq order. */
  updates: string[];
}

export type OfferStatus = 'available' | 'allocated' | 'withdrawn' | 'expired';

export interface OfferState {
  id: string;
  hub: string;
  hlc: Hlc;
  kind: string;
  item: Item;
  unit: Unit;
  /** Base units. */
  quantity: number;
  valueFen: number;
  /** `named`: an individual donor agreed to be named publicly (records.md §4, donor). */
  donor: { name: string; kind: string; named?: boolean };
  intent: DonorIntent;
  region: string;
  availableFrom?: string;
  campaign?: string;
  status: OfferStatus;
  withdrawn?: string;
  /** Sum of standing allocations (base units). */
  allocated: number;
  /** quantity − allocated. */
  available: number;
  /** Standing allocation ids, in resolution order. */
  allocations: string[];
  updates: string[];
}

export type AllocationStatus = 'proposed' | 'accepted' | 'declined' | 'surplus' | 'void';

export interface AllocationState {
  id: string;
  hub: string;
  hlc: Hlc;
  offer: string;
  need: string;
  /** Base units. */
  quantity: number;
  status: AllocationStatus;
  /** The allocation.accepted / allocation.declined record in force. */
  decision?: string;
  /** For surplus: which capacity it did not fit. */
  surplusOf?: 'offer' | 'need';
  voidReason?: 'offer_withdrawn' | 'need_closed' | 'item_mismatch';
}

export type ShipmentStatus = 'in_transit' | 'received' | 'received_with_discrepancy' | 'overdue';

export interface ShipmentLineState {
  item: Item;
  unit: Unit;
  lot?: string;
  expiry?: string;
  /** Base units shipped. */
  shipped: number;
  /** Present once a receipt is in force (base units). */
  accepted?: number;
  rejected?: number;
  missing?: number;
  rejectReason?: string;
  /** shipped − accepted − rejected − missing; non-zero only with a receipt_mismatch conflict. */
  unaccounted?: number;
}

export interface ShipmentState {
  /** The first handoff (the one no correction names as corrected): the shipment's identity. */
  id: string;
  /** The handoff version in force (latest by the sender's seq). */
  handoff: string;
  versions: string[];
  hub: string;
  from: string;
  to: string;
  shipment: string;
  expectedArrival: string;
  allocations: string[];
  lines: ShipmentLineState[];
  status: ShipmentStatus;
  /** Received after the neededBy of a need it carries goods for. */
  late: boolean;
  receipt?: string;
  received?: string;
  shipped: number;
  accepted?: number;
  rejected?: number;
  missing?: number;
}

export type BundleStatus = 'open' | 'partly_funded' | 'funded' | 'completed' | 'cancelled';

/** A funder's pledge in force (its bundle.funded with the highest seq, when above 0). */
export interface BundlePledge {
  hub: string;
  record: string;
  amountFen: number;
}

/** What a bundle's needs have come to (spec/resolution.md §7.2): counts of needs by stage, and quantities per item code in base units. */
export interface BundleProgress {
  /** Needs listed. */
  needs: number;
  /** Listed ids that are not needs of the state (not held yet, not counting, or not a need). */
  missing: number;
  open: number;
  allocated: number;
  inTransit: number;
  delivered: number;
  closed: number;
  /** Per item code (sorted), over the listed needs of the state that are not cancelled. */
  items: { code: string; base: string; requested: number; allocated: number; inTransit: number; delivered: number }[];
}

export interface BundleState {
  id: string;
  hub: string;
  hlc: Hlc;
  title: string;
  region: string;
  description?: string;
  targetFen?: number;
  campaign?: string;
  /** The needs listed: as posted, then each update's add and remove in seq order (sorted). */
  needs: string[];
  status: BundleStatus;
  closed?: { reason: 'completed' | 'cancelled'; record: string };
  /** bundle.updated records applied, in seq order. */
  updates: string[];
  /** Pledges in force, by funder hub (sorted). */
  funding: BundlePledge[];
  /** Sum of the pledges in force. */
  fundedFen: number;
  progress: BundleProgress;
}

export type ConflictRule =
  | 'unauthorised'
  | 'over_allocation'
  | 'over_fulfilment'
  | 'item_mismatch'
  | 'duplicate_need'
  | 'receipt_mismatch'
  | 'delivered_beyond_received'
  | 'double_handoff'
  | 'fork'
  | 'admission_scope';

export type DetailValue = string | number | boolean | string[];

export interface Conflict {
  /** `<subject id>/<rule>[/<qualifier>]`: stable while the subject exists. */
  id: string;
  rule: ConflictRule;
  /** Record ids involved (sorted). */
  records: string[];
  /** Hub ids involved (sorted). */
  hubs: string[];
  detail: Record<string, DetailValue>;
}

export interface ResolvedState {
  v: 1;
  /** Latest hlc.ms of any record held: the clock for overdue and expired (never the local clock). */
  clock: number;
  hubs: Record<string, HubState>;
  needs: Record<string, NeedState>;
  offers: Record<string, OfferState>;
  allocations: Record<string, AllocationState>;
  shipments: Record<string, ShipmentState>;
  conflicts: Record<string, Conflict>;
  /** Records of hubs not admitted: record id → author hub id. */
  held: Record<string, string>;
  /** Counting records that name an object not (yet) in the state: missing id → waiting record ids (sorted). */
  pending: Record<string, string[]>;
  /** Bundles of needs (spec/resolution.md §7.2): present only when there is at least one, so a state without bundles is (and hashes) as before bundles existed. */
  bundles?: Record<string, BundleState>;
}

/**
 * The resolver's one internal state object and its graph (spec/resolution.md
 * §9, Cost: "records are filed under the ids they name; applying one marks
 * only the objects it touches"). One node per id (Obj): the record with that
 * id, the records that name it and what was derived for it. Every module of
 * the derivation is plain functions over a `State`; this module holds the
 * state's shape, the node and hub records, the queues of re-derivation and
 * the rule every section starts from (§1): a record counts when its author is
 * admitted and it lies on the author's counting chain.
 */
import { compareHlc, type Hlc, type RecordOf, type SignedRecord } from '@shuniu/protocol';
import type { AdmissionEdge } from './admission.js';
import { BucketMap, type TextDigest } from './buckets.js';
import type { BundleIndex } from './bundle-index.js';
import { DeadlineHeap, type Group, type SmallMap, type TimedStage } from './collections.js';
import type { Objects } from './objects.js';
import type { AllocationState, BundleState, Conflict, HubState, NeedState, OfferState, ShipmentState } from './types.js';
import { allocationJson, needJson, offerJson, shipmentJson } from './views-json.js';

export type Rec = SignedRecord;

/**
 * One node per id the resolver has seen: the record with that id when it is
 * held (or a placeholder for an id records name but nobody sent yet), the
 * records that name it, and what was derived for it. Derivation follows these
 * references instead of looking ids up in maps: at a million records a map
 * lookup is a cache miss or two, and resolution is mostly lookups.
 */
export class Obj {
  rec: Rec | undefined = undefined;
  /** The author's chain data (when rec is set). */
  h: HubData | undefined = undefined;
  /** Stage bits this node is queued for (transient: 0 after a flush). */
  mask = 0;
  /** What the record names: need.updated/closed → need; offer.* → offer; allocation → offer (t2: need); decisions → allocation; handoff → the handoff it corrects; receipt → handoff; delivered → need (t2: the delivery it corrects). */
  t1: Obj | undefined = undefined;
  t2: Obj | undefined = undefined;
  /** custody.handoff: the nodes of its listed allocations. */
  allocs: Obj[] | undefined = undefined;

  // Structural references: records that name this id (static functions of the record set).
  needUpd: Obj[] | undefined = undefined;
  needAlloc: Obj[] | undefined = undefined;
  needDeliv: Obj[] | undefined = undefined;
  offerUpd: Obj[] | undefined = undefined;
  offerAlloc: Obj[] | undefined = undefined;
  allocDec: Obj[] | undefined = undefined;
  /** Shipments (root handoffs) listing this allocation. */
  allocShip: Obj[] | undefined = undefined;
  /** custody.handoff: the first handoff of its shipment, once the chain of corrections reaches one. */
  root: Obj | undefined = undefined;
  shipVersions: Obj[] | undefined = undefined;
  shipReceipts: Obj[] | undefined = undefined;
  /** recovery_vouched attestations naming this id (a recovery rotation). */
  vouches: Obj[] | undefined = undefined;
  /** Handoffs and receipts naming this handoff before it joined a shipment. */
  waitHandoff: Obj[] | undefined = undefined;
  correctedBy: Obj[] | undefined = undefined;

  // Derived.
  need: NeedInfo | undefined = undefined;
  offer: OfferInfo | undefined = undefined;
  alloc: AllocInfo | undefined = undefined;
  ship: ShipContrib | undefined = undefined;
  deliv: DelivContrib | undefined = undefined;
  /** Conflict ids this object put in the state, by owner kind. */
  own: Partial<Record<ObjOwner, string[]>> | undefined = undefined;
  /** allocation: the shipments handing its goods over (for double_handoff). */
  dh: Handed[] | undefined = undefined;
  /** The record-clock deadline this object is queued for in `deadlines`. */
  sched: number | undefined = undefined;

  constructor(readonly id: string) {}
}

export interface HubData {
  id: string;
  /** The first record held at each seq (a sparse array when seqs are missing). */
  first: Obj[];
  /** Further records at a seq: forks. */
  more: Map<number, Obj[]>;
  /** Records applied while the hub was not admitted, not yet listed in `held` (flush lists them if it still is not). */
  toHold: Obj[];
  /** live[seq] = the record that counts at that seq; the counting chain is live[0..length-1]. */
  live: Obj[];
  forkedAt: number;
  forkSeqs: Set<number>;
  recoveries: Obj[];
  /** The recovery in force (its ancestry complete). */
  recovery: Obj | undefined;
  /** The recovery that won the last full walk, ancestry complete or not. */
  win: Obj | undefined;
  admissions: Obj[];
  /** hub.admission.revoked records of this hub (as admitter). */
  revocations: Obj[];
  profiles: Obj[];
  rotations: Obj[];
  admitted: boolean;
  full: boolean;
  count: number;
  /** Queued for refreshChain / hubView (transient: false after a flush). */
  dirtyChain: boolean;
  dirtyView: boolean;
}

export interface NeedInfo {
  hub: string;
  hlc: Hlc;
  body: RecordOf<'need.posted'>['body'];
  quantity: number;
  urgency: NeedState['urgency'];
  neededBy: string;
  neededByMs: number;
  beneficiaries: NeedState['beneficiaries'];
  closed: NeedState['closed'];
  updates: string[];
  dupKey: string;
  item: NeedState['item'];
  unit: NeedState['unit'];
  requester: NeedState['requester'];
  /** Second pass (needStage): base units allocated by the standing allocations, and their ids. */
  allocated: number;
  standing: string[];
}

export interface OfferInfo {
  hub: string;
  hlc: Hlc;
  body: RecordOf<'offer.posted'>['body'];
  quantity: number;
  valueFen: number;
  intent: OfferState['intent'];
  withdrawn: string | undefined;
  updates: string[];
  item: OfferState['item'];
  unit: OfferState['unit'];
  donor: OfferState['donor'];
}

export interface AllocInfo {
  /** The allocation's node, its offer's and its need's. */
  o: Obj;
  offerO: Obj;
  needO: Obj;
  hub: string;
  hlc: Hlc;
  quantity: number;
  decided: 'accepted' | 'declined' | undefined;
  decision: string | undefined;
  voidReason: AllocationState['voidReason'];
  /** Stands within the offer's capacity (first pass). */
  s1: boolean;
  /** Stands within the need's capacity too (second pass). */
  s2: boolean;
}

export interface ShipContrib {
  from: string;
  to: string;
  received: boolean;
  perAlloc: SmallMap<PerAlloc>;
  /** Accepted base units per item code (for the receiver's holdings). */
  acceptedByItem: SmallMap<number>;
  /** Shipped base units per `item|lot`. */
  lotShipped: SmallMap<number> | undefined;
  /** Accepted base units per `item|lot`. */
  lotAccepted: SmallMap<number> | undefined;
}

/** One shipment's handoff of an allocation's goods: sender, receiver, base units. */
export interface Handed {
  ship: string;
  from: string;
  to: string;
  q: number;
}

/** A shipment's goods for one allocation (base units), with the allocation's node and its need's. */
export interface PerAlloc {
  shipped: number;
  accepted: number;
  needO: Obj;
  ao: Obj;
}

export interface DelivContrib {
  hub: string;
  needO: Obj;
  byItem: SmallMap<number>;
}

/** Owner kinds of conflicts kept on the object itself (hub, object-id ones) and by group key (the rest). */
export type ObjOwner = 'n' | 'o' | 'a' | 'os' | 'ns' | 's' | 'dh';
export type GroupOwner = 'h' | 'dup' | 'lot' | 'dbr' | 'adm';

// Derivation stages, in flush order (scheduler.ts): a stage only queues later ones.
export const NEED_BASE = 0;
export const OFFER_BASE = 1;
export const ALLOC_BASE = 2;
export const OFFER_STAGE = 3;
export const NEED_STAGE = 4;
export const SHIP = 5;
export const DELIV = 6;
export const NEED_VIEW = 7;
export const OFFER_VIEW = 8;
export const ALLOC_VIEW = 9;
export const DOUBLE_HANDOFF = 10;
export const PENDING = 11;
export const STAGE_COUNT = 12;

/** The stage each timed stage name stands for. */
export const TIMED: Record<TimedStage, number> = { needView: NEED_VIEW, offerView: OFFER_VIEW, ship: SHIP };

/** Every record a hub holds at `seq`. */
export function objsAt(h: HubData, seq: number): Obj[] | undefined {
  const f = h.first[seq];
  if (f === undefined) return undefined;
  const more = h.more.get(seq);
  return more ? [f, ...more] : [f];
}

/** Every record a hub holds, by seq. */
export function forEachObj(h: HubData, f: (o: Obj) => void): void {
  h.first.forEach((o, seq) => {
    f(o);
    const more = h.more.get(seq);
    if (more) for (const x of more) f(x);
  });
}

export function add(list: Obj[] | undefined, o: Obj): Obj[] {
  if (list === undefined) return [o];
  list.push(o);
  return list;
}

export const recOf = (o: Obj): Rec => o.rec as Rec;

export const byHlcId = (a: { hlc: Hlc; id: string }, b: { hlc: Hlc; id: string }): number =>
  compareHlc(a.hlc, b.hlc) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Everything a resolver holds. Modules read and write it directly; the
 * Resolver class (resolver.ts) is the only public door. The field order is
 * the order snapshots were written in (snapshot.ts lists what it keeps).
 */
export interface State {
  readonly roots: Set<string>;
  /** base64url SHA-256 of text for the state hash: ResolverOptions.sha256Text, .sha256 or the pure one. Not part of snapshots. */
  readonly hashText: TextDigest;
  /** Every id seen, held or named. */
  nodes: Map<string, Obj>;
  /** Number of distinct records applied. */
  records: number;
  /** The record clock (spec/resolution.md §6): the greatest hlc.ms of any record held. */
  clock: number;
  hubData: Map<string, HubData>;
  admissionDirty: boolean;
  /** Hubs with a recovery some recovery_vouched attestation names: their winner is re-checked after admission changes. */
  contested: Set<string>;
  admissionOf: Map<string, { parent: string; record: string }>;
  /** The admissions that count (in scope, not revoked, by admitted hubs), sorted by (by, child): admittedHubs(roots, edges) is the admitted set. */
  edges: AdmissionEdge[];

  // Derived groups, keyed by strings.
  dupGroups: Map<string, Set<Obj>>;
  lotShipped: Map<string, Group>;
  lotHeld: Map<string, Group>;
  dbrReceived: Map<string, Group>;
  dbrDelivered: Map<string, Group>;
  /** Conflict ids each hub (h) or group key put in the state (objects keep theirs in Obj.own). */
  ownConflicts: Record<GroupOwner, Map<string, string[]>>;

  // The resolved state, kept per bucket for the hash (spec/resolution.md §7).
  hubs: BucketMap<HubState>;
  needs: BucketMap<NeedState>;
  offers: BucketMap<OfferState>;
  allocations: BucketMap<AllocationState>;
  shipments: BucketMap<ShipmentState>;
  conflicts: BucketMap<Conflict>;
  held: BucketMap<string>;
  pending: BucketMap<string[]>;
  /** Where finished objects go when ResolverOptions.objects is set (objects.ts); undefined: everything stays in memory. Not part of snapshots. */
  objects: Objects | undefined;
  /** Bundles (bundles.ts): not part of snapshots, rebuilt from the records on restore. */
  bundles: BucketMap<BundleState>;
  bundleIdx: BundleIndex;

  /** Objects queued per stage (Obj.mask has their bits); hubs queued for their chain and view. Transient: empty after a flush. */
  readonly queue: Obj[][];
  readonly chainQueue: HubData[];
  readonly viewQueue: HubData[];
  readonly dirtyGroups: { dup: Set<string>; lot: Set<string>; dbr: Set<string> };
  deadlines: DeadlineHeap;
}

/** An empty state. */
export function createState(roots: Iterable<string>, hashText: TextDigest): State {
  return {
    roots: new Set(roots),
    hashText,
    nodes: new Map(),
    records: 0,
    clock: 0,
    hubData: new Map(),
    admissionDirty: false,
    contested: new Set(),
    admissionOf: new Map(),
    edges: [],
    dupGroups: new Map(),
    lotShipped: new Map(),
    lotHeld: new Map(),
    dbrReceived: new Map(),
    dbrDelivered: new Map(),
    ownConflicts: { h: new Map(), dup: new Map(), lot: new Map(), dbr: new Map(), adm: new Map() },
    hubs: new BucketMap<HubState>(),
    needs: new BucketMap<NeedState>(needJson),
    offers: new BucketMap<OfferState>(offerJson),
    allocations: new BucketMap<AllocationState>(allocationJson),
    shipments: new BucketMap<ShipmentState>(shipmentJson),
    conflicts: new BucketMap<Conflict>(),
    held: new BucketMap<string>(),
    pending: new BucketMap<string[]>(),
    objects: undefined,
    bundles: new BucketMap<BundleState>(),
    bundleIdx: { refs: new Map(), byNeed: new Map(), needsOf: new Map(), own: new Map(), dirty: new Set() },
    queue: Array.from({ length: STAGE_COUNT }, () => []),
    chainQueue: [],
    viewQueue: [],
    dirtyGroups: { dup: new Set(), lot: new Set(), dbr: new Set() },
    deadlines: new DeadlineHeap(),
  };
}

/** The node of an id, created on first sight. */
export function node(s: State, id: string): Obj {
  let o = s.nodes.get(id);
  if (o === undefined) {
    o = new Obj(id);
    s.nodes.set(id, o);
  }
  return o;
}

/** Queues an object for a derivation stage (once until that stage runs). */
export function mark(s: State, o: Obj, stage: number): void {
  const bit = 1 << stage;
  if ((o.mask & bit) !== 0) return;
  o.mask |= bit;
  (s.queue[stage] as Obj[]).push(o);
}

/** Queues a hub's counting chain to be walked again (chains.ts). */
export function markChain(s: State, h: HubData): void {
  if (h.dirtyChain) return;
  h.dirtyChain = true;
  s.chainQueue.push(h);
}

/** Queues a hub's view to be written again (views.ts). */
export function markView(s: State, h: HubData): void {
  if (h.dirtyView) return;
  h.dirtyView = true;
  s.viewQueue.push(h);
}

/** Queues an object to be re-derived once the record clock passes `ms` (once per object and deadline). */
export function schedule(s: State, ms: number, stage: TimedStage, o: Obj): void {
  if (o.sched === ms) return;
  o.sched = ms;
  s.deadlines.push([ms, stage, o.id]);
}

/** True when a record takes part in the state: its author is admitted and it lies on the author's counting chain. */
export function counts(o: Obj): boolean {
  const r = o.rec;
  if (r === undefined) return false;
  const h = o.h as HubData;
  return h.admitted && h.live[r.seq] === o;
}

/** True when a record lies on its author's counting chain (admitted or not). */
export function onChain(o: Obj): boolean {
  const r = o.rec;
  return r !== undefined && (o.h as HubData).live[r.seq] === o;
}

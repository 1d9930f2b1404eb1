import { compareHlc, digest, type Hlc, type HubLevel, type RecordOf, ShuniuError, type SignedRecord, timestampMs, type Verified } from '@shuniu/protocol';
import { type AdmissionEdge, admissionInScope, admittedHubs } from './admission.js';
import { BucketMap, stateDigest, type TextDigest } from './buckets.js';
import { textHasher } from './sha256.js';
import { Decoder, Encoder, type Registry } from './snapshot.js';
import type {
  AllocationState,
  Conflict,
  ConflictRule,
  DetailValue,
  HubState,
  NeedState,
  OfferState,
  ResolvedState,
  ResolverOptions,
  ShipmentLineState,
  ShipmentState,
} from './types.js';
import { allocationJson, conflictJson, needJson, offerJson, shipmentJson } from './views-json.js';

/** A recovery_vouched attestation counts for a recovery when its hlc.ms is at most this long after the recovery's (spec/keys.md §5.1). */
export const VOUCH_WINDOW_MS = 72 * 3600 * 1000;

/** Needs for one requester and item whose consecutive neededBy (sorted) lie within this window form one cluster of likely duplicates (spec/resolution.md §5). */
export const DUPLICATE_WINDOW_MS = 7 * 24 * 3600 * 1000;

const MAX = Number.MAX_SAFE_INTEGER;
/** Quantities saturate at 2^53−1 so the state stays I-JSON whatever the records say. */
const sat = (x: number): number => Math.min(x, MAX);
const mul = (q: number, size: number): number => sat(q * size);

const B64_32 = /^[A-Za-z0-9_-]{43}$/;

// The large views (needs, offers, allocations, shipments) share their
// records' objects (item, unit, hlc, …): views-json.ts writes their members in
// sorted order whatever order they came in. Hub views are serialised by
// JSON.stringify, so what they take from records is copied in sorted order.
function cName(x: { zh: string; en?: string }): { zh: string; en?: string } {
  const o = {} as { zh: string; en?: string };
  if (x.en !== undefined) o.en = x.en;
  o.zh = x.zh;
  return o;
}
/** Shallow copy with members in sorted order (conflict details: flat). */
function sortedObject<T extends object>(x: T): T {
  const o = {} as Record<string, unknown>;
  for (const k of Object.keys(x).sort()) o[k] = (x as Record<string, unknown>)[k];
  return o as T;
}

type Rec = SignedRecord;

/**
 * One node per id the resolver has seen: the record with that id when it is
 * held (or a placeholder for an id records name but nobody sent yet), the
 * records that name it, and what was derived for it. Derivation follows these
 * references instead of looking ids up in maps: at a million records a map
 * lookup is a cache miss or two, and resolution is mostly lookups.
 */
class Obj {
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

/** The fields a snapshot keeps (mask is transient; h is re-linked from the hub data). */
const OBJ_FIELDS = Object.keys(new Obj('')).filter((k) => k !== 'id' && k !== 'rec' && k !== 'h' && k !== 'mask') as (keyof Obj)[];

interface HubData {
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

interface NeedInfo {
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

interface OfferInfo {
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

interface AllocInfo {
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

interface ShipContrib {
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
interface Handed {
  ship: string;
  from: string;
  to: string;
  q: number;
}

/** A shipment's goods for one allocation (base units), with the allocation's node and its need's. */
interface PerAlloc {
  shipped: number;
  accepted: number;
  needO: Obj;
  ao: Obj;
}

interface DelivContrib {
  hub: string;
  needO: Obj;
  byItem: SmallMap<number>;
}

const NONE: never[] = [];

/** A map of a few entries (a shipment's allocations, items, lots): two arrays, far lighter than a Map; none until the first set(). */
class SmallMap<V> {
  k: string[] = NONE;
  v: V[] = NONE;
  get size(): number {
    return this.k.length;
  }
  get(key: string): V | undefined {
    const i = this.k.indexOf(key);
    return i < 0 ? undefined : this.v[i];
  }
  set(key: string, value: V): this {
    const i = this.k.indexOf(key);
    if (i >= 0) this.v[i] = value;
    else if (this.k === NONE) {
      this.k = [key];
      this.v = [value];
    } else {
      this.k.push(key);
      this.v.push(value);
    }
    return this;
  }
}

/**
 * A sum kept by delta plus its members (record id → receiving hub, quantity),
 * for the custody groups: parallel arrays, most groups having one or two
 * members, with an index once a group grows (so that put/remove stay O(1)).
 * Member order is not meaningful (every reader sorts or counts).
 */
class Group {
  // NONE until the first put(): arrays grown by push() from empty reserve 16 slots, and most groups hold one member.
  keys: string[] = NONE;
  tos: string[] = NONE;
  qs: number[] = NONE;
  idx: Map<string, number> | undefined = undefined;
  total = 0;
  get size(): number {
    return this.keys.length;
  }
  private find(key: string): number {
    return this.idx === undefined ? this.keys.indexOf(key) : (this.idx.get(key) ?? -1);
  }
  put(key: string, to: string, q: number): void {
    const i = this.find(key);
    if (i >= 0) {
      this.total -= this.qs[i] as number;
      this.tos[i] = to;
      this.qs[i] = q;
    } else if (this.keys === NONE) {
      this.keys = [key];
      this.tos = [to];
      this.qs = [q];
    } else {
      const n = this.keys.push(key);
      this.tos.push(to);
      this.qs.push(q);
      if (this.idx !== undefined) this.idx.set(key, n - 1);
      else if (n > 16) this.idx = new Map(this.keys.map((k, j) => [k, j]));
    }
    this.total = sat(this.total + q);
  }
  remove(key: string): void {
    const i = this.find(key);
    if (i < 0) return;
    this.total -= this.qs[i] as number;
    const last = this.keys.length - 1;
    if (i !== last) {
      this.keys[i] = this.keys[last] as string;
      this.tos[i] = this.tos[last] as string;
      this.qs[i] = this.qs[last] as number;
      this.idx?.set(this.keys[i] as string, i);
    }
    this.keys.pop();
    this.tos.pop();
    this.qs.pop();
    this.idx?.delete(key);
  }
}

/** Owner kinds of conflicts kept on the object itself (hub, object-id ones) and by group key (the rest). */
type ObjOwner = 'n' | 'o' | 'a' | 'os' | 'ns' | 's' | 'dh';
type GroupOwner = 'h' | 'dup' | 'lot' | 'dbr' | 'adm';

// Derivation stages, in flush order: a stage only queues later ones.
const NEED_BASE = 0;
const OFFER_BASE = 1;
const ALLOC_BASE = 2;
const OFFER_STAGE = 3;
const NEED_STAGE = 4;
const SHIP = 5;
const DELIV = 6;
const NEED_VIEW = 7;
const OFFER_VIEW = 8;
const ALLOC_VIEW = 9;
const DOUBLE_HANDOFF = 10;
const PENDING = 11;
const STAGE_COUNT = 12;

/** Stages an object can be queued for when the record clock passes a date (the names are what snapshots store). */
type TimedStage = 'needView' | 'offerView' | 'ship';
const TIMED: Record<TimedStage, number> = { needView: NEED_VIEW, offerView: OFFER_VIEW, ship: SHIP };

/** Binary min-heap of [deadline ms, stage, id]: objects whose status flips when the record clock passes a date. */
class DeadlineHeap {
  private readonly a: [number, TimedStage, string][] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): [number, TimedStage, string] | undefined {
    return this.a[0];
  }
  push(e: [number, TimedStage, string]): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as [number, TimedStage, string])[0] <= e[0]) break;
      a[i] = a[p] as [number, TimedStage, string];
      i = p;
    }
    a[i] = e;
  }
  pop(): [number, TimedStage, string] | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && (a[r] as [number, TimedStage, string])[0] < (a[l] as [number, TimedStage, string])[0] ? r : l;
      if ((a[c] as [number, TimedStage, string])[0] >= last[0]) break;
      a[i] = a[c] as [number, TimedStage, string];
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** Every record a hub holds at `seq`. */
function objsAt(h: HubData, seq: number): Obj[] | undefined {
  const f = h.first[seq];
  if (f === undefined) return undefined;
  const more = h.more.get(seq);
  return more ? [f, ...more] : [f];
}

/** Every record a hub holds, by seq. */
function forEachObj(h: HubData, f: (o: Obj) => void): void {
  h.first.forEach((o, seq) => {
    f(o);
    const more = h.more.get(seq);
    if (more) for (const x of more) f(x);
  });
}

function add(list: Obj[] | undefined, o: Obj): Obj[] {
  if (list === undefined) return [o];
  list.push(o);
  return list;
}

const recOf = (o: Obj): Rec => o.rec as Rec;

const byHlcId = (a: { hlc: Hlc; id: string }, b: { hlc: Hlc; id: string }): number => compareHlc(a.hlc, b.hlc) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const allocHlcId = (a: AllocInfo, b: AllocInfo): number => compareHlc(a.hlc, b.hlc) || (a.o.id < b.o.id ? -1 : a.o.id > b.o.id ? 1 : 0);
/** Resolution order of competing allocations: accepted first, then hlc, then record id (spec/resolution.md §Over-allocation). */
const allocOrder = (a: AllocInfo, b: AllocInfo): number => (a.decided === 'accepted' ? 0 : 1) - (b.decided === 'accepted' ? 0 : 1) || allocHlcId(a, b);
/**
 * One capacity pass (spec/resolution.md §4): the candidates, in resolution
 * order, stand while they fit `capacity` (`stand` marks each); the others are
 * surplus. Returns what stood, what was asked and the surplus ids.
 */
function fill(cands: AllocInfo[], capacity: number, stand: (i: AllocInfo) => void): { used: number; requested: number; surplus: string[] } {
  if (cands.length > 1) cands.sort(allocOrder);
  let used = 0;
  let requested = 0;
  const surplus: string[] = [];
  for (const i of cands) {
    requested = sat(requested + i.quantity);
    if (used + i.quantity <= capacity) {
      stand(i);
      used += i.quantity;
    } else surplus.push(i.o.id);
  }
  return { used, requested, surplus };
}

/** A new array of the distinct strings of `xs`, sorted (by UTF-16 code units, as Array.prototype.sort). */
function sorted(xs: readonly string[]): string[] {
  if (xs.length <= 1) return xs.slice();
  const a = xs.slice().sort();
  let n = 1;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[n - 1]) a[n++] = a[i] as string;
  a.length = n;
  return a;
}

/** The maps of a resolved state. */
export type StateMapName = 'hubs' | 'needs' | 'offers' | 'allocations' | 'shipments' | 'conflicts' | 'held' | 'pending';

/**
 * The deterministic resolver: keeps, for every object, the set of records
 * that touch it and re-derives only the objects a new record touches
 * (spec/resolution.md). The resolved state and its hash depend only on the
 * SET of records applied: not on their order, duplicates or the local clock.
 *
 * @example
 * const r = new Resolver({ roots: [province.id] })
 * for (const v of verifiedRecords) r.apply(v)
 * r.state().needs[needId].status // 'partly_allocated'
 * r.stateHash() // equal on every replica holding the same records
 */
export class Resolver {
  private readonly roots: Set<string>;
  /** base64url SHA-256 of text for the state hash: ResolverOptions.sha256Text, .sha256 or the pure one. Not part of snapshots. */
  private readonly hashText: TextDigest;
  /** Every id seen, held or named. Snapshots write it first (with the records). */
  private readonly nodes = new Map<string, Obj>();
  private records = 0;
  private clock = 0;
  private readonly hubData = new Map<string, HubData>();
  private admissionDirty = false;
  /** Hubs with a recovery some recovery_vouched attestation names: their winner is re-checked after admission changes. */
  private readonly contested = new Set<string>();
  private admissionOf = new Map<string, { parent: string; record: string }>();
  /** The admissions that count (in scope, not revoked, by admitted hubs), sorted by (by, child): admittedHubs(roots, edges) is the admitted set. */
  private edges: AdmissionEdge[] = [];

  // Derived groups, keyed by strings.
  private readonly dupGroups = new Map<string, Set<Obj>>();
  private readonly lotShipped = new Map<string, Group>();
  private readonly lotHeld = new Map<string, Group>();
  private readonly dbrReceived = new Map<string, Group>();
  private readonly dbrDelivered = new Map<string, Group>();
  /** Conflict ids each hub (h) or group key put in the state (objects keep theirs in Obj.own). */
  private readonly ownConflicts: Record<GroupOwner, Map<string, string[]>> = {
    h: new Map(),
    dup: new Map(),
    lot: new Map(),
    dbr: new Map(),
    adm: new Map(),
  };

  // The resolved state, kept per bucket for the hash.
  private readonly hubs = new BucketMap<HubState>();
  private readonly needs = new BucketMap<NeedState>(needJson);
  private readonly offers = new BucketMap<OfferState>(offerJson);
  private readonly allocations = new BucketMap<AllocationState>(allocationJson);
  private readonly shipments = new BucketMap<ShipmentState>(shipmentJson);
  private readonly conflicts = new BucketMap<Conflict>(conflictJson);
  private readonly held = new BucketMap<string>();
  private readonly pending = new BucketMap<string[]>();

  /** Objects queued per stage (Obj.mask has their bits); hubs queued for their chain and view. Transient: empty after a flush. */
  private readonly queue: Obj[][] = Array.from({ length: STAGE_COUNT }, () => []);
  private readonly chainQueue: HubData[] = [];
  private readonly viewQueue: HubData[] = [];
  private readonly dirtyGroups = { dup: new Set<string>(), lot: new Set<string>(), dbr: new Set<string>() };
  private readonly deadlines = new DeadlineHeap();

  constructor(opts: ResolverOptions) {
    if (!opts || !Array.isArray(opts.roots) || opts.roots.some((r) => typeof r !== 'string' || !B64_32.test(r))) {
      throw new ShuniuError('E_ARGUMENT', 'ResolverOptions.roots must be an array of hub ids (43 base64url characters)');
    }
    if (opts.sha256 !== undefined && typeof opts.sha256 !== 'function') throw new ShuniuError('E_ARGUMENT', 'ResolverOptions.sha256 must be a function');
    if (opts.sha256Text !== undefined && typeof opts.sha256Text !== 'function')
      throw new ShuniuError('E_ARGUMENT', 'ResolverOptions.sha256Text must be a function');
    this.roots = new Set(opts.roots);
    this.hashText = opts.sha256Text ?? textHasher(opts.sha256);
  }

  /** Number of distinct records applied. */
  get size(): number {
    return this.records;
  }

  /** The node of an id, created on first sight. */
  private node(id: string): Obj {
    let o = this.nodes.get(id);
    if (o === undefined) {
      o = new Obj(id);
      this.nodes.set(id, o);
    }
    return o;
  }

  private mark(o: Obj, stage: number): void {
    const bit = 1 << stage;
    if ((o.mask & bit) !== 0) return;
    o.mask |= bit;
    (this.queue[stage] as Obj[]).push(o);
  }

  private markChain(h: HubData): void {
    if (h.dirtyChain) return;
    h.dirtyChain = true;
    this.chainQueue.push(h);
  }

  private markView(h: HubData): void {
    if (h.dirtyView) return;
    h.dirtyView = true;
    this.viewQueue.push(h);
  }

  /**
   * Adds one verified record. Idempotent; any order. Cheap: it files the
   * record under the ids it names and marks those objects for re-derivation,
   * which happens on the next state()/stateHash()/toJSON().
   */
  apply(v: Verified): void {
    const o = this.node(v.id);
    if (o.rec !== undefined) return;
    // Only what resolution reads is kept: not the signature (checked before) nor the version.
    const src = v.record;
    const r = { type: src.type, hub: src.hub, seq: src.seq, prev: src.prev, hlc: src.hlc, body: src.body } as Rec;
    o.rec = r;
    this.records++;
    if (r.hlc.ms > this.clock) this.clock = r.hlc.ms;

    let h = this.hubData.get(r.hub);
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
        admitted: this.roots.has(r.hub) || this.admissionOf.has(r.hub),
        full: false,
        count: 0,
        dirtyChain: false,
        dirtyView: false,
      };
      this.hubData.set(r.hub, h);
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
    this.markChain(h);
    this.markView(h);

    switch (r.type) {
      case 'hub.admitted':
        h.admissions.push(o);
        this.admissionDirty = true;
        break;
      case 'hub.admission.revoked':
        h.revocations.push(o);
        this.admissionDirty = true;
        break;
      case 'hub.profile':
        h.profiles.push(o);
        break;
      case 'hub.keys.rotated':
        h.rotations.push(o);
        if (r.body.recovery) {
          h.recoveries.push(o);
          h.full = true;
          if (o.vouches !== undefined) this.contested.add(h.id);
        }
        break;
      case 'attestation':
        if (r.body.kind === 'recovery_vouched') {
          const t = this.node(r.body.subject);
          t.vouches = add(t.vouches, o);
          if (t.rec?.type === 'hub.keys.rotated' && t.rec.body.recovery) this.contested.add(t.rec.hub);
        }
        break;
      case 'need.updated':
      case 'need.closed': {
        const t = this.node(r.body.need);
        o.t1 = t;
        t.needUpd = add(t.needUpd, o);
        break;
      }
      case 'offer.updated':
      case 'offer.withdrawn': {
        const t = this.node(r.body.offer);
        o.t1 = t;
        t.offerUpd = add(t.offerUpd, o);
        break;
      }
      case 'allocation': {
        const offer = this.node(r.body.offer);
        const need = this.node(r.body.need);
        o.t1 = offer;
        o.t2 = need;
        offer.offerAlloc = add(offer.offerAlloc, o);
        need.needAlloc = add(need.needAlloc, o);
        break;
      }
      case 'allocation.accepted':
      case 'allocation.declined': {
        const t = this.node(r.body.allocation);
        o.t1 = t;
        t.allocDec = add(t.allocDec, o);
        break;
      }
      case 'custody.handoff':
        o.allocs = r.body.allocations.map((a) => this.node(a));
        if (r.body.corrects === undefined) this.setRoot(o, o);
        else {
          const c = this.node(r.body.corrects);
          o.t1 = c;
          if (c.root !== undefined) this.setRoot(o, c.root);
          else c.waitHandoff = add(c.waitHandoff, o);
        }
        break;
      case 'custody.receipt': {
        const hd = this.node(r.body.handoff);
        o.t1 = hd;
        if (hd.root !== undefined) hd.root.shipReceipts = add(hd.root.shipReceipts, o);
        else hd.waitHandoff = add(hd.waitHandoff, o);
        break;
      }
      case 'custody.delivered': {
        const need = this.node(r.body.need);
        o.t1 = need;
        need.needDeliv = add(need.needDeliv, o);
        if (r.body.corrects !== undefined) {
          const c = this.node(r.body.corrects);
          o.t2 = c;
          c.correctedBy = add(c.correctedBy, o);
        }
        break;
      }
      default:
        break;
    }
  }

  /** A handoff joins its shipment; receipts and corrections that waited for it follow. */
  private setRoot(handoff: Obj, root: Obj): void {
    handoff.root = root;
    root.shipVersions = add(root.shipVersions, handoff);
    for (const a of handoff.allocs as Obj[]) {
      const ships = a.allocShip;
      if (ships === undefined) a.allocShip = [root];
      else if (!ships.includes(root)) ships.push(root);
    }
    this.mark(root, SHIP);
    const waiting = handoff.waitHandoff;
    if (!waiting) return;
    handoff.waitHandoff = undefined;
    this.mark(handoff, PENDING);
    for (const w of waiting) {
      if (recOf(w).type === 'custody.handoff') this.setRoot(w, root);
      else root.shipReceipts = add(root.shipReceipts, w);
    }
  }

  /** True when a record takes part in the state: its author is admitted and it lies on the author's counting chain. */
  private counts(o: Obj): boolean {
    const r = o.rec;
    if (r === undefined) return false;
    const h = o.h as HubData;
    return h.admitted && h.live[r.seq] === o;
  }

  private onChain(o: Obj): boolean {
    const r = o.rec;
    return r !== undefined && (o.h as HubData).live[r.seq] === o;
  }

  /** Marks what a record feeds, after it started or stopped counting. */
  private touch(o: Obj): void {
    const r = recOf(o);
    this.markView(o.h as HubData);
    switch (r.type) {
      case 'hub.admitted':
      case 'hub.admission.revoked':
        this.admissionDirty = true;
        break;
      case 'hub.profile':
        // A root admits with the level and region of its latest profile.
        if (this.roots.has(r.hub)) this.admissionDirty = true;
        break;
      case 'need.posted':
        this.mark(o, NEED_BASE);
        break;
      case 'need.updated':
      case 'need.closed':
        this.mark(o.t1 as Obj, NEED_BASE);
        this.mark(o.t1 as Obj, PENDING);
        break;
      case 'offer.posted':
        this.mark(o, OFFER_BASE);
        break;
      case 'offer.updated':
      case 'offer.withdrawn':
        this.mark(o.t1 as Obj, OFFER_BASE);
        this.mark(o.t1 as Obj, PENDING);
        break;
      case 'allocation':
        this.mark(o, ALLOC_BASE);
        this.mark(o.t1 as Obj, PENDING);
        this.mark(o.t2 as Obj, PENDING);
        break;
      case 'allocation.accepted':
      case 'allocation.declined':
        this.mark(o.t1 as Obj, ALLOC_BASE);
        this.mark(o.t1 as Obj, PENDING);
        break;
      case 'custody.handoff':
        if (o.root !== undefined) this.mark(o.root, SHIP);
        if (o.t1 !== undefined) this.mark(o.t1, PENDING);
        break;
      case 'custody.receipt': {
        const root = (o.t1 as Obj).root;
        if (root !== undefined) this.mark(root, SHIP);
        this.mark(o.t1 as Obj, PENDING);
        break;
      }
      case 'custody.delivered':
        this.mark(o, DELIV);
        if (o.t2 !== undefined) this.mark(o.t2, DELIV);
        this.mark(o.t1 as Obj, PENDING);
        break;
      default:
        break;
    }
  }

  // ---- hubs: counting chain, forks, recovery, admission ------------------------

  /**
   * Walks forward from the end of the counting chain `live`. Without a
   * recovery any second record at a seq is a fork and the chain stops before
   * it; after a recovery only children of the tip (by prev) compete, since the
   * thief's old branch continues elsewhere. Returns the fork seq or -1.
   */
  private extend(h: HubData, live: Obj[], afterRecovery: boolean): number {
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

  private refreshChain(h: HubData): void {
    const old = h.live;
    if (!h.full) {
      const start = old.length;
      h.forkedAt = this.extend(h, old, h.recovery !== undefined);
      if (h.admitted) for (let s = start; s < old.length; s++) this.touch(old[s] as Obj);
      if (old.length > start && (h.admissions.length > 0 || h.revocations.length > 0)) this.admissionDirty = true;
      return;
    }
    h.full = false;
    let live: Obj[] = [];
    h.recovery = undefined;
    if (h.recoveries.length > 0) {
      // The winning recovery (vouched first, then the greatest hlc, then id)
      // decides the branch that survives: its ancestors by prev, then its descendants.
      const win = this.pickRecovery(h) as Obj;
      h.win = win;
      const path: Obj[] = [];
      let cur: Obj | undefined = win;
      while (cur !== undefined) {
        path.push(cur);
        const r = recOf(cur);
        if (r.seq === 0) break;
        const next: Obj | undefined = r.prev === null ? undefined : this.nodes.get(r.prev);
        if (!next?.rec || next.rec.hub !== h.id || next.rec.seq !== r.seq - 1) cur = undefined;
        else cur = next;
      }
      // Until every ancestor is held the branch cannot be checked: nothing counts yet.
      if (cur && recOf(cur).seq === 0 && recOf(cur).type === 'hub.inception') {
        live = path.reverse();
        h.recovery = win;
      }
    }
    if (h.recoveries.length === 0 || h.recovery !== undefined) h.forkedAt = this.extend(h, live, h.recovery !== undefined);
    else h.forkedAt = -1;
    h.live = live;
    if (h.admitted) {
      const n = Math.max(old.length, live.length);
      for (let s = 0; s < n; s++) {
        const a = old[s];
        const b = live[s];
        if (a === b) continue;
        if (a !== undefined) this.touch(a);
        if (b !== undefined) this.touch(b);
      }
    }
    if (h.admissions.length > 0 || h.revocations.length > 0) this.admissionDirty = true;
  }

  /**
   * Among a hub's recoveries (spec/keys.md §5.1): a vouched one beats every
   * one that is not; among equals the greatest hlc, then id, wins.
   */
  private pickRecovery(h: HubData): Obj | undefined {
    let best: Obj | undefined;
    let bestVouched = false;
    for (const o of h.recoveries) {
      const v = this.vouched(o);
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
  private vouched(o: Obj): boolean {
    if (o.vouches === undefined) return false;
    const r = recOf(o);
    const above = new Set<string>();
    for (let cur = this.admissionOf.get(r.hub); cur !== undefined && !above.has(cur.parent); cur = this.admissionOf.get(cur.parent)) above.add(cur.parent);
    if (above.size === 0) return false;
    for (const a of o.vouches) {
      const ar = a.rec as RecordOf<'attestation'>;
      if (ar.body.result === 'pass' && above.has(ar.hub) && ar.hlc.ms <= r.hlc.ms + VOUCH_WINDOW_MS && this.counts(a)) return true;
    }
    return false;
  }

  /**
   * The admissions of admitter `h` in force: per child, among its counting
   * (on-chain) hub.admitted and hub.admission.revoked records naming that
   * child, the one with the highest seq decides; only admissions are returned.
   */
  private admissionsInForce(h: HubData): Obj[] {
    if (h.revocations.length === 0 && h.admissions.length <= 1) return h.admissions.filter((a) => this.onChain(a));
    const latest = new Map<string, Obj>();
    for (const list of [h.admissions, h.revocations])
      for (const o of list) {
        if (!this.onChain(o)) continue;
        const r = o.rec as RecordOf<'hub.admitted'> | RecordOf<'hub.admission.revoked'>;
        const cur = latest.get(r.body.child);
        if (cur === undefined || r.seq > recOf(cur).seq) latest.set(r.body.child, o);
      }
    const out: Obj[] = [];
    for (const o of latest.values()) if (recOf(o).type === 'hub.admitted') out.push(o);
    return out;
  }

  /**
   * Admission (spec/resolution.md §1): reachability from the roots over the
   * admissions in force that are within their admitter's scope; the chosen
   * chain is the shortest, ties by (hlc, id) of the admission. An admission
   * out of scope is no edge and an `admission_scope` conflict. The admitted
   * set is admittedHubs(roots, edges), the function a node's trust uses too.
   */
  private refreshAdmission(): void {
    this.admissionDirty = false;
    const next = new Map<string, { parent: string; record: string }>();
    const edges: AdmissionEdge[] = [];
    const scope: Conflict[] = [];
    // What each admitted hub admits with: for a root its latest profile, otherwise its own admission's level and region.
    const standing = new Map<string, { root: boolean; level?: HubLevel; region?: string }>();
    for (const root of this.roots) {
      const h = this.hubData.get(root);
      const p = h ? this.latestOnChain(h, h.profiles) : undefined;
      const b = p ? (p.rec as RecordOf<'hub.profile'>).body : undefined;
      standing.set(root, b ? { root: true, level: b.level, region: b.region } : { root: true });
    }
    const seen = new Set<string>(this.roots);
    let frontier = [...this.roots].sort();
    while (frontier.length > 0) {
      const best = new Map<string, { parent: string; record: string; hlc: Hlc; level: HubLevel; region: string }>();
      for (const p of frontier) {
        const h = this.hubData.get(p);
        if (!h) continue;
        const by = standing.get(p) as { root: boolean; level?: HubLevel; region?: string };
        for (const a of this.admissionsInForce(h)) {
          const r = a.rec as RecordOf<'hub.admitted'>;
          const child = r.body.child;
          if (!admissionInScope(by, r.body)) {
            const detail: Record<string, DetailValue> = { child, level: r.body.level, region: r.body.region };
            if (by.level !== undefined) detail.admitterLevel = by.level;
            if (by.region !== undefined) detail.admitterRegion = by.region;
            scope.push(conflict(`${a.id}/admission_scope`, 'admission_scope', [a.id], [p], detail));
            continue;
          }
          edges.push({ by: p, child, record: a.id });
          if (seen.has(child)) continue;
          const cur = best.get(child);
          if (!cur || byHlcId({ hlc: r.hlc, id: a.id }, { hlc: cur.hlc, id: cur.record }) < 0)
            best.set(child, { parent: p, record: a.id, hlc: r.hlc, level: r.body.level, region: r.body.region });
        }
      }
      frontier = [...best.keys()].sort();
      for (const [child, b] of best) {
        seen.add(child);
        next.set(child, { parent: b.parent, record: b.record });
        standing.set(child, { root: this.roots.has(child), level: b.level, region: b.region });
      }
    }
    edges.sort((a, b) => (a.by < b.by ? -1 : a.by > b.by ? 1 : a.child < b.child ? -1 : a.child > b.child ? 1 : 0));
    this.edges = edges;
    this.setGroupConflicts('adm', '', scope);
    const admittedSet = admittedHubs(this.roots, edges);
    const old = this.admissionOf;
    this.admissionOf = next;
    for (const h of this.hubData.values()) {
      const admitted = admittedSet.has(h.id);
      const o = old.get(h.id);
      const n = next.get(h.id);
      if (o?.record !== n?.record || o?.parent !== n?.parent) this.markView(h);
      if (admitted === h.admitted) continue;
      h.admitted = admitted;
      this.markView(h);
      forEachObj(h, (x) => (admitted ? this.held.delete(x.id) : this.held.set(x.id, h.id)));
      for (const x of h.live) this.touch(x);
    }
    // A changed parent changes the whole chain below it: refresh every hub view (admissions are rare).
    for (const h of this.hubData.values()) if (next.has(h.id) || old.has(h.id)) this.markView(h);
  }

  /**
   * The admissions that count (spec/resolution.md §1): by an admitted hub, on
   * its counting chain, within its scope, not revoked; sorted by (by, child).
   * `admittedHubs(roots, admissionEdges())` is the set of admitted hubs; a
   * node's trust is the same call with its blocked hubs excluded.
   */
  admissionEdges(): AdmissionEdge[] {
    this.flush();
    return this.edges.map((e) => ({ by: e.by, child: e.child, record: e.record }));
  }

  private latestOnChain(h: HubData, list: Obj[]): Obj | undefined {
    let best: Obj | undefined;
    for (const o of list) {
      const r = recOf(o);
      if (h.live[r.seq] !== o) continue;
      if (!best || r.seq > recOf(best).seq) best = o;
    }
    return best;
  }

  private hubView(h: HubData): void {
    const id = h.id;
    const root = this.roots.has(id);
    const forks = [...h.forkSeqs].sort((a, b) => a - b).map((seq) => ({ ids: sorted((objsAt(h, seq) as Obj[]).map((o) => o.id)), seq }));
    let admission: string | undefined;
    let admissionChain: string[] = [];
    let level: HubState['level'];
    let region: string | undefined;
    const adm = this.admissionOf.get(id);
    if (h.admitted && adm) {
      const chain: string[] = [];
      let cur: string | undefined = adm.parent;
      while (cur !== undefined && chain.length <= this.admissionOf.size) {
        chain.push(cur);
        cur = this.admissionOf.get(cur)?.parent;
      }
      admissionChain = chain;
      admission = adm.record;
      const ar = (this.nodes.get(adm.record) as Obj).rec as RecordOf<'hub.admitted'>;
      level = ar.body.level;
      region = ar.body.region;
    }
    let profile: HubState['profile'];
    const profO = this.latestOnChain(h, h.profiles);
    if (profO) {
      const b = (profO.rec as RecordOf<'hub.profile'>).body;
      // Members in sorted order (viewJson).
      const p = {} as NonNullable<HubState['profile']>;
      if (b.contact !== undefined) p.contact = b.contact;
      p.endpoints = b.endpoints;
      p.level = b.level;
      p.name = cName(b.name);
      if (b.parent !== undefined) p.parent = b.parent;
      p.record = profO.id;
      p.region = b.region;
      profile = p;
      if (root) {
        level = b.level;
        region = b.region;
      }
    }
    let keys: HubState['keys'];
    const rotO = this.latestOnChain(h, h.rotations);
    const incO = h.live[0];
    const kb = rotO ? (rotO.rec as RecordOf<'hub.keys.rotated'>).body : (incO?.rec as RecordOf<'hub.inception'> | undefined)?.body;
    const krec = rotO ? rotO.id : incO?.id;
    if (kb && krec) keys = { encryptionKey: kb.encryptionKey, record: krec, recoveryCommitment: kb.recoveryCommitment, signingKey: kb.signingKey };
    // Members in sorted order (viewJson).
    const v = {} as HubState;
    if (admission !== undefined) v.admission = admission;
    v.admissionChain = admissionChain;
    v.admitted = h.admitted;
    v.forks = forks;
    if (h.live.length > 0) v.head = { id: (h.live[h.live.length - 1] as Obj).id, seq: h.live.length - 1 };
    v.id = id;
    if (keys) v.keys = keys;
    if (level !== undefined) v.level = level;
    if (profile) v.profile = profile;
    v.records = h.count;
    if (h.recovery !== undefined) v.recovery = h.recovery.id;
    if (region !== undefined) v.region = region;
    v.root = root;
    v.status = !h.admitted ? 'suspended' : h.forkedAt >= 0 ? 'forked' : 'active';
    this.hubs.set(id, v);
    this.setGroupConflicts(
      'h',
      id,
      v.forks.map((f) =>
        conflict(`${id}/fork/${f.seq}`, 'fork', f.ids, [id], { seq: f.seq, recovered: h.recovery !== undefined && (h.forkedAt < 0 || f.seq < h.forkedAt) }),
      ),
    );
  }

  // ---- conflicts ------------------------------------------------------------------

  private replaceConflicts(old: string[] | undefined, list: Conflict[]): string[] | undefined {
    if (old) for (const k of old) this.conflicts.delete(k);
    for (const c of list) this.conflicts.set(c.id, c);
    return list.length === 0 ? undefined : list.map((c) => c.id);
  }

  private setGroupConflicts(kind: GroupOwner, owner: string, list: Conflict[]): void {
    const m = this.ownConflicts[kind];
    const old = m.get(owner);
    if (!old && list.length === 0) return;
    const ids = this.replaceConflicts(old, list);
    if (ids === undefined) m.delete(owner);
    else m.set(owner, ids);
  }

  private setConflicts(kind: ObjOwner, o: Obj, list: Conflict[]): void {
    const old = o.own?.[kind];
    if (!old && list.length === 0) return;
    const ids = this.replaceConflicts(old, list);
    if (ids !== undefined) {
      if (o.own === undefined) o.own = {};
      o.own[kind] = ids;
    } else if (o.own) {
      delete o.own[kind];
      if (Object.keys(o.own).length === 0) o.own = undefined;
    }
  }

  private unauthorised(r: Rec, id: string, target: string, expected: string): Conflict {
    return conflict(`${id}/unauthorised`, 'unauthorised', [id, target], [r.hub, expected], { type: r.type, author: r.hub, expected });
  }

  // ---- needs and offers -----------------------------------------------------------

  private needBase(o: Obj): void {
    const old = o.need;
    const p = o.rec;
    const own: Conflict[] = [];
    let info: NeedInfo | undefined;
    if (p && p.type === 'need.posted' && this.counts(o)) {
      const b = p.body;
      info = {
        hub: p.hub,
        hlc: p.hlc,
        body: b,
        quantity: mul(b.quantity, b.unit.size),
        urgency: b.urgency,
        neededBy: b.neededBy,
        neededByMs: timestampMs(b.neededBy),
        beneficiaries: b.beneficiaries,
        closed: undefined,
        updates: [],
        dupKey: `${b.requester.name}\u0000${b.requester.kind}\u0000${b.item.code}`,
        item: b.item,
        unit: b.unit,
        requester: b.requester,
        allocated: 0,
        standing: [],
      };
      for (const u of this.authorChanges(o.needUpd, o, p.hub, own)) {
        const r = recOf(u);
        if (r.type === 'need.updated') {
          const x = r.body;
          if (x.quantity !== undefined) info.quantity = mul(x.quantity, b.unit.size);
          if (x.urgency !== undefined) info.urgency = x.urgency;
          if (x.neededBy !== undefined) {
            info.neededBy = x.neededBy;
            info.neededByMs = timestampMs(x.neededBy);
          }
          if (x.beneficiaries !== undefined) info.beneficiaries = x.beneficiaries;
          info.updates.push(u.id);
        } else if (r.type === 'need.closed') info.closed = { reason: r.body.reason, record: u.id };
      }
      if (info.updates.length > 0) info.updates = info.updates.slice();
    }
    o.need = info;
    this.setConflicts('n', o, own);

    const dupKey = info?.dupKey ?? old?.dupKey;
    if (dupKey !== undefined) {
      if (info && info.closed?.reason !== 'cancelled') {
        const g = this.dupGroups.get(dupKey);
        if (g) g.add(o);
        else this.dupGroups.set(dupKey, new Set([o]));
      } else this.dupGroups.get(dupKey)?.delete(o);
      this.dirtyGroups.dup.add(dupKey);
    }
    const allocs = o.needAlloc;
    if (allocs !== undefined) {
      for (const a of allocs) {
        this.mark(a, ALLOC_BASE);
        const ships = a.allocShip;
        if (ships !== undefined) for (const s of ships) this.mark(s, SHIP);
      }
    }
    this.mark(o, NEED_STAGE);
    this.mark(o, NEED_VIEW);
    this.mark(o, PENDING);
  }

  /**
   * The counting records that change object `target`: its author's, in
   * sequence order; anyone else's become `unauthorised` conflicts in `own` (spec §2).
   */
  private authorChanges(changes: Obj[] | undefined, target: Obj, author: string, own: Conflict[]): Obj[] {
    if (changes === undefined) return NONE;
    const ups: Obj[] = [];
    for (const u of changes) {
      if (!this.counts(u)) continue;
      const r = recOf(u);
      if (r.hub !== author) own.push(this.unauthorised(r, u.id, target.id, author));
      else ups.push(u);
    }
    return ups.length > 1 ? ups.sort((a, b) => recOf(a).seq - recOf(b).seq) : ups;
  }

  private offerBase(o: Obj): void {
    const p = o.rec;
    const own: Conflict[] = [];
    let info: OfferInfo | undefined;
    if (p && p.type === 'offer.posted' && this.counts(o)) {
      const b = p.body;
      info = {
        hub: p.hub,
        hlc: p.hlc,
        body: b,
        quantity: mul(b.quantity, b.unit.size),
        valueFen: b.valueFen,
        intent: b.intent,
        withdrawn: undefined,
        updates: [],
        item: b.item,
        unit: b.unit,
        donor: b.donor,
      };
      for (const u of this.authorChanges(o.offerUpd, o, p.hub, own)) {
        const r = recOf(u);
        if (r.type === 'offer.updated') {
          const x = r.body;
          if (x.quantity !== undefined) info.quantity = mul(x.quantity, b.unit.size);
          if (x.valueFen !== undefined) info.valueFen = x.valueFen;
          if (x.intent !== undefined) info.intent = x.intent;
          info.updates.push(u.id);
        } else if (r.type === 'offer.withdrawn' && info.withdrawn === undefined) info.withdrawn = u.id;
      }
      if (info.updates.length > 0) info.updates = info.updates.slice();
    }
    o.offer = info;
    this.setConflicts('o', o, own);
    if (o.offerAlloc !== undefined) for (const a of o.offerAlloc) this.mark(a, ALLOC_BASE);
    this.mark(o, OFFER_STAGE);
    this.mark(o, OFFER_VIEW);
    this.mark(o, PENDING);
  }

  // ---- allocations ------------------------------------------------------------------

  private allocBase(o: Obj): void {
    const r = o.rec;
    const own: Conflict[] = [];
    if (r?.type === 'allocation') {
      this.mark(o.t1 as Obj, OFFER_STAGE);
      this.mark(o.t2 as Obj, NEED_STAGE);
      if (o.allocShip !== undefined) for (const s of o.allocShip) this.mark(s, SHIP);
    }
    this.mark(o, ALLOC_VIEW);
    this.mark(o, PENDING);
    if (r?.type !== 'allocation' || !this.counts(o)) {
      o.alloc = undefined;
      this.setConflicts('a', o, own);
      return;
    }
    const offerO = o.t1 as Obj;
    const needO = o.t2 as Obj;
    const offer = offerO.offer;
    const need = needO.need;
    if (!offer || !need) {
      o.alloc = undefined;
      this.setConflicts('a', o, own);
      return;
    }
    if (r.hub !== offer.hub) {
      o.alloc = undefined;
      own.push(this.unauthorised(r, o.id, offerO.id, offer.hub));
      this.setConflicts('a', o, own);
      return;
    }
    let decision: Obj | undefined;
    if (o.allocDec !== undefined) {
      for (const x of o.allocDec) {
        if (!this.counts(x)) continue;
        const dr = recOf(x);
        if (dr.hub !== need.hub) own.push(this.unauthorised(dr, x.id, o.id, need.hub));
        else if (!decision || dr.seq > recOf(decision).seq) decision = x;
      }
    }
    const info: AllocInfo = {
      o,
      offerO,
      needO,
      hub: r.hub,
      hlc: r.hlc,
      quantity: r.body.quantity,
      decided: decision ? (recOf(decision).type === 'allocation.accepted' ? 'accepted' : 'declined') : undefined,
      decision: decision?.id,
      voidReason: undefined,
      s1: false,
      s2: false,
    };
    if (offer.body.item.code !== need.body.item.code) {
      info.voidReason = 'item_mismatch';
      own.push(
        conflict(`${o.id}/item_mismatch`, 'item_mismatch', [o.id, offerO.id, needO.id], [offer.hub, need.hub], {
          offerItem: offer.body.item.code,
          needItem: need.body.item.code,
        }),
      );
    } else if (info.decided !== 'accepted' && offer.withdrawn !== undefined) info.voidReason = 'offer_withdrawn';
    else if (info.decided !== 'accepted' && need.closed !== undefined) info.voidReason = 'need_closed';
    o.alloc = info;
    this.setConflicts('a', o, own);
  }

  /** First pass: the offer's capacity, accepted allocations first, then by hlc and id. */
  private offerStage(o: Obj): void {
    const offer = o.offer;
    const cands: AllocInfo[] = [];
    if (o.offerAlloc !== undefined) {
      for (const a of o.offerAlloc) {
        const i = a.alloc;
        if (!i) continue;
        i.s1 = false;
        this.mark(a, ALLOC_VIEW);
        this.mark(i.needO, NEED_STAGE);
        if (!i.voidReason && i.decided !== 'declined') cands.push(i);
      }
    }
    this.mark(o, OFFER_VIEW);
    if (!offer) {
      this.setConflicts('os', o, []);
      return;
    }
    const { used, requested, surplus } = fill(cands, offer.quantity, (i) => {
      i.s1 = true;
    });
    const own: Conflict[] = [];
    if (surplus.length > 0) {
      own.push(
        conflict(
          `${o.id}/over_allocation`,
          'over_allocation',
          [o.id, ...cands.map((i) => i.o.id)],
          [offer.hub, ...cands.map((i) => (i.needO.need as NeedInfo).hub)],
          {
            offered: offer.quantity,
            requested,
            standing: used,
            surplus: sorted(surplus),
          },
        ),
      );
    }
    this.setConflicts('os', o, own);
  }

  /** Second pass: the need's capacity, over the allocations that stood the first pass, same order. */
  private needStage(o: Obj): void {
    const need = o.need;
    const cands: AllocInfo[] = [];
    if (o.needAlloc !== undefined) {
      for (const a of o.needAlloc) {
        const i = a.alloc;
        if (!i) continue;
        i.s2 = false;
        this.mark(a, ALLOC_VIEW);
        this.mark(i.offerO, OFFER_VIEW);
        if (i.s1) cands.push(i);
      }
    }
    this.mark(o, NEED_VIEW);
    if (!need) {
      this.setConflicts('ns', o, []);
      return;
    }
    const standing: string[] = [];
    const { used, requested, surplus } = fill(cands, need.quantity, (i) => {
      i.s2 = true;
      standing.push(i.o.id);
    });
    need.allocated = used;
    // Exact-size copies: an array grown by push() from empty reserves 16 slots, and these live in the state.
    need.standing = standing.slice();
    const own: Conflict[] = [];
    if (surplus.length > 0) {
      own.push(
        conflict(`${o.id}/over_fulfilment`, 'over_fulfilment', [o.id, ...cands.map((i) => i.o.id)], [need.hub, ...cands.map((i) => i.hub)], {
          needed: need.quantity,
          allocated: requested,
          standing: used,
          surplus: sorted(surplus),
        }),
      );
    }
    this.setConflicts('ns', o, own);
  }

  private allocView(o: Obj): void {
    const i = o.alloc;
    if (!i) {
      this.allocations.delete(o.id);
      return;
    }
    const status: AllocationState['status'] = i.voidReason
      ? 'void'
      : i.decided === 'declined'
        ? 'declined'
        : !i.s1 || !i.s2
          ? 'surplus'
          : i.decided === 'accepted'
            ? 'accepted'
            : 'proposed';
    // One literal with the members every allocation has (views-json.ts orders them), the optional ones after.
    const v: AllocationState = { id: o.id, hub: i.hub, hlc: i.hlc, offer: i.offerO.id, need: i.needO.id, quantity: i.quantity, status };
    if (i.decision !== undefined) v.decision = i.decision;
    if (status === 'surplus') v.surplusOf = i.s1 ? 'need' : 'offer';
    if (i.voidReason) v.voidReason = i.voidReason;
    this.allocations.set(o.id, v);
  }

  // ---- custody ------------------------------------------------------------------------

  private shipment(o: Obj): void {
    const id = o.id;
    const own: Conflict[] = [];
    const old = o.ship;
    let contrib: ShipContrib | undefined;
    let view: ShipmentState | undefined;
    const root = o.rec as RecordOf<'custody.handoff'>;
    const counts = this.counts(o);
    if (counts && root.hub !== root.body.from) own.push(this.unauthorised(root, id, id, root.body.from));
    else if (counts) {
      let eff = root;
      let effO = o;
      const versions: string[] = [];
      for (const vo of o.shipVersions ?? NONE) {
        if (!this.counts(vo) || !this.linkCounts(vo, o)) continue;
        const vr = vo.rec as RecordOf<'custody.handoff'>;
        // §2: signed by the first handoff's author, and keeping its `from` (a correction that changes
        // the sender names as expected the hub its `from` says should have signed it).
        if (vr.hub !== root.hub || vr.body.from !== root.hub) {
          own.push(this.unauthorised(vr, vo.id, id, vr.hub !== root.hub ? root.hub : vr.body.from));
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
        if (!this.counts(ro) || !this.isVersion(ro.t1 as Obj, o)) continue;
        const rr = ro.rec as RecordOf<'custody.receipt'>;
        if (rr.hub !== b.to) own.push(this.unauthorised(rr, ro.id, id, b.to));
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
        let s: ShipmentLineState;
        if (receipt) {
          const a = g ? g.accepted : 0;
          const r = g ? g.rejected : 0;
          const m = g ? g.missing : 0;
          s = { item: l.item, unit: l.unit, shipped: q, accepted: a, rejected: r, missing: m, unaccounted: q - a - r - m };
          if (g?.rejectReason !== undefined) s.rejectReason = g.rejectReason;
          if (s.unaccounted !== 0) mismatch = true;
          if (a !== q) discrepancy = true;
          acc = sat(acc + a);
          rej = sat(rej + r);
          mis = sat(mis + m);
        } else s = { item: l.item, unit: l.unit, shipped: q };
        if (l.expiry !== undefined) s.expiry = l.expiry;
        if (l.lot !== undefined) s.lot = l.lot;
        return s;
      });
      const ea = timestampMs(b.expectedArrival);
      let status: ShipmentState['status'] = 'in_transit';
      if (receipt) status = discrepancy ? 'received_with_discrepancy' : 'received';
      else if (ea < this.clock) status = 'overdue';
      else this.schedule(ea, 'ship', o);
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
        const n = a.needO.need;
        codes.push(n?.body.item.code);
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
    this.setConflicts('s', o, own);
    if (view) this.shipments.set(id, view);
    else this.shipments.delete(id);
    o.ship = contrib;

    // Move this shipment's contributions from the old groups to the new ones (put replaces a member).
    if (old) this.shipGroups(id, old, false);
    if (contrib) this.shipGroups(id, contrib, true);
    // The receipt of a handoff another version names also counts as pending until the handoff exists.
    this.mark(o, PENDING);
    for (const vo of o.shipVersions ?? NONE) this.mark(vo, PENDING);
  }

  /**
   * A correction joins the shipment of the handoff it names only through
   * records that change something (spec/resolution.md §1, §2, §6): every
   * handoff on its `corrects` path up to `root` counts and is authorised.
   */
  private linkCounts(vo: Obj, root: Obj): boolean {
    for (let x = vo.t1; x !== undefined && x !== root; x = x.t1) if (!this.authorisedVersion(x, root)) return false;
    return true;
  }

  /** A correction that counts and is signed by the shipment's sender (spec/resolution.md §2). */
  private authorisedVersion(vo: Obj, root: Obj): boolean {
    const r = recOf(root) as RecordOf<'custody.handoff'>;
    const v = vo.rec as RecordOf<'custody.handoff'> | undefined;
    return v !== undefined && this.counts(vo) && v.hub === r.hub && v.body.from === r.hub;
  }

  /** Whether `vo` is a version of the shipment `root` (counting and authorised): `root` itself or one of its counting, authorised corrections. */
  private isVersion(vo: Obj, root: Obj): boolean {
    return vo === root || (this.authorisedVersion(vo, root) && this.linkCounts(vo, root));
  }

  /** Removes (put false) or puts a shipment's contributions in the custody groups, marking them. */
  private shipGroups(id: string, c: ShipContrib, put: boolean): void {
    const dbr = this.dirtyGroups.dbr;
    const lot = this.dirtyGroups.lot;
    const pa = c.perAlloc;
    for (let i = 0; i < pa.k.length; i++) {
      const x = pa.v[i] as PerAlloc;
      this.mark(x.needO, NEED_VIEW);
      // The allocation's handoffs (double handoff, spec §Custody).
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
      this.mark(ao, DOUBLE_HANDOFF);
    }
    this.fileAmounts(this.dbrReceived, c.to, c.acceptedByItem, id, c.to, put, dbr);
    if (c.lotShipped !== undefined) this.fileAmounts(this.lotShipped, c.from, c.lotShipped, id, c.to, put, lot);
    if (c.lotAccepted !== undefined) this.fileAmounts(this.lotHeld, c.to, c.lotAccepted, id, c.to, put, lot);
  }

  /** Puts (or removes) one shipment's amounts into the groups keyed `<owner>|<key>` and marks those groups dirty. */
  private fileAmounts(m: Map<string, Group>, owner: string, amounts: SmallMap<number>, id: string, to: string, put: boolean, dirty: Set<string>): void {
    for (let i = 0; i < amounts.k.length; i++) {
      const k = `${owner}|${amounts.k[i]}`;
      const g = this.group(m, k);
      if (put) g.put(id, to, amounts.v[i] as number);
      else g.remove(id);
      dirty.add(k);
    }
  }

  private group(m: Map<string, Group>, k: string): Group {
    let g = m.get(k);
    if (!g) {
      g = new Group();
      m.set(k, g);
    }
    return g;
  }

  private delivery(o: Obj): void {
    const id = o.id;
    const r = o.rec;
    const old = o.deliv;
    let c: DelivContrib | undefined;
    if (r && r.type === 'custody.delivered' && this.counts(o)) {
      const superseded = (o.correctedBy ?? NONE).some((x) => this.counts(x) && recOf(x).hub === r.hub);
      if (!superseded) {
        c = { hub: r.hub, needO: o.t1 as Obj, byItem: new SmallMap() };
        for (const l of r.body.lines) c.byItem.set(l.item.code, sat((c.byItem.get(l.item.code) ?? 0) + mul(l.quantity, l.unit.size)));
      }
    }
    o.deliv = c;
    for (const x of old === undefined ? (c === undefined ? [] : [c]) : c === undefined ? [old] : [old, c]) {
      const put = x === c;
      this.mark(x.needO, NEED_VIEW);
      const bi = x.byItem;
      for (let i = 0; i < bi.k.length; i++) {
        const k = `${x.hub}|${bi.k[i]}`;
        const g = this.group(this.dbrDelivered, k);
        if (put) g.put(id, x.hub, bi.v[i] as number);
        else g.remove(id);
        this.dirtyGroups.dbr.add(k);
      }
    }
  }

  // ---- views with the record clock ----------------------------------------------------

  private needView(o: Obj): void {
    const id = o.id;
    const info = o.need;
    if (!info) {
      this.needs.delete(id);
      return;
    }
    const st = info;
    let inTransit = 0;
    let received = 0;
    for (const a of o.needAlloc ?? NONE) {
      const ships = a.allocShip;
      if (ships === undefined) continue;
      for (const s of ships) {
        const c = s.ship;
        const pa = c?.perAlloc.get(a.id);
        if (!c || !pa || c.to !== info.hub) continue;
        if (c.received) received = sat(received + pa.accepted);
        else inTransit = sat(inTransit + pa.shipped);
      }
    }
    let delivered = 0;
    const deliveries: string[] = [];
    for (const x of o.needDeliv ?? NONE) {
      const c = x.deliv;
      if (!c) continue;
      deliveries.push(x.id);
      delivered = sat(delivered + (c.byItem.get(info.body.item.code) ?? 0));
    }
    const b = info.body;
    let status: NeedState['status'];
    if (info.closed) status = info.closed.reason;
    else if (delivered >= info.quantity) status = 'fulfilled';
    else if (delivered > 0) status = 'partly_delivered';
    else if (st.allocated >= info.quantity) status = 'allocated';
    else if (info.neededByMs < this.clock) status = 'expired';
    else {
      status = st.allocated > 0 ? 'partly_allocated' : 'open';
      this.schedule(info.neededByMs, 'needView', o);
    }
    // One literal with the members every need has (views-json.ts orders them), the optional ones after.
    const v: NeedState = {
      id,
      hub: info.hub,
      hlc: info.hlc,
      item: info.item,
      unit: info.unit,
      quantity: info.quantity,
      urgency: info.urgency,
      neededBy: info.neededBy,
      region: b.region,
      beneficiaries: info.beneficiaries,
      requester: info.requester,
      status,
      allocated: st.allocated,
      inTransit,
      received,
      delivered,
      allocations: st.standing,
      deliveries: deliveries.length <= 1 ? deliveries.slice() : deliveries.sort().slice(),
      updates: info.updates,
    };
    if (b.campaign !== undefined) v.campaign = b.campaign;
    if (b.purpose !== undefined) v.purpose = b.purpose;
    if (info.closed) v.closed = info.closed;
    this.needs.set(id, v);
  }

  private offerView(o: Obj): void {
    const id = o.id;
    const info = o.offer;
    if (!info) {
      this.offers.delete(id);
      return;
    }
    const standing: AllocInfo[] = [];
    for (const a of o.offerAlloc ?? NONE) {
      const i = a.alloc;
      if (i?.s1 && i.s2 && !i.voidReason && i.decided !== 'declined') standing.push(i);
    }
    standing.sort(allocOrder);
    let allocated = 0;
    for (const i of standing) allocated = sat(allocated + i.quantity);
    const b = info.body;
    const until = info.intent.validUntil === undefined ? undefined : timestampMs(info.intent.validUntil);
    let status: OfferState['status'];
    if (info.withdrawn !== undefined) status = 'withdrawn';
    else if (allocated >= info.quantity) status = 'allocated';
    else if (until !== undefined && until < this.clock) status = 'expired';
    else {
      status = 'available';
      if (until !== undefined) this.schedule(until, 'offerView', o);
    }
    // One literal with the members every offer has (views-json.ts orders them), the optional ones after.
    const v: OfferState = {
      id,
      hub: info.hub,
      hlc: info.hlc,
      kind: b.kind,
      item: info.item,
      unit: info.unit,
      quantity: info.quantity,
      valueFen: info.valueFen,
      donor: info.donor,
      intent: info.intent,
      region: b.region,
      status,
      allocated,
      available: Math.max(0, info.quantity - allocated),
      allocations: standing.map((i) => i.o.id),
      updates: info.updates,
    };
    if (b.availableFrom !== undefined) v.availableFrom = b.availableFrom;
    if (b.campaign !== undefined) v.campaign = b.campaign;
    if (info.withdrawn !== undefined) v.withdrawn = info.withdrawn;
    this.offers.set(id, v);
  }

  // ---- groups ---------------------------------------------------------------------------

  /**
   * Likely duplicate needs of one (requester, item) group (spec/resolution.md §5):
   * the group's needs sorted by (neededBy, id) split into clusters, maximal runs
   * whose consecutive neededBy differ by at most DUPLICATE_WINDOW_MS; a cluster
   * with needs of two or more hubs is ONE conflict naming all its needs. Linear
   * in the group after the sort (no pairs), a pure function of the set.
   */
  private dupGroup(key: string): void {
    type Dup = { id: string; hub: string; neededByMs: number; body: NeedInfo['body'] };
    const ids = this.dupGroups.get(key);
    const infos: { id: string; hub: string; neededByMs: number; body: NeedInfo['body'] }[] = [];
    if (ids !== undefined)
      for (const o of ids) if (o.need !== undefined) infos.push({ id: o.id, hub: o.need.hub, neededByMs: o.need.neededByMs, body: o.need.body });
    infos.sort((a, b) => a.neededByMs - b.neededByMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const out: Conflict[] = [];
    let start = 0;
    for (let i = 1; i <= infos.length; i++) {
      if (i < infos.length && (infos[i] as Dup).neededByMs - (infos[i - 1] as Dup).neededByMs <= DUPLICATE_WINDOW_MS) continue;
      // infos[start, i) is a cluster.
      if (i - start >= 2) {
        const first = infos[start] as Dup;
        let multiHub = false;
        for (let j = start + 1; j < i && !multiHub; j++) multiHub = (infos[j] as Dup).hub !== first.hub;
        if (multiHub) {
          const members = infos.slice(start, i);
          const recs = sorted(members.map((n) => n.id));
          out.push(
            conflict(
              `${recs[0]}/duplicate_need`,
              'duplicate_need',
              recs,
              members.map((n) => n.hub),
              {
                requester: first.body.requester.name,
                item: first.body.item.code,
                needs: recs.length,
              },
            ),
          );
        }
      }
      start = i;
    }
    if (ids && ids.size === 0) this.dupGroups.delete(key);
    this.setGroupConflicts('dup', key, out);
  }

  /** An allocation's handoffs, per sender: the same goods handed to two receivers beyond the allocation is a double handoff. */
  private dhCheck(o: Obj): void {
    const list = o.dh;
    const ai = o.alloc;
    const out: Conflict[] = [];
    // One handoff (the usual case) cannot go to two receivers.
    if (list !== undefined && list.length >= 2 && ai !== undefined) {
      const bySender = new Map<string, { ships: string[]; to: Set<string>; total: number }>();
      for (const h of list) {
        const g = bySender.get(h.from);
        if (g === undefined) bySender.set(h.from, { ships: [h.ship], to: new Set([h.to]), total: h.q });
        else {
          g.ships.push(h.ship);
          g.to.add(h.to);
          g.total = sat(g.total + h.q);
        }
      }
      const alloc = o.id;
      for (const [from, g] of bySender) {
        if (g.to.size >= 2 && g.total > ai.quantity) {
          out.push(
            conflict(`${alloc}/double_handoff/${from}`, 'double_handoff', [alloc, ...g.ships], [from, ...g.to], {
              allocation: alloc,
              held: ai.quantity,
              handedOff: g.total,
            }),
          );
        }
      }
    }
    this.setConflicts('dh', o, out);
  }

  private lotCheck(key: string): void {
    const s = this.lotShipped.get(key);
    const h = this.lotHeld.get(key);
    const out: Conflict[] = [];
    if (s && h && h.total > 0) {
      const to = new Set(s.tos);
      if (to.size >= 2 && s.total > h.total) {
        const [from, item, ...lot] = key.split('|') as [string, string, ...string[]];
        out.push(
          conflict(`${from}/double_handoff/${digest(key)}`, 'double_handoff', [...s.keys, ...h.keys], [from, ...to], {
            item,
            lot: lot.join('|'),
            held: h.total,
            handedOff: s.total,
          }),
        );
      }
    }
    if (s && s.size === 0) this.lotShipped.delete(key);
    if (h && h.size === 0) this.lotHeld.delete(key);
    this.setGroupConflicts('lot', key, out);
  }

  private dbrCheck(key: string): void {
    const rcv = this.dbrReceived.get(key);
    const dlv = this.dbrDelivered.get(key);
    const out: Conflict[] = [];
    const received = rcv?.total ?? 0;
    if (dlv && dlv.total > received) {
      const [hub, item] = key.split('|') as [string, string];
      out.push(
        conflict(`${hub}/delivered_beyond_received/${item}`, 'delivered_beyond_received', [...dlv.keys], [hub], {
          item,
          received,
          delivered: dlv.total,
        }),
      );
    }
    if (rcv && rcv.size === 0) this.dbrReceived.delete(key);
    if (dlv && dlv.size === 0) this.dbrDelivered.delete(key);
    this.setGroupConflicts('dbr', key, out);
  }

  private pendingView(o: Obj): void {
    const id = o.id;
    // Is `id` an object? Only the derivation of its record's type can make it one.
    const t = o.rec?.type;
    if (
      t === 'need.posted'
        ? o.need !== undefined
        : t === 'offer.posted'
          ? o.offer !== undefined
          : t === 'allocation'
            ? o.alloc !== undefined
            : t === 'custody.handoff' && o.ship !== undefined
    ) {
      this.pending.delete(id);
      return;
    }
    const waiting: string[] = [];
    // A handoff that is not a version of a shipment in the state (held, off the chain, unauthorised): the receipts and corrections naming it wait.
    const root = o.root;
    if (t === 'custody.handoff' && root !== undefined && (root.ship === undefined || !this.isVersion(o, root))) {
      for (const x of root.shipReceipts ?? NONE) if (x.t1 === o && this.counts(x)) waiting.push(x.id);
      for (const x of root.shipVersions ?? NONE) if (x.t1 === o && this.counts(x)) waiting.push(x.id);
    }
    this.countingIn(o.needUpd, waiting);
    this.countingIn(o.needAlloc, waiting);
    this.countingIn(o.needDeliv, waiting);
    this.countingIn(o.offerUpd, waiting);
    this.countingIn(o.offerAlloc, waiting);
    this.countingIn(o.allocDec, waiting);
    this.countingIn(o.waitHandoff, waiting);
    if (waiting.length === 0) this.pending.delete(id);
    else this.pending.set(id, sorted(waiting));
  }

  private countingIn(xs: Obj[] | undefined, out: string[]): void {
    if (xs !== undefined) for (const x of xs) if (this.counts(x)) out.push(x.id);
  }

  /** Queues an object to be re-derived once the record clock passes `ms` (once per object and deadline). */
  private schedule(ms: number, stage: TimedStage, o: Obj): void {
    if (o.sched === ms) return;
    o.sched = ms;
    this.deadlines.push([ms, stage, o.id]);
  }

  // ---- flush ----------------------------------------------------------------------------

  private flush(): void {
    for (let top = this.deadlines.peek(); top && top[0] < this.clock; top = this.deadlines.peek()) {
      this.deadlines.pop();
      const [ms, stage, id] = top;
      const o = this.nodes.get(id);
      // An entry superseded by a later schedule of the same object is stale.
      if (o === undefined || o.sched !== ms) continue;
      o.sched = undefined;
      this.mark(o, TIMED[stage]);
    }
    const chains = this.chainQueue;
    for (let i = 0; i < chains.length; i++) {
      const h = chains[i] as HubData;
      h.dirtyChain = false;
      this.refreshChain(h);
    }
    chains.length = 0;
    if (this.admissionDirty) this.refreshAdmission();
    // Which recovery wins depends on the vouching hubs' chains and admission
    // (hubs above the recovering one): settle hub chains and admission together.
    for (let round = 0; this.contested.size > 0 && round <= this.hubData.size; round++) {
      for (const id of this.contested) {
        const h = this.hubData.get(id);
        if (h === undefined || h.recoveries.length === 0 || this.pickRecovery(h) === h.win) continue;
        h.full = true;
        this.markChain(h);
      }
      if (chains.length === 0) break;
      for (let i = 0; i < chains.length; i++) {
        const h = chains[i] as HubData;
        h.dirtyChain = false;
        this.refreshChain(h);
      }
      chains.length = 0;
      if (this.admissionDirty) this.refreshAdmission();
    }
    const views = this.viewQueue;
    for (const h of views) {
      if (h.toHold.length === 0) continue;
      if (!h.admitted) for (const x of h.toHold) this.held.set(x.id, h.id);
      h.toHold = [];
    }
    for (let i = 0; i < views.length; i++) {
      const h = views[i] as HubData;
      h.dirtyView = false;
      this.hubView(h);
    }
    views.length = 0;

    // Stage by stage (a stage only queues later ones), each a direct loop.
    this.run(NEED_BASE, (o) => this.needBase(o));
    this.run(OFFER_BASE, (o) => this.offerBase(o));
    this.run(ALLOC_BASE, (o) => this.allocBase(o));
    this.run(OFFER_STAGE, (o) => this.offerStage(o));
    this.run(NEED_STAGE, (o) => this.needStage(o));
    this.run(SHIP, (o) => this.shipment(o));
    this.run(DELIV, (o) => this.delivery(o));
    this.run(NEED_VIEW, (o) => this.needView(o));
    this.run(OFFER_VIEW, (o) => this.offerView(o));
    this.run(ALLOC_VIEW, (o) => this.allocView(o));
    for (const k of this.dirtyGroups.dup) this.dupGroup(k);
    this.run(DOUBLE_HANDOFF, (o) => this.dhCheck(o));
    for (const k of this.dirtyGroups.lot) this.lotCheck(k);
    for (const k of this.dirtyGroups.dbr) this.dbrCheck(k);
    for (const s of Object.values(this.dirtyGroups)) s.clear();
    this.run(PENDING, (o) => this.pendingView(o));
  }

  /** Derives every object queued for `stage`, in queue order. */
  private run(stage: number, f: (o: Obj) => void): void {
    const q = this.queue[stage] as Obj[];
    const clear = ~(1 << stage);
    for (let i = 0; i < q.length; i++) {
      const o = q[i] as Obj;
      o.mask &= clear;
      f(o);
    }
    q.length = 0;
  }

  /** The resolved state as plain JSON (maps keyed by id, in sorted key order). */
  state(): ResolvedState {
    this.flush();
    return {
      v: 1,
      clock: this.clock,
      hubs: this.hubs.toObject(),
      needs: this.needs.toObject(),
      offers: this.offers.toObject(),
      allocations: this.allocations.toObject(),
      shipments: this.shipments.toObject(),
      conflicts: this.conflicts.toObject(),
      held: this.held.toObject(),
      pending: this.pending.toObject(),
    };
  }

  /**
   * One map of the resolved state, as in `state()[name]`, without building
   * the others (a node's state routes ask for one at a time).
   *
   * @example resolver.collection('needs')
   */
  collection<K extends StateMapName>(name: K): ResolvedState[K] {
    this.flush();
    return this[name].toObject() as ResolvedState[K];
  }

  /**
   * The entries of one map of the resolved state, in no particular order and
   * without copying. A value is replaced, never mutated, when it changes, so a
   * reader may track changes by object identity (the node's matching worker
   * is sent only the entries whose object changed).
   *
   * @example for (const [id, need] of resolver.entries('needs')) ...
   */
  entries<K extends StateMapName>(name: K): IterableIterator<[string, ResolvedState[K][string]]> {
    this.flush();
    return this[name].entries() as IterableIterator<[string, ResolvedState[K][string]]>;
  }

  /** The record clock of the state (its `clock`: the greatest hlc.ms applied). */
  recordClock(): number {
    this.flush();
    return this.clock;
  }

  /**
   * base64url SHA-256 of the canonical state (spec/resolution.md §State hash):
   * digest of {v, clock, and for each map its root}, where a map's root is
   * digest({prefix: digest({key: digest(value)})}) over 4,096 key prefixes.
   * Only entries changed since the last call are re-hashed, then their
   * buckets. Equal on every replica that holds the same set of records.
   */
  stateHash(): string {
    this.flush();
    const h = this.hashText;
    return stateDigest(
      {
        allocations: this.allocations.root(h),
        clock: this.clock,
        conflicts: this.conflicts.root(h),
        held: this.held.root(h),
        hubs: this.hubs.root(h),
        needs: this.needs.root(h),
        offers: this.offers.root(h),
        pending: this.pending.root(h),
        shipments: this.shipments.root(h),
        v: 1,
      },
      h,
    );
  }

  /** Counts of the state's maps: cheap, for logs and metrics. */
  stats(): Record<'records' | 'hubs' | 'needs' | 'offers' | 'allocations' | 'shipments' | 'conflicts' | 'held' | 'pending', number> {
    this.flush();
    return {
      records: this.records,
      hubs: this.hubs.size,
      needs: this.needs.size,
      offers: this.offers.size,
      allocations: this.allocations.size,
      shipments: this.shipments.size,
      conflicts: this.conflicts.size,
      held: this.held.size,
      pending: this.pending.size,
    };
  }

  /**
   * Persistable snapshot of the whole resolver: the records it holds (without
   * signatures), its indexes, the derived objects and the state with its
   * cached digests (snapshot.ts), so that fromJSON() continues from it
   * without re-deriving or re-hashing. Plain JSON; every string is stored
   * once. Flushes first, so it carries no pending work.
   */
  toJSON(): ResolverSnapshot {
    const stateHash = this.stateHash();
    const e = new Encoder(REGISTRY);
    // The nodes first, with their records: bodies are written there once and referenced after. Then every other field, in LAYOUT order.
    e.nodes(this.nodes, OBJ_FIELDS);
    for (const k of LAYOUT_FIELDS) e.enc((this as unknown as Record<string, unknown>)[k]);
    return { v: 2, layout: LAYOUT, roots: [...this.roots].sort(), stateHash, records: this.records, strings: e.strings, shapes: e.shapes, chunks: e.chunks };
  }

  /**
   * Restores a resolver from toJSON() output without re-deriving anything.
   * The snapshot's records were verified before they were stored; they are
   * trusted, not re-verified. When `opts.roots` differ from the snapshot's,
   * the derived state does not apply and the held records are re-applied.
   * A v1 snapshot (records only, from earlier versions) is replayed.
   *
   * @throws ShuniuError E_ARGUMENT when the snapshot is not one (or from an incompatible version)
   */
  static fromJSON(snapshot: unknown, opts: ResolverOptions): Resolver {
    const s = snapshot as Partial<ResolverSnapshot> | Partial<ResolverSnapshotV1> | null;
    const r = new Resolver(opts);
    if (s && typeof s === 'object' && s.v === 1 && Array.isArray(s.records)) {
      s.records.forEach((e, i) => {
        if (!e || typeof e !== 'object' || typeof e.id !== 'string' || !B64_32.test(e.id) || !e.record || typeof e.record !== 'object') {
          throw new ShuniuError('E_ARGUMENT', `snapshot record ${i} is not {id, record}`, { path: ['records', i] });
        }
        r.apply({ id: e.id, record: e.record } as Verified);
      });
      return r;
    }
    if (
      !s ||
      typeof s !== 'object' ||
      s.v !== 2 ||
      !Array.isArray(s.strings) ||
      !Array.isArray(s.shapes) ||
      !Array.isArray(s.roots) ||
      !Array.isArray(s.chunks)
    ) {
      throw new ShuniuError('E_ARGUMENT', 'not a resolver snapshot: expected {v:2, roots, strings, shapes, chunks} (or {v:1, records})');
    }
    if (s.layout !== LAYOUT) throw new ShuniuError('E_ARGUMENT', 'resolver snapshot from an incompatible version (layout differs)');
    const d = new Decoder(s.strings, s.shapes, s.chunks, REGISTRY, (id) => new Obj(id));
    const nodes = d.dec() as Map<string, Obj>;
    if (!(nodes instanceof Map)) throw new ShuniuError('E_ARGUMENT', 'not a resolver snapshot: nodes expected first');
    const fields: Record<string, unknown> = { nodes };
    for (const k of LAYOUT_FIELDS) fields[k] = d.dec();
    d.end();
    // Re-link each record to its author's chain data; count the records.
    const hubData = fields.hubData as Map<string, HubData>;
    let records = 0;
    for (const o of nodes.values()) {
      if (o.rec === undefined) continue;
      o.h = hubData.get(o.rec.hub);
      if (o.h === undefined) throw new ShuniuError('E_ARGUMENT', 'not a resolver snapshot: a record without its hub');
      records++;
    }
    fields.records = records;
    const same = [...r.roots].sort().join() === [...s.roots].sort().join();
    const target = same ? r : new Resolver({ roots: s.roots as string[], sha256: opts.sha256, sha256Text: opts.sha256Text });
    Object.assign(target, fields);
    target.needs.json = needJson;
    target.offers.json = offerJson;
    target.allocations.json = allocationJson;
    target.shipments.json = shipmentJson;
    target.conflicts.json = conflictJson;
    if (same) return r;
    for (const [id, o] of target.nodes) if (o.rec !== undefined) r.apply({ id, record: o.rec } as unknown as Verified);
    return r;
  }
}

/** What Resolver.toJSON() returns (snapshot.ts describes `strings` and `state`). */
export interface ResolverSnapshot {
  v: 2;
  /** The resolver's field names: a snapshot restores only into the same layout. */
  layout: string;
  roots: string[];
  /** The state hash when the snapshot was taken (a restart can compare it). */
  stateHash: string;
  /** Number of records held. */
  records: number;
  /** Interned strings (code units for those with any above U+00FF). */
  strings: (string | number[])[];
  shapes: number[][];
  /** The value stream (snapshot.ts). */
  chunks: number[][];
}

/** Snapshots of earlier versions: the records only, replayed by fromJSON(). */
export interface ResolverSnapshotV1 {
  v: 1;
  roots: string[];
  stateHash: string;
  records: { id: string; record: SignedRecord }[];
}

const REGISTRY: Registry = {
  classes: { Group: Group.prototype, DeadlineHeap: DeadlineHeap.prototype, SmallMap: SmallMap.prototype },
  nodeId: (x) => (x instanceof Obj ? x.id : undefined),
  bucketMap: (parts) => BucketMap.restore(parts),
  isBucketMap: (x): x is BucketMap<unknown> => x instanceof BucketMap,
};

/** Fields that are not snapshot: options, the nodes (written first, separately), the record count (recounted) and the queues (empty after a flush). */
const NOT_SNAPSHOT = new Set(['roots', 'hashText', 'nodes', 'records', 'queue', 'chainQueue', 'viewQueue']);
/** The field names toJSON() writes after the nodes, so that a snapshot of another layout is refused rather than misread. */
const LAYOUT_FIELDS = Object.keys(new Resolver({ roots: [] })).filter((k) => !NOT_SNAPSHOT.has(k));
/** Bump SNAPSHOT_FORMAT when a field keeps its name but changes what it holds. */
// 3: duplicate_need conflicts are clusters, no longer pairs (spec/resolution.md §5).
// 4: one node per id (Obj) with references instead of id-keyed indexes.
// 5: the node table writes a bit mask of defined fields per node.
// 6: hub data keeps its admission revocations and winning recovery; admission edges, admission_scope conflicts, recovery vouches (issue 10).
const SNAPSHOT_FORMAT = 6;
const LAYOUT = `${SNAPSHOT_FORMAT}:${LAYOUT_FIELDS.join(',')}:${OBJ_FIELDS.join(',')}`;

function conflict(id: string, rule: ConflictRule, records: string[], hubs: string[], detail: Record<string, DetailValue>): Conflict {
  // Members in sorted order (viewJson).
  return { detail: sortedObject(detail), hubs: sorted(hubs), id, records: sorted(records), rule };
}

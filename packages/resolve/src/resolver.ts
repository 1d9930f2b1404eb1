import { compareHlc, digest, type Hlc, type RecordOf, ShuniuError, type SignedRecord, timestampMs, type Verified } from '@shuniu/protocol';
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
import { allocationJson, needJson, offerJson, shipmentJson } from './views-json.js';

/** Needs for one requester and item whose consecutive neededBy (sorted) lie within this window form one cluster of likely duplicates (spec/resolution.md §5). */
export const DUPLICATE_WINDOW_MS = 7 * 24 * 3600 * 1000;

const MAX = Number.MAX_SAFE_INTEGER;
/** Quantities saturate at 2^53−1 so the state stays I-JSON whatever the records say. */
const sat = (x: number): number => Math.min(x, MAX);
const mul = (q: number, size: number): number => sat(q * size);

const B64_32 = /^[A-Za-z0-9_-]{43}$/;

// Canonical copies of records' objects: members in sorted order, so that
// JSON.stringify of a view is its JCS text (buckets.ts viewJson). Records'
// objects are strict (spec/records.md), so these are all their members.
type Mut<T> = { -readonly [K in keyof T]: T[K] };
const cHlc = (x: Hlc): Hlc => ({ c: x.c, ms: x.ms }) as Hlc;
const cItem = (x: NeedState['item']): NeedState['item'] => ({ code: x.code, name: x.name });
const cUnit = (x: NeedState['unit']): NeedState['unit'] => ({ base: x.base, name: x.name, size: x.size });
const cBenef = (x: NeedState['beneficiaries']): NeedState['beneficiaries'] => ({ count: x.count, group: x.group });
function cOrg(x: { name: string; kind: string; region?: string }): NeedState['requester'] {
  const o: NeedState['requester'] = { kind: x.kind, name: x.name };
  if (x.region !== undefined) o.region = x.region;
  return o;
}
function cIntent(x: OfferState['intent']): OfferState['intent'] {
  const o: Mut<OfferState['intent']> = {};
  if (x.groups !== undefined) o.groups = x.groups;
  if (x.purposes !== undefined) o.purposes = x.purposes;
  if (x.regions !== undefined) o.regions = x.regions;
  if (x.validUntil !== undefined) o.validUntil = x.validUntil;
  return o;
}
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

interface HubData {
  id: string;
  /** The first id held at each seq (a sparse array when seqs are missing). */
  first: string[];
  /** Further ids at a seq: forks. */
  more: Map<number, string[]>;
  /** Records applied while the hub was not admitted, not yet listed in `held` (flush lists them if it still is not). */
  toHold: string[];
  /** live[seq] = the id that counts at that seq; the counting chain is live[0..length-1]. */
  live: string[];
  forkedAt: number;
  forkSeqs: Set<number>;
  recoveries: string[];
  recovery: string | undefined;
  admissions: string[];
  profiles: string[];
  rotations: string[];
  admitted: boolean;
  full: boolean;
  count: number;
}

interface NeedInfo {
  id: string;
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
  id: string;
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
  id: string;
  hub: string;
  hlc: Hlc;
  offer: string;
  need: string;
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
  perAlloc: SmallMap<{ shipped: number; accepted: number; need: string }>;
  /** Accepted base units per item code (for the receiver's holdings). */
  acceptedByItem: SmallMap<number>;
  /** Shipped base units per `item|lot`. */
  lotShipped: SmallMap<number>;
  /** Accepted base units per `item|lot`. */
  lotAccepted: SmallMap<number>;
}

interface DelivContrib {
  hub: string;
  need: string;
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
  keys(): string[] {
    return this.k;
  }
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (let i = 0; i < this.k.length; i++) yield [this.k[i] as string, this.v[i] as V];
  }
}

/**
 * A sum kept by delta plus its members (record id → receiving hub, quantity),
 * for the custody groups: parallel arrays, most groups having one or two
 * members, with an index once a group grows (so that put/remove stay O(1)).
 * Member order is not meaningful (every reader sorts or counts).
 */
class Group {
  keys: string[] = [];
  tos: string[] = [];
  qs: number[] = [];
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

type OwnerKind = 'h' | 'n' | 'o' | 'a' | 'os' | 'ns' | 's' | 'dup' | 'dh' | 'lot' | 'dbr';

type Stage = 'needBase' | 'offerBase' | 'allocBase' | 'offerStage' | 'needStage' | 'ship' | 'deliv' | 'needView' | 'offerView' | 'allocView';
const STAGES: Stage[] = ['needBase', 'offerBase', 'allocBase', 'offerStage', 'needStage', 'ship', 'deliv', 'needView', 'offerView', 'allocView'];

/** Binary min-heap of [deadline ms, stage, id]: objects whose status flips when the record clock passes a date. */
class DeadlineHeap {
  private readonly a: [number, Stage, string][] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): [number, Stage, string] | undefined {
    return this.a[0];
  }
  push(e: [number, Stage, string]): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as [number, Stage, string])[0] <= e[0]) break;
      a[i] = a[p] as [number, Stage, string];
      i = p;
    }
    a[i] = e;
  }
  pop(): [number, Stage, string] | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && (a[r] as [number, Stage, string])[0] < (a[l] as [number, Stage, string])[0] ? r : l;
      if ((a[c] as [number, Stage, string])[0] >= last[0]) break;
      a[i] = a[c] as [number, Stage, string];
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** Every id a hub holds at `seq`. */
function idsAt(h: HubData, seq: number): string[] | undefined {
  const f = h.first[seq];
  if (f === undefined) return undefined;
  const more = h.more.get(seq);
  return more ? [f, ...more] : [f];
}

/** Every id a hub holds, by seq. */
function forEachId(h: HubData, f: (id: string) => void): void {
  h.first.forEach((id, seq) => {
    f(id);
    const more = h.more.get(seq);
    if (more) for (const x of more) f(x);
  });
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function setAdd<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (s) s.add(v);
  else m.set(k, new Set([v]));
}

const byHlcId = (a: { hlc: Hlc; id: string }, b: { hlc: Hlc; id: string }): number => compareHlc(a.hlc, b.hlc) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
/** Resolution order of competing allocations: accepted first, then hlc, then record id (spec/resolution.md §Over-allocation). */
const allocOrder = (a: AllocInfo, b: AllocInfo): number => (a.decided === 'accepted' ? 0 : 1) - (b.decided === 'accepted' ? 0 : 1) || byHlcId(a, b);
/** A new array of the distinct strings of `xs`, sorted (by UTF-16 code units, as Array.prototype.sort). */
function sorted(xs: readonly string[]): string[] {
  if (xs.length <= 1) return xs.slice();
  const a = xs.slice().sort();
  let n = 1;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[n - 1]) a[n++] = a[i] as string;
  a.length = n;
  return a;
}

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
/** The maps of a resolved state. */
export type StateMapName = 'hubs' | 'needs' | 'offers' | 'allocations' | 'shipments' | 'conflicts' | 'held' | 'pending';

export class Resolver {
  private readonly roots: Set<string>;
  /** base64url SHA-256 of text for the state hash: ResolverOptions.sha256 or the pure one. Not part of snapshots. */
  private readonly hashText: TextDigest;
  private readonly recs = new Map<string, Rec>();
  private clock = 0;
  private readonly hubData = new Map<string, HubData>();
  private admissionDirty = false;
  private admissionOf = new Map<string, { parent: string; record: string }>();

  // Structural references: record ids attached to the id they name. Static
  // functions of the record set, so they never depend on arrival order.
  private readonly needUpd = new Map<string, string[]>();
  private readonly needAlloc = new Map<string, string[]>();
  private readonly needDeliv = new Map<string, string[]>();
  private readonly offerUpd = new Map<string, string[]>();
  private readonly offerAlloc = new Map<string, string[]>();
  private readonly allocDec = new Map<string, string[]>();
  private readonly allocShip = new Map<string, string[]>();
  private readonly handoffRoot = new Map<string, string>();
  private readonly shipVersions = new Map<string, string[]>();
  private readonly shipReceipts = new Map<string, string[]>();
  private readonly waitHandoff = new Map<string, string[]>();
  private readonly correctedBy = new Map<string, string[]>();

  // Derived, per object.
  private readonly needInfo = new Map<string, NeedInfo>();
  private readonly offerInfo = new Map<string, OfferInfo>();
  private readonly allocInfo = new Map<string, AllocInfo>();
  private readonly shipContrib = new Map<string, ShipContrib>();
  private readonly delivContrib = new Map<string, DelivContrib>();
  private readonly dupGroups = new Map<string, Set<string>>();
  private readonly dhGroups = new Map<string, Group>();
  private readonly lotShipped = new Map<string, Group>();
  private readonly lotHeld = new Map<string, Group>();
  private readonly dbrReceived = new Map<string, Group>();
  private readonly dbrDelivered = new Map<string, Group>();
  /** Conflict ids each owner (kind, then object id or group key) put in the state. */
  private readonly ownConflicts: Record<OwnerKind, Map<string, string[]>> = {
    h: new Map(),
    n: new Map(),
    o: new Map(),
    a: new Map(),
    os: new Map(),
    ns: new Map(),
    s: new Map(),
    dup: new Map(),
    dh: new Map(),
    lot: new Map(),
    dbr: new Map(),
  };

  // The resolved state, kept per bucket for the hash.
  private readonly hubs = new BucketMap<HubState>();
  private readonly needs = new BucketMap<NeedState>(needJson);
  private readonly offers = new BucketMap<OfferState>(offerJson);
  private readonly allocations = new BucketMap<AllocationState>(allocationJson);
  private readonly shipments = new BucketMap<ShipmentState>(shipmentJson);
  private readonly conflicts = new BucketMap<Conflict>();
  private readonly held = new BucketMap<string>();
  private readonly pending = new BucketMap<string[]>();

  private readonly dirty: Record<Stage, Set<string>> = Object.fromEntries(STAGES.map((s) => [s, new Set<string>()])) as Record<Stage, Set<string>>;
  private readonly dirtyHubs = new Set<string>();
  private readonly dirtyHubViews = new Set<string>();
  private readonly dirtyGroups = { dup: new Set<string>(), dh: new Set<string>(), lot: new Set<string>(), dbr: new Set<string>() };
  private readonly dirtyPending = new Set<string>();
  private readonly deadlines = new DeadlineHeap();
  /** The deadline each object is queued for, so that re-deriving an object does not queue it again. */
  private readonly scheduled: Record<'needView' | 'offerView' | 'ship', Map<string, number>> = { needView: new Map(), offerView: new Map(), ship: new Map() };

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
    return this.recs.size;
  }

  /**
   * Adds one verified record. Idempotent; any order. Cheap: it files the
   * record under the ids it names and marks those objects for re-derivation,
   * which happens on the next state()/stateHash()/toJSON().
   */
  apply(v: Verified): void {
    const id = v.id;
    if (this.recs.has(id)) return;
    // Only what resolution reads is kept: not the signature (checked before) nor the version.
    const src = v.record;
    const r = { type: src.type, hub: src.hub, seq: src.seq, prev: src.prev, hlc: src.hlc, body: src.body } as Rec;
    this.recs.set(id, r);
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
        admissions: [],
        profiles: [],
        rotations: [],
        admitted: this.roots.has(r.hub) || this.admissionOf.has(r.hub),
        full: false,
        count: 0,
      };
      this.hubData.set(r.hub, h);
    }
    h.count++;
    if (h.first[r.seq] !== undefined) {
      const more = h.more.get(r.seq);
      if (more) more.push(id);
      else h.more.set(r.seq, [id]);
      h.forkSeqs.add(r.seq);
    } else h.first[r.seq] = id;
    // A record below the tip may fork the chain; and while a recovery's
    // ancestry is incomplete, any record may be the missing ancestor.
    if (r.seq < h.live.length || (h.recoveries.length > 0 && h.recovery === undefined)) h.full = true;
    if (!h.admitted) h.toHold.push(id);
    this.dirtyHubs.add(r.hub);
    this.dirtyHubViews.add(r.hub);

    switch (r.type) {
      case 'hub.admitted':
        h.admissions.push(id);
        this.admissionDirty = true;
        break;
      case 'hub.profile':
        h.profiles.push(id);
        break;
      case 'hub.keys.rotated':
        h.rotations.push(id);
        if (r.body.recovery) {
          h.recoveries.push(id);
          h.full = true;
        }
        break;
      case 'need.updated':
      case 'need.closed':
        push(this.needUpd, r.body.need, id);
        break;
      case 'offer.updated':
      case 'offer.withdrawn':
        push(this.offerUpd, r.body.offer, id);
        break;
      case 'allocation':
        push(this.offerAlloc, r.body.offer, id);
        push(this.needAlloc, r.body.need, id);
        break;
      case 'allocation.accepted':
      case 'allocation.declined':
        push(this.allocDec, r.body.allocation, id);
        break;
      case 'custody.handoff':
        if (r.body.corrects === undefined) this.setRoot(id, id);
        else {
          const root = this.handoffRoot.get(r.body.corrects);
          if (root !== undefined) this.setRoot(id, root);
          else push(this.waitHandoff, r.body.corrects, id);
        }
        break;
      case 'custody.receipt': {
        const root = this.handoffRoot.get(r.body.handoff);
        if (root !== undefined) push(this.shipReceipts, root, id);
        else push(this.waitHandoff, r.body.handoff, id);
        break;
      }
      case 'custody.delivered':
        push(this.needDeliv, r.body.need, id);
        if (r.body.corrects !== undefined) push(this.correctedBy, r.body.corrects, id);
        break;
      default:
        break;
    }
  }

  /** A handoff joins its shipment; receipts and corrections that waited for it follow. */
  private setRoot(handoff: string, root: string): void {
    this.handoffRoot.set(handoff, root);
    push(this.shipVersions, root, handoff);
    const r = this.recs.get(handoff) as RecordOf<'custody.handoff'>;
    for (const a of r.body.allocations) {
      const ships = this.allocShip.get(a);
      if (ships === undefined) this.allocShip.set(a, [root]);
      else if (!ships.includes(root)) ships.push(root);
    }
    this.dirty.ship.add(root);
    const waiting = this.waitHandoff.get(handoff);
    if (!waiting) return;
    this.waitHandoff.delete(handoff);
    this.dirtyPending.add(handoff);
    for (const w of waiting) {
      const wr = this.recs.get(w) as Rec;
      if (wr.type === 'custody.handoff') this.setRoot(w, root);
      else push(this.shipReceipts, root, w);
    }
  }

  /** True when a record takes part in the state: its author is admitted and it lies on the author's counting chain. */
  private counts(id: string): boolean {
    const r = this.recs.get(id);
    if (!r) return false;
    const h = this.hubData.get(r.hub) as HubData;
    return h.admitted && h.live[r.seq] === id;
  }

  private onChain(id: string): boolean {
    const r = this.recs.get(id);
    if (!r) return false;
    return (this.hubData.get(r.hub) as HubData).live[r.seq] === id;
  }

  /** Marks what a record feeds, after it started or stopped counting. */
  private touch(id: string): void {
    const r = this.recs.get(id) as Rec;
    this.dirtyHubViews.add(r.hub);
    const d = this.dirty;
    switch (r.type) {
      case 'hub.admitted':
        this.admissionDirty = true;
        break;
      case 'need.posted':
        d.needBase.add(id);
        break;
      case 'need.updated':
      case 'need.closed':
        d.needBase.add(r.body.need);
        this.dirtyPending.add(r.body.need);
        break;
      case 'offer.posted':
        d.offerBase.add(id);
        break;
      case 'offer.updated':
      case 'offer.withdrawn':
        d.offerBase.add(r.body.offer);
        this.dirtyPending.add(r.body.offer);
        break;
      case 'allocation':
        d.allocBase.add(id);
        this.dirtyPending.add(r.body.offer);
        this.dirtyPending.add(r.body.need);
        break;
      case 'allocation.accepted':
      case 'allocation.declined':
        d.allocBase.add(r.body.allocation);
        this.dirtyPending.add(r.body.allocation);
        break;
      case 'custody.handoff': {
        const root = this.handoffRoot.get(id);
        if (root !== undefined) d.ship.add(root);
        if (r.body.corrects !== undefined) this.dirtyPending.add(r.body.corrects);
        break;
      }
      case 'custody.receipt': {
        const root = this.handoffRoot.get(r.body.handoff);
        if (root !== undefined) d.ship.add(root);
        this.dirtyPending.add(r.body.handoff);
        break;
      }
      case 'custody.delivered':
        d.deliv.add(id);
        if (r.body.corrects !== undefined) d.deliv.add(r.body.corrects);
        this.dirtyPending.add(r.body.need);
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
  private extend(h: HubData, live: string[], afterRecovery: boolean): number {
    for (;;) {
      const seq = live.length;
      const one = h.first[seq];
      if (one === undefined) return -1;
      const tip = seq === 0 ? null : live[seq - 1];
      if (!h.more.has(seq)) {
        // The common case: one record at this seq.
        const r = this.recs.get(one) as Rec;
        if (seq === 0 ? r.type !== 'hub.inception' : r.prev !== tip) return -1;
        live.push(one);
        continue;
      }
      const ids = idsAt(h, seq) as string[];
      const children = ids.filter((id) => {
        const r = this.recs.get(id) as Rec;
        return seq === 0 ? r.type === 'hub.inception' : r.prev === tip;
      });
      if (!afterRecovery && ids.length >= 2) return seq;
      if (children.length >= 2) return seq;
      if (children.length === 0) return -1;
      live.push(children[0] as string);
    }
  }

  private refreshChain(h: HubData): void {
    const old = h.live;
    if (!h.full) {
      const start = old.length;
      h.forkedAt = this.extend(h, old, h.recovery !== undefined);
      if (h.admitted) for (let s = start; s < old.length; s++) this.touch(old[s] as string);
      if (old.length > start && h.admissions.length > 0) this.admissionDirty = true;
      return;
    }
    h.full = false;
    let live: string[] = [];
    h.recovery = undefined;
    if (h.recoveries.length > 0) {
      // The recovery record with the greatest hlc (then id) decides the branch
      // that survives: its ancestors by prev, then its descendants.
      const win = h.recoveries.map((id) => ({ id, hlc: (this.recs.get(id) as Rec).hlc })).sort(byHlcId)[h.recoveries.length - 1] as { id: string };
      const path: string[] = [];
      let curId: string | null = win.id;
      let cur: Rec | undefined = this.recs.get(win.id);
      while (cur && curId !== null) {
        path.push(curId);
        if (cur.seq === 0) break;
        const prevId: string | null = cur.prev;
        const next: Rec | undefined = prevId === null ? undefined : this.recs.get(prevId);
        if (!next || next.hub !== h.id || next.seq !== cur.seq - 1) cur = undefined;
        else {
          cur = next;
          curId = prevId;
        }
      }
      // Until every ancestor is held the branch cannot be checked: nothing counts yet.
      if (cur && cur.seq === 0 && cur.type === 'hub.inception') {
        live = path.reverse();
        h.recovery = win.id;
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
    if (h.admissions.length > 0) this.admissionDirty = true;
  }

  /** Admission is reachability from the roots over counting hub.admitted records; the chosen chain is the shortest, ties by (hlc, id) of the admission. */
  private refreshAdmission(): void {
    this.admissionDirty = false;
    const next = new Map<string, { parent: string; record: string }>();
    const seen = new Set<string>(this.roots);
    let frontier = [...this.roots].sort();
    while (frontier.length > 0) {
      const best = new Map<string, { parent: string; record: string; hlc: Hlc }>();
      for (const p of frontier) {
        const h = this.hubData.get(p);
        if (!h) continue;
        for (const a of h.admissions) {
          if (!this.onChain(a)) continue;
          const r = this.recs.get(a) as RecordOf<'hub.admitted'>;
          const child = r.body.child;
          if (seen.has(child)) continue;
          const cur = best.get(child);
          if (!cur || byHlcId({ hlc: r.hlc, id: a }, { hlc: cur.hlc, id: cur.record }) < 0) best.set(child, { parent: p, record: a, hlc: r.hlc });
        }
      }
      frontier = [...best.keys()].sort();
      for (const [child, b] of best) {
        seen.add(child);
        next.set(child, { parent: b.parent, record: b.record });
      }
    }
    const old = this.admissionOf;
    this.admissionOf = next;
    for (const h of this.hubData.values()) {
      const admitted = this.roots.has(h.id) || next.has(h.id);
      const o = old.get(h.id);
      const n = next.get(h.id);
      if (o?.record !== n?.record || o?.parent !== n?.parent) this.dirtyHubViews.add(h.id);
      if (admitted === h.admitted) continue;
      h.admitted = admitted;
      this.dirtyHubViews.add(h.id);
      forEachId(h, (id) => (admitted ? this.held.delete(id) : this.held.set(id, h.id)));
      for (const id of h.live) this.touch(id);
    }
    // A changed parent changes the whole chain below it: refresh every hub view (admissions are rare).
    for (const h of this.hubData.values()) if (next.has(h.id) || old.has(h.id)) this.dirtyHubViews.add(h.id);
  }

  private latestOnChain(h: HubData, ids: string[]): Rec | undefined {
    let best: Rec | undefined;
    for (const id of ids) {
      if (h.live[(this.recs.get(id) as Rec).seq] !== id) continue;
      const r = this.recs.get(id) as Rec;
      if (!best || r.seq > best.seq) best = r;
    }
    return best;
  }

  private hubView(id: string): void {
    const h = this.hubData.get(id);
    if (!h) return;
    const root = this.roots.has(id);
    const forks = [...h.forkSeqs].sort((a, b) => a - b).map((seq) => ({ ids: sorted(idsAt(h, seq) as string[]), seq }));
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
      const ar = this.recs.get(adm.record) as RecordOf<'hub.admitted'>;
      level = ar.body.level;
      region = ar.body.region;
    }
    let profile: HubState['profile'];
    const prof = this.latestOnChain(h, h.profiles) as RecordOf<'hub.profile'> | undefined;
    if (prof) {
      const b = prof.body;
      // Members in sorted order (viewJson).
      const p = {} as NonNullable<HubState['profile']>;
      if (b.contact !== undefined) p.contact = b.contact;
      p.endpoints = b.endpoints;
      p.level = b.level;
      p.name = cName(b.name);
      if (b.parent !== undefined) p.parent = b.parent;
      p.record = h.live[prof.seq] as string;
      p.region = b.region;
      profile = p;
      if (root) {
        level = b.level;
        region = b.region;
      }
    }
    let keys: HubState['keys'];
    const rot = this.latestOnChain(h, h.rotations) as RecordOf<'hub.keys.rotated'> | undefined;
    const inc = h.live[0] === undefined ? undefined : (this.recs.get(h.live[0]) as RecordOf<'hub.inception'>);
    const kb = rot?.body ?? inc?.body;
    const krec = rot ? h.live[rot.seq] : h.live[0];
    if (kb && krec) keys = { encryptionKey: kb.encryptionKey, record: krec, recoveryCommitment: kb.recoveryCommitment, signingKey: kb.signingKey };
    // Members in sorted order (viewJson).
    const v = {} as HubState;
    if (admission !== undefined) v.admission = admission;
    v.admissionChain = admissionChain;
    v.admitted = h.admitted;
    v.forks = forks;
    if (h.live.length > 0) v.head = { id: h.live[h.live.length - 1] as string, seq: h.live.length - 1 };
    v.id = id;
    if (keys) v.keys = keys;
    if (level !== undefined) v.level = level;
    if (profile) v.profile = profile;
    v.records = h.count;
    if (h.recovery !== undefined) v.recovery = h.recovery;
    if (region !== undefined) v.region = region;
    v.root = root;
    v.status = !h.admitted ? 'suspended' : h.forkedAt >= 0 ? 'forked' : 'active';
    this.hubs.set(id, v);
    this.setConflicts(
      'h',
      id,
      v.forks.map((f) =>
        conflict(`${id}/fork/${f.seq}`, 'fork', f.ids, [id], { seq: f.seq, recovered: h.recovery !== undefined && (h.forkedAt < 0 || f.seq < h.forkedAt) }),
      ),
    );
  }

  // ---- conflicts ------------------------------------------------------------------

  private setConflicts(kind: OwnerKind, owner: string, list: Conflict[]): void {
    const m = this.ownConflicts[kind];
    const old = m.get(owner);
    if (!old && list.length === 0) return;
    if (old) for (const k of old) this.conflicts.delete(k);
    for (const c of list) this.conflicts.set(c.id, c);
    if (list.length === 0) m.delete(owner);
    else
      m.set(
        owner,
        list.map((c) => c.id),
      );
  }

  private unauthorised(r: Rec, id: string, target: string, expected: string): Conflict {
    return conflict(`${id}/unauthorised`, 'unauthorised', [id, target], [r.hub, expected], { type: r.type, author: r.hub, expected });
  }

  // ---- needs and offers -----------------------------------------------------------

  private needBase(id: string): void {
    const d = this.dirty;
    const old = this.needInfo.get(id);
    const p = this.recs.get(id);
    const own: Conflict[] = [];
    let info: NeedInfo | undefined;
    if (p && p.type === 'need.posted' && this.counts(id)) {
      const b = p.body;
      info = {
        id,
        hub: p.hub,
        hlc: cHlc(p.hlc),
        body: b,
        quantity: mul(b.quantity, b.unit.size),
        urgency: b.urgency,
        neededBy: b.neededBy,
        neededByMs: timestampMs(b.neededBy),
        beneficiaries: cBenef(b.beneficiaries),
        closed: undefined,
        updates: [],
        dupKey: `${b.requester.name}\u0000${b.requester.kind}\u0000${b.item.code}`,
        item: cItem(b.item),
        unit: cUnit(b.unit),
        requester: cOrg(b.requester),
        allocated: 0,
        standing: [],
      };
      for (const r of this.authorChanges(this.needUpd.get(id), id, p.hub, own)) {
        const rid = (this.hubData.get(r.hub) as HubData).live[r.seq] as string;
        if (r.type === 'need.updated') {
          const u = r.body;
          if (u.quantity !== undefined) info.quantity = mul(u.quantity, b.unit.size);
          if (u.urgency !== undefined) info.urgency = u.urgency;
          if (u.neededBy !== undefined) {
            info.neededBy = u.neededBy;
            info.neededByMs = timestampMs(u.neededBy);
          }
          if (u.beneficiaries !== undefined) info.beneficiaries = cBenef(u.beneficiaries);
          info.updates.push(rid);
        } else if (r.type === 'need.closed') info.closed = { reason: r.body.reason, record: rid };
      }
      this.needInfo.set(id, info);
    } else this.needInfo.delete(id);
    this.setConflicts('n', id, own);

    const dupKey = info?.dupKey ?? old?.dupKey;
    if (dupKey !== undefined) {
      if (info && info.closed?.reason !== 'cancelled') setAdd(this.dupGroups, dupKey, id);
      else this.dupGroups.get(dupKey)?.delete(id);
      this.dirtyGroups.dup.add(dupKey);
    }
    for (const a of this.needAlloc.get(id) ?? []) {
      d.allocBase.add(a);
      for (const s of this.allocShip.get(a) ?? []) d.ship.add(s);
    }
    d.needStage.add(id);
    d.needView.add(id);
    this.dirtyPending.add(id);
  }

  /**
   * The counting records that change object `id`: its author's, in sequence
   * order; anyone else's become `unauthorised` conflicts in `own` (spec §2).
   */
  private authorChanges(changes: Iterable<string> | undefined, id: string, author: string, own: Conflict[]): Rec[] {
    const ups: Rec[] = [];
    for (const u of changes ?? []) {
      if (!this.counts(u)) continue;
      const r = this.recs.get(u) as Rec;
      if (r.hub !== author) own.push(this.unauthorised(r, u, id, author));
      else ups.push(r);
    }
    return ups.sort((a, b) => a.seq - b.seq);
  }

  private offerBase(id: string): void {
    const p = this.recs.get(id);
    const own: Conflict[] = [];
    if (p && p.type === 'offer.posted' && this.counts(id)) {
      const b = p.body;
      const info: OfferInfo = {
        id,
        hub: p.hub,
        hlc: cHlc(p.hlc),
        body: b,
        quantity: mul(b.quantity, b.unit.size),
        valueFen: b.valueFen,
        intent: cIntent(b.intent),
        withdrawn: undefined,
        updates: [],
        item: cItem(b.item),
        unit: cUnit(b.unit),
        donor: { kind: b.donor.kind, name: b.donor.name },
      };
      for (const r of this.authorChanges(this.offerUpd.get(id), id, p.hub, own)) {
        const rid = (this.hubData.get(r.hub) as HubData).live[r.seq] as string;
        if (r.type === 'offer.updated') {
          const u = r.body;
          if (u.quantity !== undefined) info.quantity = mul(u.quantity, b.unit.size);
          if (u.valueFen !== undefined) info.valueFen = u.valueFen;
          if (u.intent !== undefined) info.intent = cIntent(u.intent);
          info.updates.push(rid);
        } else if (r.type === 'offer.withdrawn' && info.withdrawn === undefined) info.withdrawn = rid;
      }
      this.offerInfo.set(id, info);
    } else this.offerInfo.delete(id);
    this.setConflicts('o', id, own);
    for (const a of this.offerAlloc.get(id) ?? []) this.dirty.allocBase.add(a);
    this.dirty.offerStage.add(id);
    this.dirty.offerView.add(id);
    this.dirtyPending.add(id);
  }

  // ---- allocations ------------------------------------------------------------------

  private allocBase(id: string): void {
    const d = this.dirty;
    const r = this.recs.get(id);
    const own: Conflict[] = [];
    if (r && r.type === 'allocation') {
      d.offerStage.add(r.body.offer);
      d.needStage.add(r.body.need);
      for (const s of this.allocShip.get(id) ?? []) d.ship.add(s);
    }
    d.allocView.add(id);
    this.dirtyPending.add(id);
    if (r?.type !== 'allocation' || !this.counts(id)) {
      this.allocInfo.delete(id);
      this.setConflicts('a', id, own);
      return;
    }
    const offer = this.offerInfo.get(r.body.offer);
    const need = this.needInfo.get(r.body.need);
    if (!offer || !need) {
      this.allocInfo.delete(id);
      this.setConflicts('a', id, own);
      return;
    }
    if (r.hub !== offer.hub) {
      this.allocInfo.delete(id);
      own.push(this.unauthorised(r, id, r.body.offer, offer.hub));
      this.setConflicts('a', id, own);
      return;
    }
    let decision: Rec | undefined;
    for (const x of this.allocDec.get(id) ?? []) {
      if (!this.counts(x)) continue;
      const dr = this.recs.get(x) as Rec;
      if (dr.hub !== need.hub) own.push(this.unauthorised(dr, x, id, need.hub));
      else if (!decision || dr.seq > decision.seq) decision = dr;
    }
    const info: AllocInfo = {
      id,
      hub: r.hub,
      hlc: cHlc(r.hlc),
      offer: r.body.offer,
      need: r.body.need,
      quantity: r.body.quantity,
      decided: decision ? (decision.type === 'allocation.accepted' ? 'accepted' : 'declined') : undefined,
      decision: decision ? ((this.hubData.get(decision.hub) as HubData).live[decision.seq] as string) : undefined,
      voidReason: undefined,
      s1: false,
      s2: false,
    };
    if (offer.body.item.code !== need.body.item.code) {
      info.voidReason = 'item_mismatch';
      own.push(
        conflict(`${id}/item_mismatch`, 'item_mismatch', [id, offer.id, need.id], [offer.hub, need.hub], {
          offerItem: offer.body.item.code,
          needItem: need.body.item.code,
        }),
      );
    } else if (info.decided !== 'accepted' && offer.withdrawn !== undefined) info.voidReason = 'offer_withdrawn';
    else if (info.decided !== 'accepted' && need.closed !== undefined) info.voidReason = 'need_closed';
    this.allocInfo.set(id, info);
    this.setConflicts('a', id, own);
  }

  /** First pass: the offer's capacity, accepted allocations first, then by hlc and id. */
  private offerStage(id: string): void {
    const offer = this.offerInfo.get(id);
    const cands: AllocInfo[] = [];
    for (const a of this.offerAlloc.get(id) ?? []) {
      const i = this.allocInfo.get(a);
      if (!i) continue;
      i.s1 = false;
      this.dirty.allocView.add(a);
      this.dirty.needStage.add(i.need);
      if (!i.voidReason && i.decided !== 'declined') cands.push(i);
    }
    this.dirty.offerView.add(id);
    if (!offer) {
      this.setConflicts('os', id, []);
      return;
    }
    cands.sort(allocOrder);
    let used = 0;
    let requested = 0;
    const surplus: string[] = [];
    for (const i of cands) {
      requested = sat(requested + i.quantity);
      if (used + i.quantity <= offer.quantity) {
        i.s1 = true;
        used += i.quantity;
      } else surplus.push(i.id);
    }
    const own: Conflict[] = [];
    if (surplus.length > 0) {
      own.push(
        conflict(
          `${id}/over_allocation`,
          'over_allocation',
          [id, ...cands.map((i) => i.id)],
          [offer.hub, ...cands.map((i) => (this.needInfo.get(i.need) as NeedInfo).hub)],
          {
            offered: offer.quantity,
            requested,
            standing: used,
            surplus: sorted(surplus),
          },
        ),
      );
    }
    this.setConflicts('os', id, own);
  }

  /** Second pass: the need's capacity, over the allocations that stood the first pass, same order. */
  private needStage(id: string): void {
    const need = this.needInfo.get(id);
    const cands: AllocInfo[] = [];
    for (const a of this.needAlloc.get(id) ?? []) {
      const i = this.allocInfo.get(a);
      if (!i) continue;
      i.s2 = false;
      this.dirty.allocView.add(a);
      this.dirty.offerView.add(i.offer);
      if (i.s1) cands.push(i);
    }
    this.dirty.needView.add(id);
    if (!need) {
      this.setConflicts('ns', id, []);
      return;
    }
    cands.sort(allocOrder);
    let used = 0;
    let requested = 0;
    const standing: string[] = [];
    const surplus: string[] = [];
    for (const i of cands) {
      requested = sat(requested + i.quantity);
      if (used + i.quantity <= need.quantity) {
        i.s2 = true;
        used += i.quantity;
        standing.push(i.id);
      } else surplus.push(i.id);
    }
    need.allocated = used;
    need.standing = standing;
    const own: Conflict[] = [];
    if (surplus.length > 0) {
      own.push(
        conflict(`${id}/over_fulfilment`, 'over_fulfilment', [id, ...cands.map((i) => i.id)], [need.hub, ...cands.map((i) => i.hub)], {
          needed: need.quantity,
          allocated: requested,
          standing: used,
          surplus: sorted(surplus),
        }),
      );
    }
    this.setConflicts('ns', id, own);
  }

  private allocView(id: string): void {
    const i = this.allocInfo.get(id);
    if (!i) {
      this.allocations.delete(id);
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
    // Members in sorted order (viewJson).
    const v = {} as AllocationState;
    if (i.decision !== undefined) v.decision = i.decision;
    v.hlc = i.hlc;
    v.hub = i.hub;
    v.id = id;
    v.need = i.need;
    v.offer = i.offer;
    v.quantity = i.quantity;
    v.status = status;
    if (status === 'surplus') v.surplusOf = i.s1 ? 'need' : 'offer';
    if (i.voidReason) v.voidReason = i.voidReason;
    this.allocations.set(id, v);
  }

  // ---- custody ------------------------------------------------------------------------

  private shipment(id: string): void {
    const own: Conflict[] = [];
    const old = this.shipContrib.get(id);
    let contrib: ShipContrib | undefined;
    let view: ShipmentState | undefined;
    const root = this.recs.get(id) as RecordOf<'custody.handoff'>;
    const counts = this.counts(id);
    if (counts && root.hub !== root.body.from) own.push(this.unauthorised(root, id, id, root.body.from));
    else if (counts) {
      let eff = root;
      let effId = id;
      const versions: string[] = [];
      for (const vid of this.shipVersions.get(id) ?? []) {
        if (!this.counts(vid)) continue;
        const vr = this.recs.get(vid) as RecordOf<'custody.handoff'>;
        if (vr.hub !== root.hub || vr.body.from !== root.hub) {
          own.push(this.unauthorised(vr, vid, id, root.hub));
          continue;
        }
        versions.push(vid);
        if (vr.seq > eff.seq) {
          eff = vr;
          effId = vid;
        }
      }
      const b = eff.body;
      let receipt: RecordOf<'custody.receipt'> | undefined;
      let receiptId: string | undefined;
      for (const rid of this.shipReceipts.get(id) ?? []) {
        if (!this.counts(rid)) continue;
        const rr = this.recs.get(rid) as RecordOf<'custody.receipt'>;
        if (rr.hub !== b.to) own.push(this.unauthorised(rr, rid, id, b.to));
        else if (!receipt || rr.seq > receipt.seq) {
          receipt = rr;
          receiptId = rid;
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
        const s = {} as ShipmentLineState;
        if (receipt) s.accepted = g ? g.accepted : 0;
        if (l.expiry !== undefined) s.expiry = l.expiry;
        s.item = cItem(l.item);
        if (l.lot !== undefined) s.lot = l.lot;
        if (receipt) {
          const a = g ? g.accepted : 0;
          const r = g ? g.rejected : 0;
          const m = g ? g.missing : 0;
          s.missing = m;
          if (g?.rejectReason !== undefined) s.rejectReason = g.rejectReason;
          s.rejected = r;
          s.shipped = q;
          s.unaccounted = q - a - r - m;
          if (s.unaccounted !== 0) mismatch = true;
          if (a !== q) discrepancy = true;
          acc = sat(acc + a);
          rej = sat(rej + r);
          mis = sat(mis + m);
        } else s.shipped = q;
        s.unit = cUnit(l.unit);
        return s;
      });
      const ea = timestampMs(b.expectedArrival);
      let status: ShipmentState['status'] = 'in_transit';
      if (receipt) status = discrepancy ? 'received_with_discrepancy' : 'received';
      else if (ea < this.clock) status = 'overdue';
      else this.schedule(ea, 'ship', id);
      // Members in sorted order (viewJson).
      view = {} as ShipmentState;
      if (receipt) view.accepted = acc;
      view.allocations = [...b.allocations];
      view.expectedArrival = b.expectedArrival;
      view.from = b.from;
      view.handoff = effId;
      view.hub = root.hub;
      view.id = id;
      view.late = false;
      view.lines = lines;
      if (receipt) {
        view.missing = mis;
        view.receipt = receiptId;
        view.received = receipt.body.received;
        view.rejected = rej;
      }
      view.shipment = b.shipment;
      view.shipped = shipped;
      view.status = status;
      view.to = b.to;
      view.versions = sorted(versions);
      contrib = {
        from: b.from,
        to: b.to,
        received: receipt !== undefined,
        perAlloc: new SmallMap(),
        acceptedByItem: new SmallMap(),
        lotShipped: new SmallMap(),
        lotAccepted: new SmallMap(),
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
      for (let j = 0; j < b.allocations.length; j++) {
        const aid = b.allocations[j] as string;
        if (b.allocations.indexOf(aid) !== j) continue;
        const a = this.allocInfo.get(aid);
        if (a === undefined) continue;
        allocs.push(a);
        const n = this.needInfo.get(a.need);
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
          contrib.lotShipped.set(k, sat((contrib.lotShipped.get(k) ?? 0) + l.shipped));
          if (acc > 0) contrib.lotAccepted.set(k, sat((contrib.lotAccepted.get(k) ?? 0) + acc));
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
          const pa = contrib.perAlloc.get(a.id);
          if (pa) {
            pa.shipped = sat(pa.shipped + sh);
            pa.accepted = sat(pa.accepted + t);
          } else contrib.perAlloc.set(a.id, { shipped: sh, accepted: t, need: a.need });
        }
      }
    }
    this.setConflicts('s', id, own);
    if (view) this.shipments.set(id, view);
    else this.shipments.delete(id);
    if (contrib) this.shipContrib.set(id, contrib);
    else this.shipContrib.delete(id);

    // Move this shipment's contributions from the old groups to the new ones (put replaces a member).
    if (old) this.shipGroups(id, old, false);
    if (contrib) this.shipGroups(id, contrib, true);
    // The receipt of a handoff another version names also counts as pending until the handoff exists.
    this.dirtyPending.add(id);
  }

  /** Removes (put false) or puts a shipment's contributions in the custody groups, marking them. */
  private shipGroups(id: string, c: ShipContrib, put: boolean): void {
    const dh = this.dirtyGroups.dh;
    const dbr = this.dirtyGroups.dbr;
    const lot = this.dirtyGroups.lot;
    const pa = c.perAlloc;
    for (let i = 0; i < pa.k.length; i++) {
      const x = pa.v[i] as { shipped: number; need: string };
      this.dirty.needView.add(x.need);
      const k = `${c.from}|${pa.k[i]}`;
      const g = this.group(this.dhGroups, k);
      if (put) g.put(id, c.to, x.shipped);
      else g.remove(id);
      dh.add(k);
    }
    this.fileAmounts(this.dbrReceived, c.to, c.acceptedByItem, id, c.to, put, dbr);
    this.fileAmounts(this.lotShipped, c.from, c.lotShipped, id, c.to, put, lot);
    this.fileAmounts(this.lotHeld, c.to, c.lotAccepted, id, c.to, put, lot);
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

  private delivery(id: string): void {
    const r = this.recs.get(id);
    const old = this.delivContrib.get(id);
    let c: DelivContrib | undefined;
    if (r && r.type === 'custody.delivered' && this.counts(id)) {
      const superseded = (this.correctedBy.get(id) ?? []).some((x) => this.counts(x) && (this.recs.get(x) as Rec).hub === r.hub);
      if (!superseded) {
        c = { hub: r.hub, need: r.body.need, byItem: new SmallMap() };
        for (const l of r.body.lines) c.byItem.set(l.item.code, sat((c.byItem.get(l.item.code) ?? 0) + mul(l.quantity, l.unit.size)));
      }
    }
    if (c) this.delivContrib.set(id, c);
    else this.delivContrib.delete(id);
    for (const x of old === undefined ? (c === undefined ? [] : [c]) : c === undefined ? [old] : [old, c]) {
      const put = x === c;
      this.dirty.needView.add(x.need);
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

  private needView(id: string): void {
    const info = this.needInfo.get(id);
    if (!info) {
      this.needs.delete(id);
      return;
    }
    const st = info;
    let inTransit = 0;
    let received = 0;
    for (const a of this.needAlloc.get(id) ?? []) {
      for (const s of this.allocShip.get(a) ?? []) {
        const c = this.shipContrib.get(s);
        const pa = c?.perAlloc.get(a);
        if (!c || !pa || c.to !== info.hub) continue;
        if (c.received) received = sat(received + pa.accepted);
        else inTransit = sat(inTransit + pa.shipped);
      }
    }
    let delivered = 0;
    const deliveries: string[] = [];
    for (const x of this.needDeliv.get(id) ?? []) {
      const c = this.delivContrib.get(x);
      if (!c) continue;
      deliveries.push(x);
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
      this.schedule(info.neededByMs, 'needView', id);
    }
    // Members in sorted order (viewJson).
    const v = {} as NeedState;
    v.allocated = st.allocated;
    v.allocations = st.standing;
    v.beneficiaries = info.beneficiaries;
    if (b.campaign !== undefined) v.campaign = b.campaign;
    if (info.closed) v.closed = info.closed;
    v.delivered = delivered;
    v.deliveries = deliveries.sort();
    v.hlc = info.hlc;
    v.hub = info.hub;
    v.id = id;
    v.inTransit = inTransit;
    v.item = info.item;
    v.neededBy = info.neededBy;
    if (b.purpose !== undefined) v.purpose = b.purpose;
    v.quantity = info.quantity;
    v.received = received;
    v.region = b.region;
    v.requester = info.requester;
    v.status = status;
    v.unit = info.unit;
    v.updates = info.updates;
    v.urgency = info.urgency;
    this.needs.set(id, v);
  }

  private offerView(id: string): void {
    const info = this.offerInfo.get(id);
    if (!info) {
      this.offers.delete(id);
      return;
    }
    const standing: AllocInfo[] = [];
    for (const a of this.offerAlloc.get(id) ?? []) {
      const i = this.allocInfo.get(a);
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
      if (until !== undefined) this.schedule(until, 'offerView', id);
    }
    // Members in sorted order (viewJson).
    const v = {} as OfferState;
    v.allocated = allocated;
    v.allocations = standing.map((i) => i.id);
    v.available = Math.max(0, info.quantity - allocated);
    if (b.availableFrom !== undefined) v.availableFrom = b.availableFrom;
    if (b.campaign !== undefined) v.campaign = b.campaign;
    v.donor = info.donor;
    v.hlc = info.hlc;
    v.hub = info.hub;
    v.id = id;
    v.intent = info.intent;
    v.item = info.item;
    v.kind = b.kind;
    v.quantity = info.quantity;
    v.region = b.region;
    v.status = status;
    v.unit = info.unit;
    v.updates = info.updates;
    v.valueFen = info.valueFen;
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
    const ids = this.dupGroups.get(key);
    const infos = [...(ids ?? [])]
      .map((id) => this.needInfo.get(id))
      .filter((x): x is NeedInfo => x !== undefined)
      .sort((a, b) => a.neededByMs - b.neededByMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const out: Conflict[] = [];
    let start = 0;
    for (let i = 1; i <= infos.length; i++) {
      if (i < infos.length && (infos[i] as NeedInfo).neededByMs - (infos[i - 1] as NeedInfo).neededByMs <= DUPLICATE_WINDOW_MS) continue;
      // infos[start, i) is a cluster.
      if (i - start >= 2) {
        const first = infos[start] as NeedInfo;
        let multiHub = false;
        for (let j = start + 1; j < i && !multiHub; j++) multiHub = (infos[j] as NeedInfo).hub !== first.hub;
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
    this.setConflicts('dup', key, out);
  }

  private dhCheck(key: string): void {
    const g = this.dhGroups.get(key);
    const [from, alloc] = key.split('|') as [string, string];
    const ai = this.allocInfo.get(alloc);
    const out: Conflict[] = [];
    if (g && ai) {
      const to = new Set(g.tos);
      if (to.size >= 2 && g.total > ai.quantity) {
        out.push(
          conflict(`${alloc}/double_handoff/${from}`, 'double_handoff', [alloc, ...g.keys], [from, ...to], {
            allocation: alloc,
            held: ai.quantity,
            handedOff: g.total,
          }),
        );
      }
    }
    if (g && g.size === 0) this.dhGroups.delete(key);
    this.setConflicts('dh', key, out);
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
    this.setConflicts('lot', key, out);
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
    this.setConflicts('dbr', key, out);
  }

  private pendingView(id: string): void {
    // Is `id` an object? Only the map of its record's type can hold it.
    const r = this.recs.get(id);
    const t = r?.type;
    if (
      t === 'need.posted'
        ? this.needInfo.has(id)
        : t === 'offer.posted'
          ? this.offerInfo.has(id)
          : t === 'allocation'
            ? this.allocInfo.has(id)
            : t === 'custody.handoff' && this.shipContrib.has(id)
    ) {
      this.pending.delete(id);
      return;
    }
    const waiting: string[] = [];
    this.countingIn(this.needUpd, id, waiting);
    this.countingIn(this.needAlloc, id, waiting);
    this.countingIn(this.needDeliv, id, waiting);
    this.countingIn(this.offerUpd, id, waiting);
    this.countingIn(this.offerAlloc, id, waiting);
    this.countingIn(this.allocDec, id, waiting);
    this.countingIn(this.waitHandoff, id, waiting);
    if (waiting.length === 0) this.pending.delete(id);
    else this.pending.set(id, sorted(waiting));
  }

  private countingIn(m: Map<string, string[]>, id: string, out: string[]): void {
    const xs = m.get(id);
    if (xs !== undefined) for (const x of xs) if (this.counts(x)) out.push(x);
  }

  /** Queues an object to be re-derived once the record clock passes `ms` (once per object and deadline). */
  private schedule(ms: number, stage: 'needView' | 'offerView' | 'ship', id: string): void {
    const m = this.scheduled[stage];
    if (m.get(id) === ms) return;
    m.set(id, ms);
    this.deadlines.push([ms, stage, id]);
  }

  // ---- flush ----------------------------------------------------------------------------

  private flush(): void {
    for (let top = this.deadlines.peek(); top && top[0] < this.clock; top = this.deadlines.peek()) {
      this.deadlines.pop();
      const [ms, stage, id] = top;
      const m = this.scheduled[stage as 'needView' | 'offerView' | 'ship'];
      // An entry superseded by a later schedule of the same object is stale.
      if (m.get(id) !== ms) continue;
      m.delete(id);
      this.dirty[stage].add(id);
    }
    for (const id of this.dirtyHubs) this.refreshChain(this.hubData.get(id) as HubData);
    this.dirtyHubs.clear();
    if (this.admissionDirty) this.refreshAdmission();
    for (const id of this.dirtyHubViews) {
      const h = this.hubData.get(id) as HubData;
      if (h.toHold.length === 0) continue;
      if (!h.admitted) for (const x of h.toHold) this.held.set(x, id);
      h.toHold = [];
    }
    for (const id of this.dirtyHubViews) this.hubView(id);
    this.dirtyHubViews.clear();

    // Stage by stage (a stage only marks later ones), each a direct loop.
    const d = this.dirty;
    for (const id of d.needBase) this.needBase(id);
    d.needBase.clear();
    for (const id of d.offerBase) this.offerBase(id);
    d.offerBase.clear();
    for (const id of d.allocBase) this.allocBase(id);
    d.allocBase.clear();
    for (const id of d.offerStage) this.offerStage(id);
    d.offerStage.clear();
    for (const id of d.needStage) this.needStage(id);
    d.needStage.clear();
    for (const id of d.ship) this.shipment(id);
    d.ship.clear();
    for (const id of d.deliv) this.delivery(id);
    d.deliv.clear();
    for (const id of d.needView) this.needView(id);
    d.needView.clear();
    for (const id of d.offerView) this.offerView(id);
    d.offerView.clear();
    for (const id of d.allocView) this.allocView(id);
    d.allocView.clear();
    for (const k of this.dirtyGroups.dup) this.dupGroup(k);
    for (const k of this.dirtyGroups.dh) this.dhCheck(k);
    for (const k of this.dirtyGroups.lot) this.lotCheck(k);
    for (const k of this.dirtyGroups.dbr) this.dbrCheck(k);
    for (const s of Object.values(this.dirtyGroups)) s.clear();
    for (const id of this.dirtyPending) this.pendingView(id);
    this.dirtyPending.clear();
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
      records: this.recs.size,
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
    // Records first: their bodies are written there once and referenced after. Then every other field, in LAYOUT order.
    e.records(this.recs);
    for (const k of LAYOUT_FIELDS) if (k !== 'recs') e.enc((this as unknown as Record<string, unknown>)[k]);
    return { v: 2, layout: LAYOUT, roots: [...this.roots].sort(), stateHash, records: this.recs.size, strings: e.strings, shapes: e.shapes, chunks: e.chunks };
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
    const d = new Decoder(s.strings, s.shapes, s.chunks, REGISTRY);
    const fields: Record<string, unknown> = { recs: d.dec() };
    for (const k of LAYOUT_FIELDS) if (k !== 'recs') fields[k] = d.dec();
    d.end();
    const same = [...r.roots].sort().join() === [...s.roots].sort().join();
    const target = same ? r : new Resolver({ roots: s.roots as string[], sha256: opts.sha256, sha256Text: opts.sha256Text });
    Object.assign(target, fields);
    target.needs.json = needJson;
    target.offers.json = offerJson;
    target.allocations.json = allocationJson;
    target.shipments.json = shipmentJson;
    if (same) return r;
    for (const [id, record] of target.recs) r.apply({ id, record } as Verified);
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
  bucketMap: (parts) => BucketMap.restore(parts),
  isBucketMap: (x): x is BucketMap<unknown> => x instanceof BucketMap,
};

/** The field names toJSON() writes, so that a snapshot of another layout is refused rather than misread. */
const LAYOUT_FIELDS = Object.keys(new Resolver({ roots: [] })).filter((k) => k !== 'roots' && k !== 'hashText');
/** Bump SNAPSHOT_FORMAT when a field keeps its name but changes what it holds. */
// 3: duplicate_need conflicts are clusters, no longer pairs (spec/resolution.md §5).
const SNAPSHOT_FORMAT = 3;
const LAYOUT = `${SNAPSHOT_FORMAT}:${LAYOUT_FIELDS.join(',')}`;

function conflict(id: string, rule: ConflictRule, records: string[], hubs: string[], detail: Record<string, DetailValue>): Conflict {
  // Members in sorted order (viewJson).
  return { detail: sortedObject(detail), hubs: sorted(hubs), id, records: sorted(records), rule };
}

/**
 * Snapshots (spec/resolution.md §9, last paragraph): the whole resolver state
 * (records without signatures, indexes, derived objects, the state with every
 * cached digest) as plain JSON, restored without re-deriving or re-hashing.
 *
 * The format is explicit and versioned: the lists below name every field
 * written (of the state, of each node, of each internal object kind), checked
 * against the types at compile time, so that adding, renaming or removing a
 * field does not compile until the list says so, and the lists make the
 * format's `layout`. A snapshot is read only in a format listed in FORMATS;
 * test/snapshot.test.ts loads fixtures written by every earlier format. A
 * change of the lists, or of what a field holds, is a new SNAPSHOT_FORMAT
 * with a way to read the older ones. The encoding of values is
 * snapshot-codec.ts.
 */
import { ShuniuError, type Verified } from '@shuniu/protocol';
import type { AdmissionEdge } from './admission.js';
import { BucketMap } from './buckets.js';
import { DeadlineHeap, Group, SmallMap, type TimedStage } from './collections.js';
import {
  type AllocInfo,
  type DelivContrib,
  type GroupOwner,
  type Handed,
  type HubData,
  type NeedInfo,
  Obj,
  type ObjOwner,
  type OfferInfo,
  type PerAlloc,
  type ShipContrib,
  type State,
} from './graph.js';
import { fileRecord } from './records.js';
import { type ClassCodec, Decoder, Encoder, type Registry } from './snapshot-codec.js';
import type { AllocationState, Conflict, HubState, NeedState, OfferState, ShipmentState } from './types.js';
import { allocationJson, needJson, offerJson, shipmentJson } from './views-json.js';

/** What Resolver.toJSON() returns (snapshot-codec.ts describes `strings`, `shapes` and `chunks`). */
export interface ResolverSnapshot {
  v: 2;
  /** `<format>:<the field lists of that format>`: a snapshot is read only in a format this version knows (FORMATS). */
  layout: string;
  roots: string[];
  /** The state hash when the snapshot was taken (a restart can compare it). */
  stateHash: string;
  /** Number of records held. */
  records: number;
  /**
   * An open-state snapshot (Resolver.openSnapshot, spec/resolution.md §11 Restart): the objects that
   * left memory are in the resolver's ObjectStore, written here as their ids and facts (objects.ts), and
   * their views as null with their leaf digests. Restored only with that store (Resolver.fromJSON's `objects`).
   */
  open?: true;
  /** Interned strings (code units for those with any above U+00FF). */
  strings: (string | number[])[];
  shapes: number[][];
  /** The value stream (snapshot-codec.ts). */
  chunks: number[][];
}

/** `true` when `L` names every key of `T` (but those in `Skip`); a compile error names the missing ones otherwise. */
type Covers<T, L extends readonly (keyof T)[], Skip extends keyof T = never> = [Exclude<keyof T, L[number] | Skip>] extends [never]
  ? true
  : { missing: Exclude<keyof T, L[number] | Skip> };
/** The same for a union of string literals (owner kinds). */
type CoversUnion<U extends string, L extends readonly U[]> = [Exclude<U, L[number]>] extends [never] ? true : { missing: Exclude<U, L[number]> };

/** The state's fields a snapshot writes after the node table, in this order. */
const STATE_FIELDS = [
  'clock',
  'hubData',
  'admissionDirty',
  'contested',
  'admissionOf',
  'edges',
  'dupGroups',
  'lotShipped',
  'lotHeld',
  'dbrReceived',
  'dbrDelivered',
  'ownConflicts',
  'hubs',
  'needs',
  'offers',
  'allocations',
  'shipments',
  'conflicts',
  'held',
  'pending',
  'dirtyGroups',
  'deadlines',
] as const satisfies readonly (keyof State)[];
/** Not written: options (roots are the snapshot's own member), the nodes (the node table), the record count (recounted), the queues (empty after a flush) and the bundles (rebuilt from the records, bundles.ts indexBundles). */
type StateNotWritten = 'roots' | 'hashText' | 'nodes' | 'records' | 'queue' | 'chainQueue' | 'viewQueue' | 'objects' | 'bundles' | 'bundleIdx';
const stateCovered: Covers<State, typeof STATE_FIELDS, StateNotWritten> = true;

/** The fields of each node in the node table (its id and record are written there first). */
const NODE_FIELDS = [
  't1',
  't2',
  'allocs',
  'needUpd',
  'needAlloc',
  'needDeliv',
  'offerUpd',
  'offerAlloc',
  'allocDec',
  'allocShip',
  'root',
  'shipVersions',
  'shipReceipts',
  'vouches',
  'waitHandoff',
  'correctedBy',
  'need',
  'offer',
  'alloc',
  'ship',
  'deliv',
  'own',
  'dh',
  'sched',
] as const satisfies readonly (keyof Obj)[];
/** Not written: the id and record (node table), the hub data (re-linked from hubData) and the stage mask (0 after a flush). */
const nodeCovered: Covers<Obj, typeof NODE_FIELDS, 'id' | 'rec' | 'h' | 'mask'> = true;

/** The internal objects the state and its nodes hold, written as plain objects with these members. */
const HUB_DATA = [
  'id',
  'first',
  'more',
  'toHold',
  'live',
  'forkedAt',
  'forkSeqs',
  'recoveries',
  'recovery',
  'win',
  'admissions',
  'revocations',
  'profiles',
  'rotations',
  'admitted',
  'full',
  'count',
  'dirtyChain',
  'dirtyView',
] as const satisfies readonly (keyof HubData)[];
const NEED_INFO = [
  'hub',
  'hlc',
  'body',
  'quantity',
  'urgency',
  'neededBy',
  'neededByMs',
  'beneficiaries',
  'closed',
  'updates',
  'dupKey',
  'item',
  'unit',
  'requester',
  'allocated',
  'standing',
] as const satisfies readonly (keyof NeedInfo)[];
const OFFER_INFO = [
  'hub',
  'hlc',
  'body',
  'quantity',
  'valueFen',
  'intent',
  'withdrawn',
  'updates',
  'item',
  'unit',
  'donor',
] as const satisfies readonly (keyof OfferInfo)[];
const ALLOC_INFO = [
  'o',
  'offerO',
  'needO',
  'hub',
  'hlc',
  'quantity',
  'decided',
  'decision',
  'voidReason',
  's1',
  's2',
] as const satisfies readonly (keyof AllocInfo)[];
const SHIP_CONTRIB = ['from', 'to', 'received', 'perAlloc', 'acceptedByItem', 'lotShipped', 'lotAccepted'] as const satisfies readonly (keyof ShipContrib)[];
const PER_ALLOC = ['shipped', 'accepted', 'needO', 'ao'] as const satisfies readonly (keyof PerAlloc)[];
const DELIV_CONTRIB = ['hub', 'needO', 'byItem'] as const satisfies readonly (keyof DelivContrib)[];
const HANDED = ['ship', 'from', 'to', 'q'] as const satisfies readonly (keyof Handed)[];
const ADMISSION_EDGE = ['by', 'child', 'record'] as const satisfies readonly (keyof AdmissionEdge)[];
const OBJ_OWNERS = ['n', 'o', 'a', 'os', 'ns', 's', 'dh'] as const satisfies readonly ObjOwner[];
const GROUP_OWNERS = ['h', 'dup', 'lot', 'dbr', 'adm'] as const satisfies readonly GroupOwner[];
const TIMED_STAGES = ['needView', 'offerView', 'ship'] as const satisfies readonly TimedStage[];
const GROUP = ['keys', 'tos', 'qs', 'idx', 'total'] as const satisfies readonly (keyof Group)[];
const SMALL_MAP = ['k', 'v'] as const satisfies readonly (keyof SmallMap<unknown>)[];
const kindsCovered: [
  Covers<HubData, typeof HUB_DATA>,
  Covers<NeedInfo, typeof NEED_INFO>,
  Covers<OfferInfo, typeof OFFER_INFO>,
  Covers<AllocInfo, typeof ALLOC_INFO>,
  Covers<ShipContrib, typeof SHIP_CONTRIB>,
  Covers<PerAlloc, typeof PER_ALLOC>,
  Covers<DelivContrib, typeof DELIV_CONTRIB>,
  Covers<Handed, typeof HANDED>,
  Covers<AdmissionEdge, typeof ADMISSION_EDGE>,
  CoversUnion<ObjOwner, typeof OBJ_OWNERS>,
  CoversUnion<GroupOwner, typeof GROUP_OWNERS>,
  CoversUnion<TimedStage, typeof TIMED_STAGES>,
  Covers<Group, typeof GROUP, 'size' | 'put' | 'remove'>,
  Covers<SmallMap<unknown>, typeof SMALL_MAP, 'size' | 'get' | 'set'>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void stateCovered;
void nodeCovered;
void kindsCovered;

/**
 * The format written. History: 3 duplicate_need conflicts are clusters, not
 * pairs (spec/resolution.md §5); 4 one node per id with references; 5 a bit
 * mask of defined fields per node; 6 admission revocations, winning
 * recoveries, admission edges, admission_scope conflicts, recovery vouches
 * (issue 10); 7 the field lists are explicit and name every internal kind
 * (issue 14): the same fields and values as 6, which is therefore read alike.
 */
const SNAPSHOT_FORMAT = 7;

const kinds = (): string =>
  [
    `HubData=${HUB_DATA}`,
    `NeedInfo=${NEED_INFO}`,
    `OfferInfo=${OFFER_INFO}`,
    `AllocInfo=${ALLOC_INFO}`,
    `ShipContrib=${SHIP_CONTRIB}`,
    `PerAlloc=${PER_ALLOC}`,
    `DelivContrib=${DELIV_CONTRIB}`,
    `Handed=${HANDED}`,
    `AdmissionEdge=${ADMISSION_EDGE}`,
    `own=${OBJ_OWNERS}`,
    `ownConflicts=${GROUP_OWNERS}`,
    `deadlines=${TIMED_STAGES}`,
    `Group=${GROUP}`,
    `SmallMap=${SMALL_MAP}`,
  ].join(';');

/** The layouts this version reads (each with the same field lists as the current one), by format. */
const FORMATS: Record<number, string> = {
  6: `6:${STATE_FIELDS}:${NODE_FIELDS}`,
  [SNAPSHOT_FORMAT]: `${SNAPSHOT_FORMAT}:${STATE_FIELDS}:${NODE_FIELDS}:${kinds()}`,
};
const LAYOUT = FORMATS[SNAPSHOT_FORMAT] as string;

/** Group and SmallMap write their fields by name (GROUP, SMALL_MAP); a heap its entries. */
const CLASSES: Record<string, ClassCodec> = {
  Group: {
    proto: Group.prototype,
    save: (x) => {
      const g = x as Group;
      return { keys: g.keys, tos: g.tos, qs: g.qs, idx: g.idx, total: g.total };
    },
    load: (f) => {
      const g = new Group();
      g.keys = f.keys as string[];
      g.tos = f.tos as string[];
      g.qs = f.qs as number[];
      g.idx = f.idx as Map<string, number> | undefined;
      g.total = f.total as number;
      return g;
    },
  },
  SmallMap: {
    proto: SmallMap.prototype,
    save: (x) => {
      const m = x as SmallMap<unknown>;
      return { k: m.k, v: m.v };
    },
    load: (f) => {
      const m = new SmallMap<unknown>();
      m.k = f.k as string[];
      m.v = f.v as unknown[];
      return m;
    },
  },
  DeadlineHeap: {
    proto: DeadlineHeap.prototype,
    save: (x) => ({ a: (x as DeadlineHeap).entries() }),
    load: (f) => new DeadlineHeap(f.a as [number, TimedStage, string][]),
  },
};

const REGISTRY: Registry = {
  classes: CLASSES,
  nodeId: (x) => (x instanceof Obj ? x.id : undefined),
  bucketMap: (parts) => BucketMap.restore(parts),
  isBucketMap: (x): x is BucketMap<unknown> => x instanceof BucketMap,
  setNodeField: (o, i, v) => {
    (o as unknown as Record<string, unknown>)[NODE_FIELDS[i] as string] = v;
  },
};

/**
 * One node alone in the snapshot encoding (its record, then its NODE_FIELDS; other nodes by id): what
 * a finished object leaves in the ObjectStore (objects.ts). Read back by decodeNode into the same node.
 */
export function encodeNode(o: Obj): string {
  const e = new Encoder(REGISTRY);
  e.nodes(new Map([[o.id, o]]), NODE_FIELDS);
  return JSON.stringify([LAYOUT, e.strings, e.shapes, e.chunks]);
}

/**
 * Reads encodeNode's text into the node `node(id)` gives for its id (the caller's node, in memory and
 * emptied), with references to other nodes through `node` too.
 *
 * @throws ShuniuError E_ARGUMENT when the text is not a node of this layout
 */
export function decodeNode(text: string, node: (id: string) => Obj): Obj {
  const parts = JSON.parse(text) as unknown;
  if (!Array.isArray(parts) || parts.length !== 4 || parts[0] !== LAYOUT || !parts.slice(1).every((p) => Array.isArray(p)))
    throw new ShuniuError('E_ARGUMENT', 'not a resolver node of this layout');
  const [, strings, shapes, chunks] = parts as [string, unknown[], unknown[], unknown[]];
  const d = new Decoder(strings, shapes, chunks, REGISTRY, node);
  const m = d.dec() as Map<string, Obj>;
  if (!(m instanceof Map) || m.size !== 1 || d.nodeFields?.join() !== NODE_FIELDS.join()) throw new ShuniuError('E_ARGUMENT', 'not a resolver node');
  d.end();
  return m.values().next().value as Obj;
}

/**
 * The snapshot of a flushed state whose hash is `stateHash`. With `stub` (an open-state snapshot), the
 * nodes it names (those that left memory: objects.ts) are written as their ids and facts, and the views
 * that left memory as null: nothing is read back from the object store.
 */
export function toSnapshot(s: State, stateHash: string, stub?: (o: Obj) => { facts: unknown } | undefined): ResolverSnapshot {
  const e = new Encoder(stub === undefined ? REGISTRY : { ...REGISTRY, stub: stub as (o: object) => { facts: unknown } | undefined });
  // The nodes first, with their records: bodies are written there once and referenced after. Then the state's fields, in STATE_FIELDS order.
  e.nodes(s.nodes, NODE_FIELDS);
  for (const k of STATE_FIELDS) e.enc(s[k]);
  const snap: ResolverSnapshot = {
    v: 2,
    layout: LAYOUT,
    roots: [...s.roots].sort(),
    stateHash,
    records: s.records,
    strings: e.strings,
    shapes: e.shapes,
    chunks: e.chunks,
  };
  if (stub !== undefined) snap.open = true;
  return snap;
}

/** The state's fields as a snapshot holds them, set one by one (the large views get their serialisers back: not part of a snapshot). */
function setState(s: State, nodes: Map<string, Obj>, records: number, f: Record<(typeof STATE_FIELDS)[number], unknown>): void {
  s.nodes = nodes;
  s.records = records;
  s.clock = f.clock as number;
  s.hubData = f.hubData as Map<string, HubData>;
  s.admissionDirty = f.admissionDirty as boolean;
  s.contested = f.contested as Set<string>;
  s.admissionOf = f.admissionOf as Map<string, { parent: string; record: string }>;
  s.edges = f.edges as AdmissionEdge[];
  s.dupGroups = f.dupGroups as Map<string, Set<Obj>>;
  s.lotShipped = f.lotShipped as Map<string, Group>;
  s.lotHeld = f.lotHeld as Map<string, Group>;
  s.dbrReceived = f.dbrReceived as Map<string, Group>;
  s.dbrDelivered = f.dbrDelivered as Map<string, Group>;
  s.ownConflicts = f.ownConflicts as State['ownConflicts'];
  s.hubs = f.hubs as BucketMap<HubState>;
  s.needs = f.needs as BucketMap<NeedState>;
  s.needs.json = needJson;
  s.offers = f.offers as BucketMap<OfferState>;
  s.offers.json = offerJson;
  s.allocations = f.allocations as BucketMap<AllocationState>;
  s.allocations.json = allocationJson;
  s.shipments = f.shipments as BucketMap<ShipmentState>;
  s.shipments.json = shipmentJson;
  s.conflicts = f.conflicts as BucketMap<Conflict>;
  s.held = f.held as BucketMap<string>;
  s.pending = f.pending as BucketMap<string[]>;
  const dirty = f.dirtyGroups as State['dirtyGroups'];
  for (const k of ['dup', 'lot', 'dbr'] as const) for (const x of dirty[k]) s.dirtyGroups[k].add(x);
  s.deadlines = f.deadlines as DeadlineHeap;
}

/**
 * The state a snapshot holds, into `target` (an empty state with the
 * resolver's roots and hasher). The snapshot's records were verified before
 * they were stored; they are trusted, not re-verified. When the roots differ
 * from the snapshot's, the derived state does not apply and the held records
 * are re-applied. Snapshots of other formats (the records-only v1 of early
 * versions among them) are refused: the node then replays its records.
 *
 * @throws ShuniuError E_ARGUMENT when the snapshot is not one (or of a format this version does not read)
 */
export function fromSnapshot(snapshot: unknown, target: State, makeStub?: (o: Obj, facts: unknown) => void): State {
  const s = snapshot as Partial<ResolverSnapshot> | null;
  if (
    !s ||
    typeof s !== 'object' ||
    s.v !== 2 ||
    !Array.isArray(s.strings) ||
    !Array.isArray(s.shapes) ||
    !Array.isArray(s.roots) ||
    !Array.isArray(s.chunks)
  ) {
    throw new ShuniuError('E_ARGUMENT', 'not a resolver snapshot: expected {v:2, layout, roots, strings, shapes, chunks}');
  }
  const format = typeof s.layout === 'string' ? Number.parseInt(s.layout, 10) : Number.NaN;
  if (FORMATS[format] === undefined || s.layout !== FORMATS[format]) {
    throw new ShuniuError(
      'E_ARGUMENT',
      `resolver snapshot from an incompatible version (format ${Number.isNaN(format) ? '?' : format}; this version reads ${Object.keys(FORMATS).join(', ')})`,
    );
  }
  if (s.open === true && makeStub === undefined)
    throw new ShuniuError('E_ARGUMENT', 'an open-state resolver snapshot is restored only with the object store its finished objects left for');
  const d = new Decoder(s.strings, s.shapes, s.chunks, REGISTRY, (id) => new Obj(id));
  const nodes = d.dec() as Map<string, Obj>;
  if (!(nodes instanceof Map) || d.nodeFields?.join() !== NODE_FIELDS.join())
    throw new ShuniuError('E_ARGUMENT', 'not a resolver snapshot: node table expected first');
  const fields = {} as Record<(typeof STATE_FIELDS)[number], unknown>;
  for (const k of STATE_FIELDS) fields[k] = d.dec();
  d.end();
  // Re-link each record to its author's chain data; count the records (each node that left memory is one: objects.ts).
  const hubData = fields.hubData as Map<string, HubData>;
  const stubs = new Set(d.stubs.map(([o]) => o as Obj));
  let records = stubs.size;
  for (const o of nodes.values()) {
    if (stubs.has(o) || o.rec === undefined) continue;
    o.h = hubData.get(o.rec.hub);
    if (o.h === undefined) throw new ShuniuError('E_ARGUMENT', 'not a resolver snapshot: a record without its hub');
    records++;
  }
  if ([...target.roots].sort().join() === [...s.roots].sort().join()) {
    setState(target, nodes, records, fields);
    // The nodes that left memory become stubs again, read back from the store when something reads them.
    if (makeStub !== undefined) for (const [o, facts] of d.stubs) makeStub(o as Obj, facts);
    return target;
  }
  if (stubs.size > 0) throw new ShuniuError('E_ARGUMENT', 'an open-state resolver snapshot is restored only with the roots it was taken with');
  // Other roots: the derived state does not apply; the records it holds are applied again.
  for (const [id, o] of nodes) if (o.rec !== undefined) fileRecord(target, { id, record: o.rec } as unknown as Verified);
  return target;
}

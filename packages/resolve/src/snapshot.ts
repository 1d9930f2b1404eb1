/**
 * Snapshots (spec/resolution.md §9, last paragraph): the whole resolver state
 * (records without signatures, indexes, derived objects, the state with every
 * cached digest) as plain JSON, restored without re-deriving or re-hashing.
 * The encoding of values is snapshot-codec.ts.
 */
import { ShuniuError, type SignedRecord, type Verified } from '@shuniu/protocol';
import { BucketMap } from './buckets.js';
import { DeadlineHeap, Group, SmallMap } from './collections.js';
import { createState, type HubData, Obj, type State } from './graph.js';
import { fileRecord } from './records.js';
import { Decoder, Encoder, type Registry } from './snapshot-codec.js';
import { allocationJson, needJson, offerJson, shipmentJson } from './views-json.js';

/** What Resolver.toJSON() returns (snapshot-codec.ts describes `strings`, `shapes` and `chunks`). */
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
  /** The value stream (snapshot-codec.ts). */
  chunks: number[][];
}

/** Snapshots of earlier versions: the records only, replayed by fromJSON(). */
export interface ResolverSnapshotV1 {
  v: 1;
  roots: string[];
  stateHash: string;
  records: { id: string; record: SignedRecord }[];
}

const B64_32 = /^[A-Za-z0-9_-]{43}$/;

const REGISTRY: Registry = {
  classes: { Group: Group.prototype, DeadlineHeap: DeadlineHeap.prototype, SmallMap: SmallMap.prototype },
  nodeId: (x) => (x instanceof Obj ? x.id : undefined),
  bucketMap: (parts) => BucketMap.restore(parts),
  isBucketMap: (x): x is BucketMap<unknown> => x instanceof BucketMap,
};

/** The fields a snapshot keeps (mask is transient; h is re-linked from the hub data). */
const OBJ_FIELDS = Object.keys(new Obj('')).filter((k) => k !== 'id' && k !== 'rec' && k !== 'h' && k !== 'mask') as (keyof Obj)[];
/** Fields that are not snapshot: options, the nodes (written first, separately), the record count (recounted) and the queues (empty after a flush). */
const NOT_SNAPSHOT = new Set(['roots', 'hashText', 'nodes', 'records', 'queue', 'chainQueue', 'viewQueue']);
/** The field names toSnapshot() writes after the nodes, so that a snapshot of another layout is refused rather than misread. */
const LAYOUT_FIELDS = Object.keys(createState([], () => '')).filter((k) => !NOT_SNAPSHOT.has(k));
/** Bump SNAPSHOT_FORMAT when a field keeps its name but changes what it holds. */
// 3: duplicate_need conflicts are clusters, no longer pairs (spec/resolution.md §5).
// 4: one node per id (Obj) with references instead of id-keyed indexes.
// 5: the node table writes a bit mask of defined fields per node.
// 6: hub data keeps its admission revocations and winning recovery; admission edges, admission_scope conflicts, recovery vouches (issue 10).
const SNAPSHOT_FORMAT = 6;
const LAYOUT = `${SNAPSHOT_FORMAT}:${LAYOUT_FIELDS.join(',')}:${OBJ_FIELDS.join(',')}`;

/** The snapshot of a flushed state whose hash is `stateHash`. */
export function toSnapshot(s: State, stateHash: string): ResolverSnapshot {
  const e = new Encoder(REGISTRY);
  // The nodes first, with their records: bodies are written there once and referenced after. Then every other field, in LAYOUT order.
  e.nodes(s.nodes, OBJ_FIELDS);
  for (const k of LAYOUT_FIELDS) e.enc((s as unknown as Record<string, unknown>)[k]);
  return { v: 2, layout: LAYOUT, roots: [...s.roots].sort(), stateHash, records: s.records, strings: e.strings, shapes: e.shapes, chunks: e.chunks };
}

/**
 * The state a snapshot holds, into `target` (an empty state with the
 * resolver's roots and hasher). The snapshot's records were verified before
 * they were stored; they are trusted, not re-verified. When the roots differ
 * from the snapshot's, the derived state does not apply and the held records
 * are re-applied. A v1 snapshot (records only, from earlier versions) is
 * replayed.
 *
 * @throws ShuniuError E_ARGUMENT when the snapshot is not one (or from an incompatible version)
 */
export function fromSnapshot(snapshot: unknown, target: State): State {
  const s = snapshot as Partial<ResolverSnapshot> | Partial<ResolverSnapshotV1> | null;
  if (s && typeof s === 'object' && s.v === 1 && Array.isArray(s.records)) {
    s.records.forEach((e, i) => {
      if (!e || typeof e !== 'object' || typeof e.id !== 'string' || !B64_32.test(e.id) || !e.record || typeof e.record !== 'object') {
        throw new ShuniuError('E_ARGUMENT', `snapshot record ${i} is not {id, record}`, { path: ['records', i] });
      }
      fileRecord(target, { id: e.id, record: e.record } as Verified);
    });
    return target;
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
  const same = [...target.roots].sort().join() === [...s.roots].sort().join();
  const into = same ? target : createState(s.roots as string[], target.hashText);
  Object.assign(into, fields);
  into.needs.json = needJson;
  into.offers.json = offerJson;
  into.allocations.json = allocationJson;
  into.shipments.json = shipmentJson;
  if (same) return target;
  for (const [id, o] of into.nodes) if (o.rec !== undefined) fileRecord(target, { id, record: o.rec } as unknown as Verified);
  return target;
}

/**
 * The public door of the resolver (spec/resolution.md): one class over the
 * internal state object (graph.ts). Each rule lives in the module named after
 * its section: records.ts and chains.ts and admission.ts (§1), authority.ts
 * (§2, §3), allocations.ts (§4), duplicates.ts (§5), custody.ts and
 * custody-checks.ts (§6), views.ts (§7), bundles.ts and bundle-index.ts (§7.2),
 * scheduler.ts (§9) and snapshot.ts.
 */
import { ShuniuError, type Verified } from '@shuniu/protocol';
import type { AdmissionEdge } from './admission.js';
import { indexBundles } from './bundle-index.js';
import { createState, type State } from './graph.js';
import { attachObjects, letGo, type ObjectStore, restub, stubOf } from './objects.js';
import { fileRecord } from './records.js';
import { flush } from './scheduler.js';
import { textHasher } from './sha256.js';
import { fromSnapshot, type ResolverSnapshot, toSnapshot } from './snapshot.js';
import { isStub } from './stubs.js';
import type { ResolvedState, ResolverOptions } from './types.js';
import { type StateMapName, stateHash, stateOf } from './views.js';

const B64_32 = /^[A-Za-z0-9_-]{43}$/;

function checkOptions(opts: ResolverOptions): void {
  if (!opts || !Array.isArray(opts.roots) || opts.roots.some((r) => typeof r !== 'string' || !B64_32.test(r))) {
    throw new ShuniuError('E_ARGUMENT', 'ResolverOptions.roots must be an array of hub ids (43 base64url characters)');
  }
  if (opts.sha256 !== undefined && typeof opts.sha256 !== 'function') throw new ShuniuError('E_ARGUMENT', 'ResolverOptions.sha256 must be a function');
  if (opts.sha256Text !== undefined && typeof opts.sha256Text !== 'function')
    throw new ShuniuError('E_ARGUMENT', 'ResolverOptions.sha256Text must be a function');
  const o = opts.objects as Partial<ObjectStore> | undefined;
  if (o !== undefined && (o === null || typeof o.put !== 'function' || typeof o.get !== 'function' || typeof o.drop !== 'function'))
    throw new ShuniuError('E_ARGUMENT', 'ResolverOptions.objects must be an ObjectStore (put, get, drop)');
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
export class Resolver {
  readonly #s: State;

  constructor(opts: ResolverOptions) {
    checkOptions(opts);
    this.#s = createState(opts.roots, opts.sha256Text ?? textHasher(opts.sha256));
    if (opts.objects !== undefined) attachObjects(this.#s, opts.objects);
  }

  /**
   * Lets finished objects leave memory for `ResolverOptions.objects`
   * (spec/resolution.md §11): those whose view changed or that came back since
   * the last call, when the §11 rule finds them finished, with the records
   * filed under them. They come back by themselves when a record or a read
   * needs them; the state and its hash do not change. Nothing without
   * `objects`. Returns how many nodes (objects and records) left.
   *
   * @example resolver.apply(v); resolver.letGo()
   */
  letGo(): number {
    flush(this.#s);
    return letGo(this.#s);
  }

  /**
   * Diagnostics of letting go: counts, from now on, each load of a node that
   * left memory by the place that read it (function and file:line, and the
   * field read); `loadSites()` returns them, most frequent first. Slow (a
   * stack trace per load): for benches, never in a node.
   */
  traceLoads(): void {
    if (this.#s.objects !== undefined) this.#s.objects.sites ??= new Map();
  }

  /**
   * Diagnostics of letting go: the nodes in memory by record type ('-' for an id no record held names),
   * and the nodes that left (stubs). For benches: it walks every node.
   */
  residentByType(): Record<string, number> {
    const s = this.#s;
    const out: Record<string, number> = { stubs: 0 };
    for (const o of s.nodes.values()) {
      if (isStub(s, o)) out.stubs = (out.stubs as number) + 1;
      else {
        const t = o.rec?.type ?? '-';
        out[t] = (out[t] ?? 0) + 1;
      }
    }
    return out;
  }

  /** The loads counted since traceLoads(), by site, most frequent first. */
  loadSites(): [string, number][] {
    return [...(this.#s.objects?.sites ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
  }

  /** Nodes (objects and records) that left memory and that came back since the resolver started (0 without `objects`). */
  objectCounts(): { out: number; back: number } {
    const x = this.#s.objects;
    return { out: x?.out ?? 0, back: x?.back ?? 0 };
  }

  /** Number of distinct records applied. */
  get size(): number {
    return this.#s.records;
  }

  /**
   * Adds one verified record. Idempotent; any order. Cheap: it files the
   * record under the ids it names and marks those objects for re-derivation,
   * which happens on the next state()/stateHash()/toJSON().
   */
  apply(v: Verified): void {
    fileRecord(this.#s, v);
  }

  /**
   * The admissions that count (spec/resolution.md §1): by an admitted hub, on
   * its counting chain, within its scope, not revoked; sorted by (by, child).
   * `admittedHubs(roots, admissionEdges())` is the set of admitted hubs; a
   * node's trust is the same call with its blocked hubs excluded.
   */
  admissionEdges(): AdmissionEdge[] {
    flush(this.#s);
    return this.#s.edges.map((e) => ({ by: e.by, child: e.child, record: e.record }));
  }

  /** The resolved state as plain JSON (maps keyed by id, in sorted key order). */
  state(): ResolvedState {
    flush(this.#s);
    return stateOf(this.#s);
  }

  /**
   * One map of the resolved state, as in `state()[name]`, without building
   * the others (a node's state routes ask for one at a time).
   *
   * @example resolver.collection('needs')
   */
  collection<K extends StateMapName>(name: K): NonNullable<ResolvedState[K]> {
    flush(this.#s);
    return this.#s[name].toObject() as NonNullable<ResolvedState[K]>;
  }

  /**
   * The entries of one map of the resolved state, in no particular order and
   * without copying. A value is replaced, never mutated, when it changes, so a
   * reader may track changes by object identity (the node's matching worker
   * is sent only the entries whose object changed).
   *
   * @example for (const [id, need] of resolver.entries('needs')) ...
   */
  entries<K extends StateMapName>(name: K): IterableIterator<[string, NonNullable<ResolvedState[K]>[string]]> {
    flush(this.#s);
    return this.#s[name].entries() as IterableIterator<[string, NonNullable<ResolvedState[K]>[string]]>;
  }

  /**
   * One entry of one map of the resolved state by its id, without walking or
   * copying the map (a node's intake tracking route looks up one need).
   *
   * @example resolver.entry('needs', needId)?.status
   */
  entry<K extends StateMapName>(name: K, id: string): NonNullable<ResolvedState[K]>[string] | undefined {
    flush(this.#s);
    return this.#s[name].get(id) as NonNullable<ResolvedState[K]>[string] | undefined;
  }

  /** The record clock of the state (its `clock`: the greatest hlc.ms applied). */
  recordClock(): number {
    flush(this.#s);
    return this.#s.clock;
  }

  /**
   * base64url SHA-256 of the canonical state (spec/resolution.md §7, State
   * hash): digest of {v, clock, and for each map its root}, where a map's
   * root is digest({prefix: digest({key: digest(value)})}) over 4,096 key
   * prefixes. Only entries changed since the last call are re-hashed, then
   * their buckets. Equal on every replica that holds the same set of records.
   */
  stateHash(): string {
    flush(this.#s);
    return stateHash(this.#s);
  }

  /** Counts of the state's maps: cheap, for logs and metrics. */
  stats(): Record<'records' | 'hubs' | 'needs' | 'offers' | 'allocations' | 'shipments' | 'conflicts' | 'held' | 'pending', number> {
    const s = this.#s;
    flush(s);
    return {
      records: s.records,
      hubs: s.hubs.size,
      needs: s.needs.size,
      offers: s.offers.size,
      allocations: s.allocations.size,
      shipments: s.shipments.size,
      conflicts: s.conflicts.size,
      held: s.held.size,
      pending: s.pending.size,
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
    return toSnapshot(this.#s, this.stateHash());
  }

  /**
   * The open-state snapshot (spec/resolution.md §11, Restart): like toJSON(), but the finished objects
   * stay in `ResolverOptions.objects` (letGo() first), written as their ids and what their neighbours
   * read of them, their views as their leaf digests: its size follows the open work, and taking it reads
   * nothing back from the store. Restored by fromJSON with the same store, holding what it held when the
   * snapshot was taken (the node writes both at shutdown: spec/node.md §10.4).
   *
   * @throws ShuniuError E_ARGUMENT without `objects`
   */
  openSnapshot(): ResolverSnapshot {
    const s = this.#s;
    if (s.objects === undefined) throw new ShuniuError('E_ARGUMENT', 'an open-state snapshot needs ResolverOptions.objects');
    this.letGo();
    return toSnapshot(s, this.stateHash(), (o) => stubOf(s, o));
  }

  /**
   * Restores a resolver from toJSON() output without re-deriving anything.
   * The snapshot's records were verified before they were stored; they are
   * trusted, not re-verified. When `opts.roots` differ from the snapshot's,
   * the derived state does not apply and the held records are re-applied.
   * Snapshots of other formats are refused (the node then replays its records).
   * An open-state snapshot (openSnapshot) needs `opts.objects`, the store its
   * finished objects are in, and the same roots.
   *
   * @throws ShuniuError E_ARGUMENT when the snapshot is not one (or from an incompatible version, or open without its store)
   */
  static fromJSON(snapshot: unknown, opts: ResolverOptions): Resolver {
    const r = new Resolver(opts);
    const s = r.#s;
    fromSnapshot(snapshot, s, opts.objects === undefined ? undefined : (o, facts) => restub(s, o, facts));
    // The restored maps are new: they read views that leave memory back from the store too.
    if (opts.objects !== undefined) attachObjects(r.#s, opts.objects);
    // Bundles are not in snapshots: their index is rebuilt from the records and derived at the next read.
    indexBundles(r.#s);
    return r;
  }
}

/**
 * Finished objects out of memory (spec/resolution.md §11; docs/scale-memory.md
 * step 3): after a flush, `letGo` moves the needs, offers, allocations and
 * shipments that §11 finds finished, with the records filed under them, into
 * an injected ObjectStore. Each leaves a stub behind: the same `Obj` (so every
 * reference to it, in other nodes, hub chains, groups and the node map, still
 * holds), stripped to its id, whose prototype loads it back from the store on
 * the first read or write of any other field. Nothing in the derivation has to
 * know: whatever follows a reference to a finished object loads it, as §11
 * requires, and the state and its hash are exactly those of a resolver that
 * keeps everything (the tests hold them equal on every vector and on random
 * histories with and without letting go). The view of an object that left
 * keeps its leaf digest in its BucketMap, so the state hash stays
 * incremental; the view itself is read back from the store when asked for.
 *
 * The stub is the whole mechanism's guarantee: a stub has no data to read
 * by mistake, only accessors that load. Which objects go (the §11 rule on
 * what is in memory) decides only how much memory is saved, never the state.
 */
import { ShuniuError } from '@shuniu/protocol';
import type { BucketMap } from './buckets.js';
import { node, Obj, type State } from './graph.js';
import { decodeNode, encodeNode } from './snapshot.js';
import { type Facts, isStub } from './stubs.js';

import type { AllocationState, NeedState, OfferState, ShipmentState } from './types.js';

/** The maps of the state whose objects may leave memory. */
export type ObjectMap = 'needs' | 'offers' | 'allocations' | 'shipments';

/** One node that left memory: an object (with its view) or a record filed under one. */
export interface StoredObject {
  id: string;
  /** The node (its record and derived fields, references to other nodes by id) in the snapshot codec's encoding (snapshot.ts encodeNode). */
  node: string;
  /** For an object of the state: its map, its view as JCS text (what the state routes read) and its leaf digest L(id) (spec/resolution.md §7). */
  map?: ObjectMap;
  view?: string;
  leaf?: string;
}

/**
 * Where finished objects go (ResolverOptions.objects). Synchronous: a node
 * implements it over its store (better-sqlite3 and the libpq binding are
 * synchronous), a browser or a test with MapObjectStore.
 */
export interface ObjectStore {
  /** Nodes leaving memory. */
  put(batch: readonly StoredObject[]): void;
  /** The stored node of `id`, if it is stored. */
  get(id: string): StoredObject | undefined;
  /** Removes nodes that came back into memory (called by the next letGo, for all that came back since the last). */
  drop(ids: readonly string[]): void;
  /**
   * Optional: runs `work`, whose puts and drops are one letGo's, as one unit (a database: one transaction).
   * letGo then puts its nodes in small batches, so that their encoded text dies young instead of filling the heap.
   */
  batch?(work: () => void): void;
}

/** The reference ObjectStore: everything in one Map (tests, browsers, and a measure of what leaves memory). */
export class MapObjectStore implements ObjectStore {
  readonly #m = new Map<string, StoredObject>();

  /** Number of nodes stored. */
  get size(): number {
    return this.#m.size;
  }

  put(batch: readonly StoredObject[]): void {
    for (const x of batch) this.#m.set(x.id, x);
  }

  get(id: string): StoredObject | undefined {
    return this.#m.get(id);
  }

  drop(ids: readonly string[]): void {
    for (const id of ids) this.#m.delete(id);
  }

  /** The ids stored. */
  ids(): IterableIterator<string> {
    return this.#m.keys();
  }
}

/** A resolver's link to its ObjectStore (State.objects). */
export interface Objects {
  store: ObjectStore;
  /** The prototype of this resolver's stubs: accessors that load the node before any field is read or written. */
  proto: object;
  /** Nodes loaded back since the last letGo (candidates to leave again); their rows are dropped from the store at the next letGo, in one call. */
  loaded: Obj[];
  /** Counters: nodes that left memory and that came back, since the resolver started. */
  out: number;
  back: number;
  /** Loads counted by where they came from (Resolver.traceLoads: the first frame outside this file, the kind of node and the field read); undefined: not traced. */
  sites: Map<string, number> | undefined;
}

/** The facts a node keeps once it is a stub (see Facts), taken before it leaves; `m` is its map if it is an object of the state. */
function factsFor(o: Obj, m: ObjectMap | undefined): Facts | undefined {
  if (m === 'needs') {
    const n = o.need;
    return n && { k: 'need', hub: n.hub, code: n.body.item.code, closed: n.closed !== undefined, neededByMs: n.neededByMs, requester: n.body.requester.name };
  }
  if (m === 'offers') {
    const f = o.offer;
    return f && { k: 'offer', hub: f.hub, code: f.body.item.code, withdrawn: f.withdrawn !== undefined };
  }
  if (m === 'allocations') {
    const a = o.alloc;
    return a && { k: 'alloc', idle: (a.voidReason !== undefined || a.decided === 'declined') && !a.s1 && !a.s2, ships: o.allocShip };
  }
  if (m === 'shipments') {
    const c = o.ship;
    if (c === undefined) return undefined;
    const per: (string | number)[] = [];
    const pa = c.perAlloc;
    for (let i = 0; i < pa.k.length; i++) {
      const x = pa.v[i];
      if (x !== undefined) per.push(pa.k[i] as string, x.shipped, x.accepted);
    }
    return { k: 'ship', to: c.to, received: c.received, per };
  }
  if (o.rec?.type === 'custody.delivered') return { k: 'deliv', byItem: o.deliv?.byItem };
  return undefined;
}

/** Nodes encoded and put at a time by letGo. */
const PUT_BATCH = 64;

const MAPS: readonly ObjectMap[] = ['needs', 'offers', 'allocations', 'shipments'];

/** An Obj's own fields in the order a new one gets them (deleting them in reverse keeps the stub in V8's fast mode, about the size of the Obj alone). */
const KEYS: readonly string[] = Object.keys(new Obj(''));
if (!KEYS.includes('id')) throw new Error('objects.ts: Obj has no own id');

/** Lets a resolver's state put finished objects in `store` (idempotent; again after a restore, which makes new maps). */
export function attachObjects(s: State, store: ObjectStore): void {
  if (s.objects === undefined) {
    const proto: object = Object.create(Obj.prototype);
    for (const k of KEYS) {
      if (k === 'id') continue;
      Object.defineProperty(proto, k, {
        get(this: Obj) {
          if (s.objects?.sites !== undefined) site(s.objects.sites, k);
          ensure(s, this);
          return (this as unknown as Record<string, unknown>)[k];
        },
        set(this: Obj, v: unknown) {
          if (s.objects?.sites !== undefined) site(s.objects.sites, k);
          ensure(s, this);
          (this as unknown as Record<string, unknown>)[k] = v;
        },
      });
    }
    s.objects = { store, proto, loaded: [], out: 0, back: 0, sites: undefined };
  }
  for (const m of MAPS) {
    const map = s[m] as BucketMap<unknown>;
    map.fetch = (key) => viewOf(s, key);
    if (map.changed === undefined) map.changed = new Set();
  }
}

/** Counts one load by its call site (diagnostics only: Resolver.traceLoads). */
function site(sites: Map<string, number>, k: string): void {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const at = frames
    .filter((l) => !l.includes('objects.ts') && !l.includes('objects.js'))
    .slice(0, 2)
    .map((f) =>
      f
        .trim()
        .replace(/^at /, '')
        .replace(/\(.*[\\/]/, '('),
    )
    .join(' < ');
  const key = `${at} .${k}`;
  sites.set(key, (sites.get(key) ?? 0) + 1);
}

/** The view of an object whose view left memory, read from the store. */
function viewOf(s: State, key: string): unknown {
  const x = (s.objects as Objects).store.get(key);
  if (x?.view === undefined) throw new ShuniuError('E_STORAGE', `object ${key} left memory and is not in the object store`);
  return JSON.parse(x.view);
}

/**
 * Brings a stub's node back from the store (spec/resolution.md §11, coming
 * back): its fields, its record re-linked to its hub, its view put back in
 * its map with the same leaf digest. Nothing for a node in memory.
 *
 * @throws ShuniuError E_STORAGE when the store does not hold it
 */
export function ensure(s: State, o: Obj): void {
  const x = s.objects;
  if (x === undefined || Object.getPrototypeOf(o) !== x.proto) return;
  const id = o.id;
  const stored = x.store.get(id);
  if (stored === undefined) throw new ShuniuError('E_STORAGE', `object ${id} left memory and is not in the object store`);
  const r = o as unknown as Record<string, unknown>;
  delete r.f;
  delete r.id;
  Object.setPrototypeOf(o, Obj.prototype);
  const fresh = new Obj(id) as unknown as Record<string, unknown>;
  for (const k of KEYS) r[k] = fresh[k];
  decodeNode(stored.node, (nid) => node(s, nid));
  o.h = o.rec === undefined ? undefined : s.hubData.get(o.rec.hub);
  if (stored.map !== undefined && stored.view !== undefined) (s[stored.map] as BucketMap<unknown>).putBack(id, JSON.parse(stored.view));
  x.loaded.push(o);
  x.back++;
}

/** A node an open-state snapshot wrote as its id and facts, made a stub again (Resolver.fromJSON: snapshot.ts fromSnapshot). */
export function restub(s: State, o: Obj, facts: unknown): void {
  stub(s.objects as Objects, o, (facts ?? undefined) as Facts | undefined);
}

/** What an open-state snapshot writes of a node: its facts when it is a stub (snapshot.ts toSnapshot), undefined when it is in memory. */
export function stubOf(s: State, o: Obj): { facts: unknown } | undefined {
  return isStub(s, o) ? { facts: (o as unknown as { f?: Facts }).f ?? null } : undefined;
}

/** Strips a node to a stub (its id, its facts, and the prototype that loads it back). */
function stub(x: Objects, o: Obj, f: Facts | undefined): void {
  const id = o.id;
  const r = o as unknown as Record<string, unknown>;
  for (let i = KEYS.length - 1; i >= 0; i--) delete r[KEYS[i] as string];
  r.id = id;
  if (f !== undefined) r.f = f;
  Object.setPrototypeOf(o, x.proto);
}

/**
 * Lets the finished objects go (spec/resolution.md §11) among those whose
 * view changed or that came back since the last call, and their neighbours:
 * each with the records filed under it (a need's updates, closing and
 * deliveries; an offer's updates and withdrawal; an allocation's decisions;
 * a shipment's versions and receipts). A stub neighbour counts as finished
 * and not under way: it left finished, and whatever could change that reads
 * it, which loads it. The caller has flushed. Returns how many nodes left.
 */
export function letGo(s: State): number {
  const x = s.objects;
  if (x === undefined) return 0;
  // Every leaf digest current: a view leaves memory with its digest.
  for (const m of MAPS) s[m].root(s.hashText);
  const cands = new Set<Obj>();
  const add = (o: Obj | undefined): void => {
    if (o !== undefined && !isStub(s, o)) cands.add(o);
  };
  for (const m of MAPS) {
    const changed = s[m].changed as Set<string>;
    for (const id of changed) add(s.nodes.get(id));
    changed.clear();
  }
  for (const o of x.loaded) add(o);
  // What came back leaves the store (in one call), before anything goes in again (write() below).
  const back = x.loaded.map((o) => o.id);
  x.loaded = [];
  // Neighbours whose rule reads a candidate: a shipment's allocations, an allocation's need and offer.
  for (const o of [...cands]) {
    if (s.shipments.resident(o.id)) for (const a of (s.shipments.get(o.id) as ShipmentState).allocations) add(s.nodes.get(a));
  }
  for (const o of [...cands]) {
    if (s.allocations.resident(o.id)) {
      add(o.t1);
      add(o.t2);
    }
  }

  const shipView = (o: Obj): ShipmentState | undefined => (isStub(s, o) || !s.shipments.resident(o.id) ? undefined : s.shipments.get(o.id));
  /** A resident allocation of the state listed by a shipment without a receipt in force (goods under way). */
  const underWay = (a: Obj): boolean => {
    if (isStub(s, a) || !s.allocations.has(a.id)) return false;
    for (const sh of a.allocShip ?? []) {
      const v = shipView(sh);
      if (v !== undefined && v.receipt === undefined && v.allocations.includes(a.id)) return true;
    }
    return false;
  };
  const busy = (allocs: Obj[] | undefined): boolean => (allocs ?? []).some(underWay);
  /** A resident allocation standing and not yet accepted or declined (its need's author will decide it). */
  const proposed = (a: Obj): boolean => !isStub(s, a) && s.allocations.resident(a.id) && s.allocations.get(a.id)?.status === 'proposed';
  const needDone = new Map<Obj, boolean>();
  const needFinished = (n: Obj): boolean => {
    if (isStub(s, n)) return true;
    let f = needDone.get(n);
    if (f === undefined) {
      const v: NeedState | undefined = s.needs.resident(n.id) ? s.needs.get(n.id) : undefined;
      f = v !== undefined && v.closed !== undefined && !busy(n.needAlloc);
      needDone.set(n, f);
    }
    return f;
  };
  const offerDone = new Map<Obj, boolean>();
  const offerFinished = (o: Obj): boolean => {
    if (isStub(s, o)) return true;
    let f = offerDone.get(o);
    if (f === undefined) {
      const v: OfferState | undefined = s.offers.resident(o.id) ? s.offers.get(o.id) : undefined;
      // An offer with a proposed allocation stays: its author's acceptance reorders the offer's standing allocations (its view), so it would come back at once.
      f = v !== undefined && (v.withdrawn !== undefined || v.available === 0) && !busy(o.offerAlloc) && !(o.offerAlloc ?? []).some(proposed);
      offerDone.set(o, f);
    }
    return f;
  };

  const go = new Set<Obj>();
  const leave = (list: Obj[] | undefined): void => {
    if (list !== undefined) for (const r of list) if (!isStub(s, r)) go.add(r);
  };
  for (const o of cands) {
    const id = o.id;
    if (s.needs.resident(id)) {
      if (!needFinished(o)) continue;
      go.add(o);
      leave(o.needUpd);
      leave(o.needDeliv);
    } else if (s.offers.resident(id)) {
      if (!offerFinished(o)) continue;
      go.add(o);
      leave(o.offerUpd);
    } else if (s.allocations.resident(id)) {
      const v = s.allocations.get(id) as AllocationState;
      if (underWay(o)) continue;
      if (!(v.status === 'declined' || v.status === 'void' || (needFinished(o.t2 as Obj) && offerFinished(o.t1 as Obj)))) continue;
      go.add(o);
      leave(o.allocDec);
    } else if (s.shipments.resident(id)) {
      if ((s.shipments.get(id) as ShipmentState).receipt === undefined) continue;
      go.add(o);
      leave(o.shipVersions);
      leave(o.shipReceipts);
    }
  }
  // In batches of PUT_BATCH nodes, each stubbed once it is stored: the encoded text of a batch dies before the
  // next is made (one batch of a whole letGo, thousands of nodes, lived long enough to reach V8's old space
  // and grew the heap; with the store's `batch`, still one transaction).
  const write = (): void => {
    if (back.length > 0) x.store.drop(back);
    const all = [...go];
    for (let at = 0; at < all.length; at += PUT_BATCH) {
      const part = all.slice(at, at + PUT_BATCH);
      const batch: StoredObject[] = [];
      const maps: (ObjectMap | undefined)[] = [];
      const facts: (Facts | undefined)[] = [];
      for (const o of part) {
        const m = MAPS.find((k) => s[k].resident(o.id));
        facts.push(factsFor(o, m));
        // A finished object's view does not follow the record clock (§11): a deadline it was queued for would
        // re-derive the same view, so it leaves without one (the deadline then finds it stale, loading nothing).
        o.sched = undefined;
        const item: StoredObject = { id: o.id, node: encodeNode(o) };
        if (m !== undefined) {
          const map = s[m] as BucketMap<unknown>;
          item.map = m;
          item.view = map.json(map.get(o.id));
          item.leaf = map.leaf(o.id);
        }
        batch.push(item);
        maps.push(m);
      }
      x.store.put(batch);
      part.forEach((o, i) => {
        const m = maps[i];
        if (m !== undefined) s[m].evict(o.id);
        stub(x, o, facts[i]);
      });
    }
  };
  if (go.size === 0 && back.length === 0) return 0;
  if (x.store.batch !== undefined) x.store.batch(write);
  else write();
  x.out += go.size;
  return go.size;
}

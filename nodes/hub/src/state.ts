import * as crypto from 'node:crypto';
import { assumeVerified, ShuniuError, type SignedRecord, type Verified } from '@shuniu/protocol';
import { type AdmissionEdge, type ObjectStore, type ResolvedState, Resolver } from '@shuniu/resolve';

/**
 * A record read back from this node's own store, for the resolver (a replay, a checkpoint, another
 * process's commits): it was parsed and verified before it was stored, and its stored text is
 * exactly JSON.stringify of the parsed record, so it is not parsed against the schema again (that
 * check took about half of a replay's time, issue 14 point 3).
 */
export function storedRecord(json: string, id: string): Verified {
  return assumeVerified(JSON.parse(json) as SignedRecord, id);
}

/**
 * The node's view of resolved state, implemented by the reference resolver
 * (@shuniu/resolve). Kept as an interface so a node can plug in another
 * conforming resolver (spec/resolution.md) without touching ingest.
 */
export interface StateEngine {
  apply(v: Verified): void;
  stateHash(): string;
  /** JSON snapshot persisted with a checkpoint. */
  toJSON(): unknown;
  /** Resolved collections by name (needs, offers, …); undefined when unknown. */
  collection(name: string): unknown[] | undefined;
  /** The whole resolved state (spec/resolution.md). */
  resolved(): ResolvedState;
  /** One map of the resolved state without copying (values are replaced, never mutated: the matching worker is sent what changed). */
  entries<K extends 'needs' | 'offers' | 'conflicts'>(name: K): Iterable<[string, ResolvedState[K][string]]>;
  /** One need of the resolved state by id, or undefined (the intake tracking route, spec/node.md §8.7). */
  need(id: string): ResolvedState['needs'][string] | undefined;
  /** The state's record clock (its `clock`). */
  clock(): number;
  /** The admissions that count (spec/resolution.md §1); the node's trust is admittedHubs(roots, these, blocked). */
  admissionEdges(): AdmissionEdge[];
  /** Lets finished objects leave memory (spec/resolution.md §11), when the engine keeps them out of memory; returns how many left. */
  letGo?(): number;
  /** The open-state snapshot (spec/resolution.md §11 Restart), when the engine keeps finished objects out of memory: its finished objects stay in their store. */
  openSnapshot?(): unknown;
}

export type StateFactory = (roots: string[], snapshot?: unknown) => StateEngine;

/** The reference resolver behind the node's state routes; its snapshot is what checkpoints store. */
export class ResolverState implements StateEngine {
  constructor(readonly resolver: Resolver) {}
  apply(v: Verified): void {
    this.resolver.apply(v);
  }
  stateHash(): string {
    return this.resolver.stateHash();
  }
  toJSON(): unknown {
    return this.resolver.toJSON();
  }
  resolved(): ResolvedState {
    return this.resolver.state();
  }
  entries<K extends 'needs' | 'offers' | 'conflicts'>(name: K): Iterable<[string, ResolvedState[K][string]]> {
    return this.resolver.entries(name);
  }
  need(id: string): ResolvedState['needs'][string] | undefined {
    return this.resolver.entry('needs', id);
  }
  clock(): number {
    return this.resolver.recordClock();
  }
  admissionEdges(): AdmissionEdge[] {
    return this.resolver.admissionEdges();
  }
  letGo(): number {
    return this.resolver.letGo();
  }
  openSnapshot(): unknown {
    return this.resolver.openSnapshot();
  }
  /**
   * Keys of each large map in key order, kept between calls: a new snapshot
   * of a collection sorts only the keys added since the last one (and reads
   * the values by key), not every key again into a new object.
   */
  private readonly order = new Map<string, { keys: string[]; seen: Set<string> }>();

  /** The values of a map in key order: the keys added since the last call sorted and merged, the rest kept. */
  private sortedValues(name: 'needs' | 'offers' | 'shipments' | 'conflicts' | 'allocations' | 'hubs'): unknown[] {
    // One walk of the resolver's map (no copy into an object, no sort of every key: it did both on
    // every snapshot of a state route, issue 11 point 4), then the values by key in the kept order.
    const current = new Map<string, unknown>(this.resolver.entries(name));
    const prev = this.order.get(name);
    const added: string[] = [];
    let kept = 0;
    for (const k of current.keys()) {
      if (prev?.seen.has(k)) kept++;
      else added.push(k);
    }
    let keys: string[];
    let seen: Set<string>;
    if (prev === undefined || kept !== prev.keys.length) {
      // First call, or keys went away: the whole order again.
      keys = [...current.keys()].sort();
      seen = new Set(keys);
    } else {
      keys = prev.keys;
      seen = prev.seen;
      if (added.length > 0) {
        added.sort();
        const out: string[] = new Array(keys.length + added.length);
        let i = 0;
        let j = 0;
        let o = 0;
        while (i < keys.length && j < added.length) out[o++] = (keys[i] as string) < (added[j] as string) ? (keys[i++] as string) : (added[j++] as string);
        while (i < keys.length) out[o++] = keys[i++] as string;
        while (j < added.length) out[o++] = added[j++] as string;
        keys = out;
        for (const k of added) seen.add(k);
      }
    }
    this.order.set(name, { keys, seen });
    const values: unknown[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) values[i] = current.get(keys[i] as string);
    return values;
  }

  collection(name: string): unknown[] | undefined {
    const r = this.resolver;
    switch (name) {
      case 'needs':
      case 'offers':
      case 'shipments':
      case 'conflicts':
        return this.sortedValues(name);
      // Exactly the objects the state hash covers (spec/node.md §6): filters that need more (an
      // allocation's region is its need's) look it up; nothing is added to what is served.
      case 'allocations':
      case 'hubs':
        return this.sortedValues(name);
      // Maps of id → value: served as {id, value} items in id order.
      case 'held':
      case 'pending': {
        const m = r.collection(name) as Record<string, unknown>;
        return Object.keys(m).map((id) => ({ id, value: m[id] }));
      }
      // Few (spec/resolution.md §7.2): in key order from the resolver.
      case 'bundles':
        return Object.values(r.collection('bundles'));
      default:
        return undefined;
    }
  }
}

/**
 * Node's native SHA-256 for the state hash, straight from the text
 * (crypto.hash, Node ≥ 20.12; createHash before): same digests as the
 * resolver's pure one, several times faster.
 */
const sha256Text: (text: string) => string =
  typeof crypto.hash === 'function' ? (t) => crypto.hash('sha256', t, 'base64url') : (t) => crypto.createHash('sha256').update(t).digest('base64url');

export const defaultStateFactory: StateFactory = (roots, snapshot) =>
  new ResolverState(snapshot === undefined ? new Resolver({ roots, sha256Text }) : Resolver.fromJSON(snapshot, { roots, sha256Text }));

/**
 * The reference resolver letting finished objects go to `objects` (config letGoFinished, spec/node.md
 * §10.4): from the open-state snapshot written at shutdown over the objects the store holds, or from
 * nothing over an emptied store (a replay). Any other snapshot is refused (E_ARGUMENT: the caller replays).
 */
export function letGoStateFactory(objects: ObjectStore & { clear(): void }): StateFactory {
  return (roots, snapshot) => {
    if (snapshot === undefined) {
      objects.clear();
      return new ResolverState(new Resolver({ roots, sha256Text, objects }));
    }
    if ((snapshot as { open?: unknown } | null)?.open !== true)
      throw new ShuniuError('E_ARGUMENT', 'with letGoFinished a start reads only the open-state snapshot written at shutdown');
    return new ResolverState(Resolver.fromJSON(snapshot, { roots, sha256Text, objects }));
  };
}

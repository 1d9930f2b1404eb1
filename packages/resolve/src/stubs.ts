/**
 * What the derivation may read of a node that left memory (objects.ts) without loading it: whether a
 * node is a stub, and the facts its stub keeps. Apart from objects.ts so that the derivation's modules
 * read them without importing the store's machinery (and the snapshot code it uses).
 */
import type { SmallMap } from './collections.js';
import type { Obj, State } from './graph.js';

/**
 * What a stub keeps of its node: the few derived facts its neighbours' derivation reads of a finished
 * object, so that reading them does not load it (the capacity passes of an open offer or need skip its
 * declined and void allocations; a need's view sums its received shipments and its deliveries; an
 * allocation's base reads its offer's and need's author, item and closing). Taken when the node leaves
 * and exact while it is a stub: a stub's fields cannot change without loading it (every write goes
 * through its accessors), and loading removes them.
 */
export type Facts =
  /** requester: its name (a duplicate group's conflict names it; the group's key has it with its kind and the item code). */
  | { k: 'need'; hub: string; code: string; closed: boolean; neededByMs: number; requester: string }
  | { k: 'offer'; hub: string; code: string; withdrawn: boolean }
  /** idle: declined or void, and standing in neither capacity pass (a pass gives it nothing and changes nothing of it). */
  | { k: 'alloc'; idle: boolean; ships: Obj[] | undefined }
  /** per: [allocation id, shipped, accepted] triples of the shipment's perAlloc. */
  | { k: 'ship'; to: string; received: boolean; per: (string | number)[] }
  /** A delivery record's contribution per item code (undefined: none). */
  | { k: 'deliv'; byItem: SmallMap<number> | undefined };

/** The facts of a stub (undefined for a node in memory, or a stub that keeps none). Reads no accessor, loads nothing. */
export function factsOf(s: State, o: Obj): Facts | undefined {
  const x = s.objects;
  if (x === undefined || Object.getPrototypeOf(o) !== x.proto) return undefined;
  return (o as unknown as { f?: Facts }).f;
}

/** Whether `o` is a stub (its node is in the store). Reads no field. */
export function isStub(s: State, o: Obj): boolean {
  return s.objects !== undefined && Object.getPrototypeOf(o) === s.objects.proto;
}

/**
 * The bundles' index (spec/resolution.md §7.2), beside the graph: which
 * records name a bundle, which bundles list a need, which bundles to derive
 * again. Filing and marking only (records.ts calls it); the derivation is
 * bundles.ts. Snapshots do not carry it: `indexBundles` rebuilds it from the
 * records a restored resolver holds.
 */
import { type Obj, recOf, type State } from './graph.js';
import { isStub } from './stubs.js';

/** The bundles' own index, beside the graph (not part of snapshots: `indexBundles` rebuilds it). */
export interface BundleIndex {
  /** Bundle id → the bundle.updated and bundle.funded records naming it. */
  refs: Map<string, Obj[]>;
  /** Need id → the bundles whose listed needs include it. */
  byNeed: Map<string, Set<string>>;
  /** Bundle id → its listed needs as last derived. */
  needsOf: Map<string, string[]>;
  /** Bundle id → the conflict ids it put in the state. */
  own: Map<string, string[]>;
  /** Bundles to derive again at the next flush. */
  dirty: Set<string>;
}

/** Files a bundle record under the bundle it names (records.ts, fileRecord). */
export function fileBundleRecord(s: State, o: Obj): void {
  const r = recOf(o);
  if (r.type !== 'bundle.updated' && r.type !== 'bundle.funded') return;
  const list = s.bundleIdx.refs.get(r.body.bundle);
  if (list) list.push(o);
  else s.bundleIdx.refs.set(r.body.bundle, [o]);
}

/** Marks the bundle a record feeds, after it started or stopped counting (records.ts, touch). */
export function touchBundle(s: State, o: Obj): void {
  const r = recOf(o);
  if (r.type === 'bundle.posted') s.bundleIdx.dirty.add(o.id);
  else if (r.type === 'bundle.updated' || r.type === 'bundle.funded') s.bundleIdx.dirty.add(r.body.bundle);
}

/** Rebuilds the index from the records held (after a restore from a snapshot) and marks every bundle. */
export function indexBundles(s: State): void {
  s.bundleIdx.refs.clear();
  for (const o of s.nodes.values()) {
    // A node that left memory (an open-state snapshot, objects.ts) is a need, offer, allocation or shipment or a record filed under one: never a bundle's.
    if (isStub(s, o) || o.rec === undefined) continue;
    fileBundleRecord(s, o);
    touchBundle(s, o);
  }
}

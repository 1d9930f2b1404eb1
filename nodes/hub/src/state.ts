import { digest, type Verified } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';

/**
 * The node's view of resolved state. The reference resolver (@shuniu/resolve)
 * implements it; `RecordSetState` stands in until it is wired, hashing the
 * set of stored record ids so that equal record sets give equal hashes.
 */
export interface StateEngine {
  apply(v: Verified): void;
  stateHash(): string;
  /** JSON snapshot persisted with a checkpoint. */
  toJSON(): unknown;
  /** Resolved collections by name (needs, offers, …); undefined when unknown. */
  collection(name: string): unknown[] | undefined;
}

export class RecordSetState implements StateEngine {
  private readonly ids = new Set<string>();
  constructor(snapshot?: unknown) {
    if (Array.isArray(snapshot)) for (const id of snapshot) if (typeof id === 'string') this.ids.add(id);
  }
  apply(v: Verified): void {
    this.ids.add(v.id);
  }
  stateHash(): string {
    return digest([...this.ids].sort());
  }
  toJSON(): unknown {
    return [...this.ids];
  }
  collection(): unknown[] | undefined {
    return undefined;
  }
}

export type StateFactory = (roots: string[], snapshot?: unknown) => StateEngine;

export const recordSetState: StateFactory = (_roots, snapshot) => new RecordSetState(snapshot);

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
  collection(name: string): unknown[] | undefined {
    const st = this.resolver.state();
    const needs = st.needs;
    switch (name) {
      case 'needs':
        return Object.values(needs);
      case 'offers':
        return Object.values(st.offers);
      case 'allocations':
        // Filters (region, urgency, group) apply through the need allocated to.
        return Object.values(st.allocations).map((a) => {
          const n = needs[a.need];
          return n ? { ...a, region: n.region, urgency: n.urgency, beneficiaries: n.beneficiaries } : a;
        });
      case 'shipments':
        return Object.values(st.shipments);
      case 'conflicts':
        return Object.values(st.conflicts);
      case 'hubs':
        return Object.values(st.hubs).map((h) => ({ ...h, region: h.region ?? h.profile?.region }));
      default:
        return undefined;
    }
  }
}

export const defaultStateFactory: StateFactory = (roots, snapshot) =>
  new ResolverState(snapshot === undefined ? new Resolver({ roots }) : Resolver.fromJSON(snapshot, { roots }));

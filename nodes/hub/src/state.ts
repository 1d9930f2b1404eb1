import { digest, type Verified } from '@shuniu/protocol';

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

export const defaultStateFactory: StateFactory = (_roots, snapshot) => new RecordSetState(snapshot);

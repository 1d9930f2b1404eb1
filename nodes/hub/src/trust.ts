import { type AdmissionEdge, admittedHubs } from '@shuniu/resolve';
import type { Store } from './store/types.js';

/**
 * Which hubs' logs this node accepts (spec/node.md §7): the resolver's
 * admission closure — the same `admittedHubs` over the same edges (the
 * admissions that count: on the admitter's counting chain, in its scope,
 * not revoked) — with this node's blocked hubs excluded, so that the hubs
 * admitted only through a blocked hub are out too. The node's own hub is
 * always accepted. One definition: no fixpoint of its own.
 */
export class Trust {
  private trusted = new Set<string>();
  constructor(
    readonly roots: readonly string[],
    readonly self: string,
    private readonly store: Store,
    private readonly edges: () => readonly AdmissionEdge[],
  ) {}

  /** Recomputed whenever the counting admissions may have changed (spec/node.md §7) and after a block or unblock. */
  recompute(): void {
    const blocked = new Set(this.store.blocked().map((b) => b.hub));
    this.trusted = admittedHubs(this.roots, this.edges(), blocked);
  }

  isTrusted(hub: string): boolean {
    return this.trusted.has(hub);
  }

  /** Whether records authored by `hub` may be stored. */
  accepts(hub: string): boolean {
    return hub === this.self || this.trusted.has(hub);
  }

  list(): string[] {
    return [...this.trusted].sort();
  }
}

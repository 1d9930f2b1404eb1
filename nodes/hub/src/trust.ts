import type { Store } from './store/types.js';

/**
 * Which hubs' logs this node accepts (spec/node.md §Trust): the configured
 * roots, and every hub named by a hub.admitted record whose author is itself
 * trusted, transitively. The node's own log is always kept. The resolver
 * computes the same closure for resolved state; this copy decides storage,
 * before a record reaches the resolver.
 */
export class Trust {
  private trusted = new Set<string>();
  constructor(
    readonly roots: readonly string[],
    readonly self: string,
    private readonly store: Store,
  ) {
    this.recompute();
  }

  /** Fixpoint over the stored admissions; cheap, since admissions are few. */
  recompute(): void {
    const next = new Set(this.roots);
    const edges = this.store.admissions();
    let grew = true;
    while (grew) {
      grew = false;
      for (const e of edges) {
        if (!next.has(e.child) && next.has(e.by)) {
          next.add(e.child);
          grew = true;
        }
      }
    }
    this.trusted = next;
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

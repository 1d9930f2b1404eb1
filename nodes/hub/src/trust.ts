import type { Store } from './store/types.js';

/** One admission that counts: `by` admitted `child` in record `record`. */
export interface TrustEdge {
  by: string;
  child: string;
  record: string;
}

/**
 * Reachability from `roots` over `edges` whose admitter is reachable and not
 * excluded; an excluded hub is itself not admitted and admits nobody.
 */
function reachable(roots: Iterable<string>, edges: readonly TrustEdge[], excluded: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const byAdmitter = new Map<string, string[]>();
  for (const e of edges) {
    const list = byAdmitter.get(e.by);
    if (list) list.push(e.child);
    else byAdmitter.set(e.by, [e.child]);
  }
  const stack: string[] = [];
  for (const r of roots) {
    if (excluded.has(r) || out.has(r)) continue;
    out.add(r);
    stack.push(r);
  }
  for (let hub = stack.pop(); hub !== undefined; hub = stack.pop()) {
    for (const child of byAdmitter.get(hub) ?? []) {
      if (excluded.has(child) || out.has(child)) continue;
      out.add(child);
      stack.push(child);
    }
  }
  return out;
}

/**
 * Which hubs' logs this node accepts (spec/node.md §7): the configured roots
 * and the hubs reachable from them over admissions, minus the blocked hubs
 * and every hub reachable only through one. The node's own hub is always
 * accepted. `edges` gives the admissions that count.
 */
export class Trust {
  private trusted = new Set<string>();
  constructor(
    readonly roots: readonly string[],
    readonly self: string,
    private readonly store: Store,
    private readonly edges: () => readonly TrustEdge[],
  ) {}

  /** Recomputed after a batch that stored an admission and after a block or unblock; admissions are few. */
  recompute(): void {
    const blocked = new Set(this.store.blocked().map((b) => b.hub));
    this.trusted = reachable(this.roots, this.edges(), blocked);
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

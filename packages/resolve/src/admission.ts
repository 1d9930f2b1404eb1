import type { HubLevel } from '@shuniu/protocol';

/**
 * One admission that counts (spec/resolution.md §1): `by` admitted `child`
 * in record `record`, on `by`'s counting chain, within `by`'s scope, and not
 * withdrawn by a later `hub.admission.revoked` of `by`.
 */
export interface AdmissionEdge {
  by: string;
  child: string;
  record: string;
}

/**
 * The one definition of "admitted": the hubs reachable from `roots` over
 * `edges`, following only edges whose `by` is reachable and not excluded. An
 * excluded hub (a node's blocked hubs) is itself not admitted and admits
 * nobody, so hubs admitted only through it are not admitted either. Pure: the
 * resolver uses it for its own state (nothing excluded) and a node for the
 * hubs it accepts records from (its blocked hubs excluded), over the same
 * edges (Resolver.admissionEdges()).
 *
 * @example admittedHubs([hubei], [{ by: hubei, child: xiaogan, record: a1 }], new Set([xiaogan])) // Set {hubei}
 */
export function admittedHubs(roots: Iterable<string>, edges: readonly AdmissionEdge[], excluded?: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const children = new Map<string, string[]>();
  for (const e of edges) {
    const list = children.get(e.by);
    if (list) list.push(e.child);
    else children.set(e.by, [e.child]);
  }
  const stack: string[] = [];
  for (const r of roots) {
    if (excluded?.has(r) || out.has(r)) continue;
    out.add(r);
    stack.push(r);
  }
  for (let hub = stack.pop(); hub !== undefined; hub = stack.pop()) {
    for (const child of children.get(hub) ?? []) {
      if (excluded?.has(child) || out.has(child)) continue;
      out.add(child);
      stack.push(child);
    }
  }
  return out;
}

/** Rank of a hub level: national 0 < province 1 < city 2 < county 3 < org 4. An admitter may admit only levels of a greater rank. */
export const LEVEL_RANK: Readonly<Record<HubLevel, number>> = { national: 0, province: 1, city: 2, county: 3, org: 4 };

/** The region prefix a hub admits within: its region without trailing "00" pairs (420000 → "42", 420900 → "4209", 420902 → "420902"). */
export function regionScope(region: string): string {
  let p = region;
  while (p.length > 2 && p.endsWith('00')) p = p.slice(0, -2);
  return p;
}

/**
 * Whether an admitter may admit a child (spec/resolution.md §1, admission
 * scope): the child's level ranks below the admitter's and its region lies
 * inside the admitter's region prefix; an admitter of level `national` may
 * admit any lower level anywhere; a child of level `national` (a national
 * foundation or agency) only a root may admit, with any region (its seat).
 * `admitter` is the admitter's standing: for a root its latest profile (no
 * profile: no limit), otherwise its own admission's level and region.
 */
export function admissionInScope(admitter: { root: boolean; level?: HubLevel; region?: string }, child: { level: HubLevel; region: string }): boolean {
  if (child.level === 'national') return admitter.root;
  if (admitter.level === undefined || admitter.region === undefined) return admitter.root;
  if (LEVEL_RANK[child.level] <= LEVEL_RANK[admitter.level]) return false;
  if (admitter.level === 'national') return true;
  return child.region.startsWith(regionScope(admitter.region));
}

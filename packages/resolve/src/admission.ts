/**
 * Admission (spec/resolution.md §1, Admission, In force, In scope, One
 * definition): which hubs are admitted, from the roots down over the
 * admissions in force and in scope on their admitters' counting chains.
 * `admittedHubs` and `admissionInScope` are pure and public (a node's trust
 * uses the same functions); `refreshAdmission` recomputes the resolver's
 * admission edges, chains of admission and `admission_scope` conflicts.
 */
import type { Hlc, HubLevel, RecordOf } from '@shuniu/protocol';
import { latestOnChain } from './chains.js';
import { conflict, setGroupConflicts } from './conflicts.js';
import { byHlcId, forEachObj, type HubData, markView, type Obj, onChain, recOf, type State } from './graph.js';
import { touch } from './records.js';
import type { Conflict, DetailValue } from './types.js';

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

/**
 * The admissions of admitter `h` in force: per child, among its counting
 * (on-chain) hub.admitted and hub.admission.revoked records naming that
 * child, the one with the highest seq decides; only admissions are returned.
 */
export function admissionsInForce(h: HubData): Obj[] {
  if (h.revocations.length === 0 && h.admissions.length <= 1) return h.admissions.filter((a) => onChain(a));
  const latest = new Map<string, Obj>();
  for (const list of [h.admissions, h.revocations])
    for (const o of list) {
      if (!onChain(o)) continue;
      const r = o.rec as RecordOf<'hub.admitted'> | RecordOf<'hub.admission.revoked'>;
      const cur = latest.get(r.body.child);
      if (cur === undefined || r.seq > recOf(cur).seq) latest.set(r.body.child, o);
    }
  const out: Obj[] = [];
  for (const o of latest.values()) if (recOf(o).type === 'hub.admitted') out.push(o);
  return out;
}

/**
 * Admission (spec/resolution.md §1): reachability from the roots over the
 * admissions in force that are within their admitter's scope; the chosen
 * chain is the shortest, ties by (hlc, id) of the admission. An admission
 * out of scope is no edge and an `admission_scope` conflict. The admitted
 * set is admittedHubs(roots, edges), the function a node's trust uses too.
 */
export function refreshAdmission(s: State): void {
  s.admissionDirty = false;
  const next = new Map<string, { parent: string; record: string }>();
  const edges: AdmissionEdge[] = [];
  const scope: Conflict[] = [];
  // What each admitted hub admits with: for a root its latest profile, otherwise its own admission's level and region.
  const standing = new Map<string, { root: boolean; level?: HubLevel; region?: string }>();
  for (const root of s.roots) {
    const h = s.hubData.get(root);
    const p = h ? latestOnChain(h, h.profiles) : undefined;
    const b = p ? (p.rec as RecordOf<'hub.profile'>).body : undefined;
    standing.set(root, b ? { root: true, level: b.level, region: b.region } : { root: true });
  }
  const seen = new Set<string>(s.roots);
  let frontier = [...s.roots].sort();
  while (frontier.length > 0) {
    const best = new Map<string, { parent: string; record: string; hlc: Hlc; level: HubLevel; region: string }>();
    for (const p of frontier) {
      const h = s.hubData.get(p);
      if (!h) continue;
      const by = standing.get(p) as { root: boolean; level?: HubLevel; region?: string };
      for (const a of admissionsInForce(h)) {
        const r = a.rec as RecordOf<'hub.admitted'>;
        const child = r.body.child;
        if (!admissionInScope(by, r.body)) {
          const detail: Record<string, DetailValue> = { child, level: r.body.level, region: r.body.region };
          if (by.level !== undefined) detail.admitterLevel = by.level;
          if (by.region !== undefined) detail.admitterRegion = by.region;
          scope.push(conflict(`${a.id}/admission_scope`, 'admission_scope', [a.id], [p], detail));
          continue;
        }
        edges.push({ by: p, child, record: a.id });
        if (seen.has(child)) continue;
        const cur = best.get(child);
        if (!cur || byHlcId({ hlc: r.hlc, id: a.id }, { hlc: cur.hlc, id: cur.record }) < 0)
          best.set(child, { parent: p, record: a.id, hlc: r.hlc, level: r.body.level, region: r.body.region });
      }
    }
    frontier = [...best.keys()].sort();
    for (const [child, b] of best) {
      seen.add(child);
      next.set(child, { parent: b.parent, record: b.record });
      standing.set(child, { root: s.roots.has(child), level: b.level, region: b.region });
    }
  }
  edges.sort((a, b) => (a.by < b.by ? -1 : a.by > b.by ? 1 : a.child < b.child ? -1 : a.child > b.child ? 1 : 0));
  s.edges = edges;
  setGroupConflicts(s, 'adm', '', scope);
  const admittedSet = admittedHubs(s.roots, edges);
  const old = s.admissionOf;
  s.admissionOf = next;
  for (const h of s.hubData.values()) {
    const admitted = admittedSet.has(h.id);
    const o = old.get(h.id);
    const n = next.get(h.id);
    if (o?.record !== n?.record || o?.parent !== n?.parent) markView(s, h);
    if (admitted === h.admitted) continue;
    h.admitted = admitted;
    markView(s, h);
    forEachObj(h, (x) => (admitted ? s.held.delete(x.id) : s.held.set(x.id, h.id)));
    for (const x of h.live) touch(s, x);
  }
  // A changed parent changes the whole chain below it: refresh every hub view (admissions are rare).
  for (const h of s.hubData.values()) if (next.has(h.id) || old.has(h.id)) markView(s, h);
}

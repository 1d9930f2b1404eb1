/**
 * Conflicts in the state (spec/resolution.md §7: `conflicts`, keyed by id):
 * how one is written, and the bookkeeping that replaces the conflicts an
 * object or group put in the state when it is derived again. The
 * `unauthorised` conflict of §2 is built here because every section raises it.
 */
import { sorted } from './collections.js';
import type { GroupOwner, Obj, ObjOwner, Rec, State } from './graph.js';
import type { Conflict, ConflictRule, DetailValue } from './types.js';

/** Shallow copy with members in sorted order (conflict details: flat). */
export function sortedObject<T extends object>(x: T): T {
  const o = {} as Record<string, unknown>;
  for (const k of Object.keys(x).sort()) o[k] = (x as Record<string, unknown>)[k];
  return o as T;
}

/** A conflict with its lists sorted and deduplicated and its members in sorted order (views-json.ts and JSON.stringify write them canonically). */
export function conflict(id: string, rule: ConflictRule, records: string[], hubs: string[], detail: Record<string, DetailValue>): Conflict {
  // Members in sorted order (viewJson).
  return { detail: sortedObject(detail), hubs: sorted(hubs), id, records: sorted(records), rule };
}

/** Replaces conflict ids `old` by the conflicts of `list` in the state; returns the new ids (undefined for none). */
export function replaceConflicts(s: State, old: string[] | undefined, list: Conflict[]): string[] | undefined {
  if (old) for (const k of old) s.conflicts.delete(k);
  for (const c of list) s.conflicts.set(c.id, c);
  return list.length === 0 ? undefined : list.map((c) => c.id);
}

/** The conflicts a group (a hub's forks, a duplicate cluster, a lot, …) puts in the state, replacing its previous ones. */
export function setGroupConflicts(s: State, kind: GroupOwner, owner: string, list: Conflict[]): void {
  const m = s.ownConflicts[kind];
  const old = m.get(owner);
  if (!old && list.length === 0) return;
  const ids = replaceConflicts(s, old, list);
  if (ids === undefined) m.delete(owner);
  else m.set(owner, ids);
}

/** The conflicts an object puts in the state for one owner kind, replacing its previous ones. */
export function setConflicts(s: State, kind: ObjOwner, o: Obj, list: Conflict[]): void {
  const old = o.own?.[kind];
  if (!old && list.length === 0) return;
  const ids = replaceConflicts(s, old, list);
  if (ids !== undefined) {
    if (o.own === undefined) o.own = {};
    o.own[kind] = ids;
  } else if (o.own) {
    delete o.own[kind];
    if (Object.keys(o.own).length === 0) o.own = undefined;
  }
}

/** `<record id>/unauthorised` (spec/resolution.md §2): a record naming an object that only `expected` may change. */
export function unauthorised(r: Rec, id: string, target: string, expected: string): Conflict {
  return conflict(`${id}/unauthorised`, 'unauthorised', [id, target], [r.hub, expected], { type: r.type, author: r.hub, expected });
}

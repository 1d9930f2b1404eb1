/**
 * Likely duplicate needs (spec/resolution.md §5): counting, not cancelled
 * needs with the same requester and item form a group; sorted by (neededBy,
 * id), a cluster is a maximal run whose consecutive neededBy are at most 7
 * days apart; a cluster with needs of two or more hubs is ONE
 * `duplicate_need` conflict. Linear in the group, a pure function of its set.
 */
import { sorted } from './collections.js';
import { conflict, setGroupConflicts } from './conflicts.js';
import type { State } from './graph.js';
import { factsOf } from './stubs.js';
import type { Conflict } from './types.js';

/** Needs for one requester and item whose consecutive neededBy (sorted) lie within this window form one cluster of likely duplicates (spec/resolution.md §5). */
export const DUPLICATE_WINDOW_MS = 7 * 24 * 3600 * 1000;

/**
 * Likely duplicate needs of one (requester, item) group (spec/resolution.md §5):
 * the group's needs sorted by (neededBy, id) split into clusters, maximal runs
 * whose consecutive neededBy differ by at most DUPLICATE_WINDOW_MS; a cluster
 * with needs of two or more hubs is ONE conflict naming all its needs. Linear
 * in the group after the sort (no pairs), a pure function of the set.
 */
export function dupGroup(s: State, key: string): void {
  type Dup = { id: string; hub: string; neededByMs: number; requester: string; code: string };
  const ids = s.dupGroups.get(key);
  const infos: Dup[] = [];
  if (ids !== undefined)
    for (const o of ids) {
      // A need that left memory is read from its stub's facts (objects.ts), not loaded.
      const f = factsOf(s, o);
      if (f?.k === 'need') infos.push({ id: o.id, hub: f.hub, neededByMs: f.neededByMs, requester: f.requester, code: f.code });
      else if (o.need !== undefined)
        infos.push({ id: o.id, hub: o.need.hub, neededByMs: o.need.neededByMs, requester: o.need.body.requester.name, code: o.need.body.item.code });
    }
  infos.sort((a, b) => a.neededByMs - b.neededByMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: Conflict[] = [];
  let start = 0;
  for (let i = 1; i <= infos.length; i++) {
    if (i < infos.length && (infos[i] as Dup).neededByMs - (infos[i - 1] as Dup).neededByMs <= DUPLICATE_WINDOW_MS) continue;
    // infos[start, i) is a cluster.
    if (i - start >= 2) {
      const first = infos[start] as Dup;
      let multiHub = false;
      for (let j = start + 1; j < i && !multiHub; j++) multiHub = (infos[j] as Dup).hub !== first.hub;
      if (multiHub) {
        const members = infos.slice(start, i);
        const recs = sorted(members.map((n) => n.id));
        out.push(
          conflict(
            `${recs[0]}/duplicate_need`,
            'duplicate_need',
            recs,
            members.map((n) => n.hub),
            {
              requester: first.requester,
              item: first.code,
              needs: recs.length,
            },
          ),
        );
      }
    }
    start = i;
  }
  if (ids && ids.size === 0) s.dupGroups.delete(key);
  setGroupConflicts(s, 'dup', key, out);
}

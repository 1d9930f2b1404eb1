/**
 * The checks of custody across shipments (spec/resolution.md §6, Delivered
 * beyond received, Double handoff): per hub and item, deliveries beyond what
 * the hub accepted; per sender and allocation, shipments to two or more
 * receivers beyond the allocation; per sender, item and lot, shipments to two
 * or more receivers beyond what the sender accepted of the lot. Each reads
 * the groups custody.ts files shipments and deliveries into.
 */
import { digest } from '@shuniu/protocol';
import { sat } from './collections.js';
import { conflict, setConflicts, setGroupConflicts } from './conflicts.js';
import type { Obj, State } from './graph.js';
import type { Conflict } from './types.js';

/** An allocation's handoffs, per sender: the same goods handed to two receivers beyond the allocation is a double handoff. */
export function dhCheck(s: State, o: Obj): void {
  const list = o.dh;
  const ai = o.alloc;
  const out: Conflict[] = [];
  // One handoff (the usual case) cannot go to two receivers.
  if (list !== undefined && list.length >= 2 && ai !== undefined) {
    const bySender = new Map<string, { ships: string[]; to: Set<string>; total: number }>();
    for (const h of list) {
      const g = bySender.get(h.from);
      if (g === undefined) bySender.set(h.from, { ships: [h.ship], to: new Set([h.to]), total: h.q });
      else {
        g.ships.push(h.ship);
        g.to.add(h.to);
        g.total = sat(g.total + h.q);
      }
    }
    const alloc = o.id;
    for (const [from, g] of bySender) {
      if (g.to.size >= 2 && g.total > ai.quantity) {
        out.push(
          conflict(`${alloc}/double_handoff/${from}`, 'double_handoff', [alloc, ...g.ships], [from, ...g.to], {
            allocation: alloc,
            held: ai.quantity,
            handedOff: g.total,
          }),
        );
      }
    }
  }
  setConflicts(s, 'dh', o, out);
}

export function lotCheck(s: State, key: string): void {
  const shp = s.lotShipped.get(key);
  const h = s.lotHeld.get(key);
  const out: Conflict[] = [];
  if (shp && h && h.total > 0) {
    const to = new Set(shp.tos);
    if (to.size >= 2 && shp.total > h.total) {
      const [from, item, ...lot] = key.split('|') as [string, string, ...string[]];
      out.push(
        conflict(`${from}/double_handoff/${digest(key)}`, 'double_handoff', [...shp.keys, ...h.keys], [from, ...to], {
          item,
          lot: lot.join('|'),
          held: h.total,
          handedOff: shp.total,
        }),
      );
    }
  }
  if (shp && shp.size === 0) s.lotShipped.delete(key);
  if (h && h.size === 0) s.lotHeld.delete(key);
  setGroupConflicts(s, 'lot', key, out);
}

export function dbrCheck(s: State, key: string): void {
  const rcv = s.dbrReceived.get(key);
  const dlv = s.dbrDelivered.get(key);
  const out: Conflict[] = [];
  const received = rcv?.total ?? 0;
  if (dlv && dlv.total > received) {
    const [hub, item] = key.split('|') as [string, string];
    out.push(
      conflict(`${hub}/delivered_beyond_received/${item}`, 'delivered_beyond_received', [...dlv.keys], [hub], {
        item,
        received,
        delivered: dlv.total,
      }),
    );
  }
  if (rcv && rcv.size === 0) s.dbrReceived.delete(key);
  if (dlv && dlv.size === 0) s.dbrDelivered.delete(key);
  setGroupConflicts(s, 'dbr', key, out);
}

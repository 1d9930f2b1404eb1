import { ShuniuError } from '@shuniu/protocol';
import type { HeldFilter, Store } from './store/types.js';

/**
 * The holding area as an operator sees it (spec/node.md §3.3): records and
 * bytes of stored text in all and per sender, most bytes first.
 */
export function heldView(store: Store): {
  records: number;
  bytes: number;
  senders: { sender: string; records: number; bytes: number; oldest: string }[];
} {
  const senders = store.heldSummary();
  return {
    records: senders.reduce((n, s) => n + s.records, 0),
    bytes: senders.reduce((n, s) => n + s.bytes, 0),
    senders: senders.map((s) => ({ sender: s.sender, records: s.records, bytes: s.bytes, oldest: new Date(s.oldestMs).toISOString() })),
  };
}

/** Parses 90s, 30m, 12h, 7d into milliseconds. */
export function parseDuration(s: string, name = 'olderThan'): number {
  const m = /^(\d{1,9})([smhd])$/.exec(s);
  if (!m) throw new ShuniuError('E_ARGUMENT', `${name} must look like 90s, 30m, 12h or 7d`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/**
 * Which held records a purge drops (spec/node.md §3.3): every condition
 * given must hold; with none, `all` must be set, so that a purge never
 * empties the area by omission.
 *
 * @throws ShuniuError E_ARGUMENT
 */
export function heldFilterOf(
  q: { hub?: string | undefined; sender?: string | undefined; olderThan?: string | undefined; all?: boolean },
  now: number,
): HeldFilter {
  const f: HeldFilter = {};
  if (q.hub) f.hub = q.hub;
  if (q.sender) f.sender = q.sender;
  if (q.olderThan) f.before = now - parseDuration(q.olderThan);
  const any = f.hub !== undefined || f.sender !== undefined || f.before !== undefined;
  if (!any && !q.all) throw new ShuniuError('E_ARGUMENT', 'name what to purge: hub, sender, olderThan, or all');
  if (any && q.all) throw new ShuniuError('E_ARGUMENT', 'all purges everything: give it alone');
  return f;
}

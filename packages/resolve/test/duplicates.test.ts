import { assumeVerified, ready, type Verified } from '@shuniu/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DAY, iso, T0, World, type WorldHub } from '../../../spec/tools/resolution/world.js';
import { type Conflict, DUPLICATE_WINDOW_MS, type ResolvedState, Resolver } from '../src/index.js';

beforeAll(ready);

const HOUR = 3600 * 1000;

function resolve(roots: string[], records: Verified[]): Resolver {
  const r = new Resolver({ roots });
  for (const v of records) r.apply(v);
  return r;
}

function dupConflicts(s: ResolvedState): Conflict[] {
  return Object.values(s.conflicts).filter((c) => c.rule === 'duplicate_need');
}

/** A root and `n` admitted hubs. */
function setup(n: number): { w: World; root: WorldHub; hubs: WorldHub[] } {
  const w = new World();
  const root = w.hub('root');
  const hubs: WorldHub[] = [];
  for (let i = 0; i < n; i++) {
    const h = w.hub(`h${i}`);
    w.admit(root, h, 'county', '420902');
    hubs.push(h);
  }
  return { w, root, hubs };
}

const verified = (w: World): Verified[] => w.records.map((e) => assumeVerified(e.record, e.id));

describe('duplicate_need clusters (spec/resolution.md §5)', () => {
  it('2,000 alternating-hub needs chained within the window are ONE conflict listing each need once', () => {
    const { w, root, hubs } = setup(2);
    const g = 2000;
    const ids: string[] = [];
    // One hour apart: the group spans ~83 days (far beyond 7), and each need has ~336
    // others within 7 days, so pairs would be ~336,000 conflicts; clusters give one.
    for (let i = 0; i < g; i++) ids.push(w.need(hubs[i % 2] as WorldHub, { neededBy: iso(T0 + DAY + i * HOUR) }));
    const s = resolve([root.id], verified(w)).state();
    const dups = dupConflicts(s);
    expect(dups).toHaveLength(1);
    const c = dups[0] as Conflict;
    const sortedIds = [...ids].sort();
    expect(c.id).toBe(`${sortedIds[0]}/duplicate_need`);
    expect(c.records).toEqual(sortedIds);
    expect(c.hubs).toEqual([hubs[0]?.id, hubs[1]?.id].sort());
    expect(c.detail.needs).toBe(g);
    // Linear: the records listed by all duplicate conflicts together never exceed the group.
    expect(dups.reduce((n, x) => n + x.records.length, 0)).toBe(g);
  });

  it('a gap wider than the window splits clusters; a one-hub cluster is no conflict', () => {
    const { w, root, hubs } = setup(2);
    const [a, b] = hubs as [WorldHub, WorldHub];
    const n1 = w.need(a, { neededBy: iso(T0 + 1 * DAY) });
    const n2 = w.need(b, { neededBy: iso(T0 + 1 * DAY + DUPLICATE_WINDOW_MS) }); // exactly 7 days: same cluster
    const n3 = w.need(a, { neededBy: iso(T0 + 20 * DAY) });
    const n4 = w.need(a, { neededBy: iso(T0 + 21 * DAY) });
    const n5 = w.need(b, { neededBy: iso(T0 + 21 * DAY) });
    const s1 = resolve([root.id], verified(w)).state();
    const got = dupConflicts(s1).map((c) => c.records);
    expect(got.sort()).toEqual([[n1, n2].sort(), [n3, n4, n5].sort()].sort());
    // Without n5 the second cluster is one hub only.
    const s2 = resolve(
      [root.id],
      verified(w).filter((v) => v.id !== n5),
    ).state();
    expect(dupConflicts(s2).map((c) => c.records)).toEqual([[n1, n2].sort()]);
  });

  it('matches a reference clustering for any set, in any order, with cancellations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ hub: fc.nat(2), halfDays: fc.nat(40), requester: fc.nat(1), cancelled: fc.boolean() }), { maxLength: 30 }),
        fc.nat(),
        (spec, seed) => {
          const { w, root, hubs } = setup(3);
          const needs = spec.map((x) => {
            const h = hubs[x.hub] as WorldHub;
            const at = T0 + DAY + x.halfDays * (DAY / 2);
            const requester = `R${x.requester}`;
            const id = w.need(h, { neededBy: iso(at), requester: { name: requester, kind: 'hospital' } });
            if (x.cancelled) w.sign(h, 'need.closed', { need: id, reason: 'cancelled' });
            return { id, hub: h.id, at, requester, live: !x.cancelled };
          });
          const recs = verified(w);
          // A deterministic shuffle from the seed.
          let x = seed | 1;
          for (let i = recs.length - 1; i > 0; i--) {
            x = (x * 1103515245 + 12345) >>> 0;
            const j = x % (i + 1);
            [recs[i], recs[j]] = [recs[j] as Verified, recs[i] as Verified];
          }
          const r = resolve([root.id], recs);
          const got = dupConflicts(r.state())
            .map((c) => ({ id: c.id, records: c.records, hubs: c.hubs, needs: c.detail.needs }))
            .sort((p, q) => (p.id < q.id ? -1 : 1));
          // Reference: per requester, sort by (neededBy, id), split on gaps > window.
          const want: typeof got = [];
          for (const req of ['R0', 'R1']) {
            const g = needs.filter((n) => n.requester === req && n.live).sort((p, q) => p.at - q.at || (p.id < q.id ? -1 : 1));
            let cur: typeof g = [];
            const emit = () => {
              const hs = [...new Set(cur.map((n) => n.hub))].sort();
              if (hs.length >= 2) {
                const ids = cur.map((n) => n.id).sort();
                want.push({ id: `${ids[0]}/duplicate_need`, records: ids, hubs: hs, needs: ids.length });
              }
            };
            for (const n of g) {
              const last = cur[cur.length - 1];
              if (last && n.at - last.at > DUPLICATE_WINDOW_MS) {
                emit();
                cur = [];
              }
              cur.push(n);
            }
            emit();
          }
          want.sort((p, q) => (p.id < q.id ? -1 : 1));
          expect(got).toEqual(want);
          // Order-independent: applying in record order gives the same hash.
          expect(resolve([root.id], verified(w)).stateHash()).toBe(r.stateHash());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a snapshot of the pair-form format (2) is refused, so a node rebuilds from its records', () => {
    const { w, root, hubs } = setup(2);
    for (let i = 0; i < 4; i++) w.need(hubs[i % 2] as WorldHub, { neededBy: iso(T0 + DAY + i * HOUR) });
    const r = resolve([root.id], verified(w));
    const snap = r.toJSON();
    expect(Resolver.fromJSON(JSON.parse(JSON.stringify(snap)), { roots: [root.id] }).stateHash()).toBe(r.stateHash());
    const old = { ...snap, layout: snap.layout.replace(/^\d+:/, '2:') };
    expect(() => Resolver.fromJSON(old, { roots: [root.id] })).toThrow(/incompatible/);
  });
});

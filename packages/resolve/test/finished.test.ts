/**
 * spec/resolution.md §11: finished objects. What the rule promises is that a
 * finished object changes only when a record touches it or a neighbour: never
 * when the record clock moves on (a deadline: neededBy, validUntil,
 * expectedArrival). These tests hold finishedObjects() to that on random
 * histories (the differential test's generator) and on a hand-built one.
 */
import { assumeVerified, createHub, ready, recordId, type Verified } from '@shuniu/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DAY, T0, World } from '../../../spec/tools/resolution/world.js';
import { finishedObjects } from '../src/finished.js';
import { type ResolvedState, Resolver } from '../src/index.js';
import { buildRecords, stepsArb } from './model/arbitrary.js';

beforeAll(ready);

/** A stranger's inception a year after T0: held (never admitted), it only moves the record clock. */
function clockJump(): Verified {
  const hub = createHub({ created: '2021-01-24T08:00:00Z', hlc: { ms: T0 + 365 * DAY, c: 0 } });
  return assumeVerified(hub.inception, recordId(hub.inception));
}

const KINDS = ['needs', 'offers', 'allocations', 'shipments'] as const;

/** The ids of `kind` whose object differs between two states (present in `a`). */
function changed(a: ResolvedState, b: ResolvedState, kind: (typeof KINDS)[number]): string[] {
  const x = a[kind] as Record<string, unknown>;
  const y = b[kind] as Record<string, unknown>;
  return Object.keys(x).filter((id) => JSON.stringify(x[id]) !== JSON.stringify(y[id]));
}

describe('finished objects (spec/resolution.md §11)', () => {
  it('a finished need, offer, allocation or shipment does not change when only the clock moves on; open ones may', () => {
    let openChanged = 0;
    const finishedSeen = { needs: 0, offers: 0, allocations: 0, shipments: 0 };
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { roots, records } = buildRecords(steps);
        const r = new Resolver({ roots });
        for (const v of records) r.apply(v);
        const before = r.state();
        const fin = finishedObjects(before);
        r.apply(clockJump());
        const after = r.state();
        expect(after.clock).toBeGreaterThan(before.clock);
        for (const kind of KINDS) {
          const set = fin[kind];
          finishedSeen[kind] += set.size;
          for (const id of changed(before, after, kind)) {
            expect(set.has(id), `${kind} ${id} is finished but changed with the clock`).toBe(false);
            openChanged++;
          }
        }
      }),
      { numRuns: 150, seed: 17 },
    );
    // The property is not vacuous: finished objects of every kind were met, and the clock did change open ones.
    for (const kind of KINDS) expect(finishedSeen[kind], kind).toBeGreaterThan(0);
    expect(openChanged).toBeGreaterThan(0);
  });

  it('a closed need stays open while goods for it are under way, and is finished once they are received', () => {
    const w = new World();
    const root = w.hub('root');
    const county = w.hub('county');
    const found = w.hub('found');
    w.admit(root, county, 'city', '420900');
    w.admit(root, found, 'org', '420000');
    const need = w.need(county, { neededBy: new Date(T0 + 2 * DAY).toISOString().replace('.000Z', 'Z') });
    const offer = w.offer(found, { quantity: 100 });
    const alloc = w.allocate(found, offer, need, 5000);
    w.sign(county, 'allocation.accepted', { allocation: alloc });
    const handoff = w.handoff(found, county, [alloc], 100);
    w.sign(county, 'need.closed', { need, reason: 'expired' });
    const r = new Resolver({ roots: [root.id] });
    for (const e of w.records) r.apply(assumeVerified(e.record, e.id));
    let fin = finishedObjects(r.state());
    // Closed, but its shipment is in transit (it turns overdue with the clock): nothing here is finished.
    expect(fin.needs.has(need)).toBe(false);
    expect(fin.offers.has(offer)).toBe(false);
    expect(fin.allocations.has(alloc)).toBe(false);
    expect(fin.shipments.has(handoff)).toBe(false);
    const receipt = w.receipt(county, handoff, 100);
    const e = w.records.find((x) => x.id === receipt);
    if (!e) throw new Error('no receipt');
    r.apply(assumeVerified(e.record, e.id));
    fin = finishedObjects(r.state());
    expect(fin.shipments.has(handoff)).toBe(true);
    expect(fin.needs.has(need)).toBe(true);
    // The offer (100 boxes = 5,000 pieces, all allocated) is exhausted: finished, and so is the allocation between them.
    expect(r.state().offers[offer]?.available).toBe(0);
    expect(fin.offers.has(offer)).toBe(true);
    expect(fin.allocations.has(alloc)).toBe(true);
  });
});

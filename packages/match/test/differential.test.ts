import type { Catalogue } from '@shuniu/match';
import { plan, propose, waterfill } from '@shuniu/match';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hubei, large } from '../../../bench/match-scenario.js';
import { CLOCK, duplicateConflict, need, offer, state } from './fixtures.js';
import { propose as reference } from './reference-propose.js';
import { waterfill as referenceWaterfill } from './reference-waterfill.js';

// The indexed, compact engine (issue 11 point 5) must give exactly the proposals of the engine before it.

const REGIONS = ['420102', '420104', '420106', '421102', '421181', '420902', '420982', '420606', '420683', '110101', '4201', '42'];
// Prefixes of every length, overlapping ones included: the region index must not lose or repeat a need.
const PREFIXES = ['', '4', '42', '420', '4201', '42010', '420102', '4211', '11', '4206', '421181', '9'];
const GROUPS = ['medical_staff', 'elderly', 'community_workers'] as const;
const PURPOSES = ['medical_protection', 'daily_living'] as const;
const ITEMS = ['PPE.MASK.SURGICAL', 'PPE.GOWN'];
const BASES = ['piece', 'piece', 'box', 'carton'];
const NEED_STATUS = ['open', 'open', 'partly_allocated', 'allocated', 'partly_delivered', 'fulfilled'] as const;
const OFFER_STATUS = ['available', 'available', 'allocated', 'withdrawn'] as const;
const URG = ['critical', 'high', 'normal', 'low'] as const;
const HOUR = 3_600_000;
const CATALOGUE: Catalogue = { items: [{ code: 'PPE.MASK.SURGICAL', base: 'piece', units: { box: 50, carton: 2000 } }] };
const ts = (h: number) => new Date(CLOCK + h * HOUR).toISOString().replace('.000Z', 'Z');

const needArb = fc.record({
  item: fc.constantFrom(...ITEMS),
  base: fc.constantFrom(...BASES),
  quantity: fc.integer({ min: 1, max: 4000 }),
  urgency: fc.constantFrom(...URG),
  // Few distinct due times, so that ties on neededBy are broken by id.
  neededByH: fc.constantFrom(-6, 6, 12, 24, 48, 72, 200),
  region: fc.constantFrom(...REGIONS),
  group: fc.constantFrom(...GROUPS),
  purpose: fc.option(fc.constantFrom(...PURPOSES), { nil: undefined }),
  status: fc.constantFrom(...NEED_STATUS),
  allocatedPct: fc.integer({ min: 0, max: 110 }),
  hlc: fc.integer({ min: 0, max: 3 }),
});

const offerArb = fc.record({
  item: fc.constantFrom(...ITEMS),
  base: fc.constantFrom(...BASES),
  quantity: fc.integer({ min: 1, max: 20_000 }),
  allocatedPct: fc.integer({ min: 0, max: 100 }),
  region: fc.constantFrom(...REGIONS),
  status: fc.constantFrom(...OFFER_STATUS),
  regions: fc.option(fc.uniqueArray(fc.constantFrom(...PREFIXES), { maxLength: 3 }), { nil: undefined }),
  groups: fc.option(fc.uniqueArray(fc.constantFrom(...GROUPS), { maxLength: 2 }), { nil: undefined }),
  purposes: fc.option(fc.uniqueArray(fc.constantFrom(...PURPOSES), { maxLength: 2 }), { nil: undefined }),
  validUntilH: fc.option(fc.constantFrom(-1, 24, 72, 300), { nil: undefined }),
  availableFromH: fc.option(fc.integer({ min: -24, max: 48 }), { nil: undefined }),
  hlc: fc.integer({ min: 0, max: 3 }),
});

const stateArb = fc
  .record({
    needs: fc.array(needArb, { minLength: 1, maxLength: 60 }),
    offers: fc.array(offerArb, { minLength: 1, maxLength: 14 }),
    dupPairs: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
  })
  .map(({ needs, offers, dupPairs }) => {
    const ns = needs.map((r, i) => {
      const allocated = Math.floor((r.quantity * r.allocatedPct) / 100);
      return need({
        id: `n${((i * 7919) % 1000).toString().padStart(3, '0')}`,
        item: { code: r.item, name: r.item },
        unit: { name: r.base, base: r.base, size: 1 },
        quantity: r.quantity,
        urgency: r.urgency,
        neededBy: ts(r.neededByH),
        region: r.region,
        beneficiaries: { group: r.group, count: 10 },
        purpose: r.purpose,
        status: r.status,
        allocated,
        hlc: { ms: CLOCK - r.hlc * HOUR, c: 0 },
      });
    });
    const os = offers.map((r, i) => {
      const intent: OfferState['intent'] = {};
      if (r.regions) intent.regions = r.regions;
      if (r.groups) intent.groups = r.groups;
      if (r.purposes) intent.purposes = r.purposes;
      if (r.validUntilH !== undefined) intent.validUntil = ts(r.validUntilH);
      return offer({
        id: `o${((i * 104729) % 1000).toString().padStart(3, '0')}`,
        item: { code: r.item, name: r.item },
        unit: { name: r.base, base: r.base, size: 1 },
        quantity: r.quantity,
        allocated: Math.floor((r.quantity * r.allocatedPct) / 100),
        region: r.region,
        status: r.status,
        intent,
        ...(r.availableFromH === undefined ? {} : { availableFrom: ts(r.availableFromH) }),
        hlc: { ms: CLOCK - r.hlc * HOUR, c: i % 2 },
      });
    });
    let conflicts: ResolvedState['conflicts'] = {};
    for (const [a, b] of dupPairs) {
      const x = ns[a % ns.length] as NeedState;
      const y = ns[b % ns.length] as NeedState;
      if (x.id !== y.id) conflicts = { ...conflicts, ...duplicateConflict([x.id, y.id]) };
    }
    return state(ns, os, { conflicts });
  });

const same = (s: ResolvedState, opts: Parameters<typeof propose>[1] = {}) => {
  const got = JSON.stringify(propose(s, opts));
  expect(got).toBe(JSON.stringify(reference(s, opts)));
};

describe('propose: the optimized engine gives the proposals of the reference engine', () => {
  it('on generated states, with and without a catalogue, with filters', () => {
    fc.assert(
      fc.property(stateArb, fc.boolean(), fc.constantFrom(undefined, '42', '4201', '420102', '11'), (s, cat, region) => {
        const catalogue = cat ? { catalogue: CATALOGUE } : {};
        same(s, catalogue);
        if (region !== undefined) same(s, { ...catalogue, filters: { region } });
        same(s, { ...catalogue, filters: { urgency: ['critical', 'low'] } });
      }),
      { numRuns: 300 },
    );
  });

  it('on the bench scenarios (Hubei 2020 and seeded large states)', () => {
    same(hubei(20200124));
    for (const seed of [1, 7, 42]) {
      const s = large(3000, 200, seed);
      same(s);
      same(s, { filters: { region: '4205', item: 'ITEM.3' } });
    }
  });

  it('a plan selects the same pages as propose()', () => {
    const s = large(2000, 150, 3);
    const p = plan(s);
    const all = propose(s, { filters: { region: '4201' } });
    const rows = p.select({ region: '4201' });
    expect(rows.length).toBe(all.length);
    expect(JSON.stringify(Array.from(rows.slice(10, 60), (i) => p.proposal(i)))).toBe(JSON.stringify(all.slice(10, 60)));
  });
});

describe('waterfill: the fast sorts give the divisions of the reference', () => {
  const claimArb = (big: boolean) =>
    fc
      .record({
        quantity: fc.integer({ min: 1, max: big ? 2 ** 40 : 5000 }),
        coveredPct: fc.constantFrom(0, 0, 10, 25, 33, 50, 99),
        lot: fc.constantFrom(1, 1, 1, 2, 50, 2000),
        capPct: fc.integer({ min: 0, max: 100 }),
      })
      .map(({ quantity, coveredPct, lot, capPct }) => {
        const covered = Math.floor((quantity * coveredPct) / 100);
        const cap = Math.floor(((quantity - covered) * capPct) / 100 / lot) * lot;
        return { quantity, covered, cap, lot };
      });
  it('on generated claims, small and beyond 2^53 in products', () => {
    for (const big of [false, true])
      fc.assert(
        fc.property(fc.array(claimArb(big), { minLength: 1, maxLength: 80 }), fc.integer({ min: 0, max: big ? 2 ** 45 : 100_000 }), (claims, supply) => {
          expect(waterfill(claims, supply)).toEqual(referenceWaterfill(claims, supply));
        }),
        { numRuns: 400 },
      );
  });
});

import type { Catalogue, Proposal } from '@shuniu/match';
import { propose, violations, waterfill } from '@shuniu/match';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOCK, duplicateConflict, need, offer, state } from './fixtures.js';

const REGIONS = ['420102', '420104', '420106', '421102', '421181', '420902', '420982', '420606', '420683', '110101'];
const PREFIXES = ['42', '4201', '4211', '420902', '11', '4206'];
const GROUPS = ['medical_staff', 'elderly', 'community_workers'] as const;
const PURPOSES = ['medical_protection', 'daily_living', 'food'] as const;
const ITEMS = ['PPE.MASK.SURGICAL', 'PPE.GOWN'];
const BASES = ['piece', 'piece', 'piece', 'box'];
const NEED_STATUS = ['open', 'open', 'open', 'partly_allocated', 'allocated', 'partly_delivered', 'fulfilled', 'expired', 'cancelled'] as const;
const OFFER_STATUS = ['available', 'available', 'available', 'allocated', 'withdrawn', 'expired'] as const;
const URG = ['critical', 'high', 'normal', 'low'] as const;
const HOUR = 3_600_000;
const CATALOGUE: Catalogue = { items: [{ code: 'PPE.MASK.SURGICAL', base: 'piece', units: { box: 50 } }] };

const ts = (h: number) => new Date(CLOCK + h * HOUR).toISOString().replace('.000Z', 'Z');

const needArb = fc
  .record({
    item: fc.constantFrom(...ITEMS),
    base: fc.constantFrom(...BASES),
    quantity: fc.integer({ min: 1, max: 3000 }),
    urgency: fc.constantFrom(...URG),
    neededByH: fc.integer({ min: -12, max: 240 }),
    region: fc.constantFrom(...REGIONS),
    group: fc.constantFrom(...GROUPS),
    purpose: fc.option(fc.constantFrom(...PURPOSES), { nil: undefined }),
    status: fc.constantFrom(...NEED_STATUS),
    allocatedPct: fc.integer({ min: 0, max: 120 }),
    transitPct: fc.integer({ min: 0, max: 100 }),
    deliveredPct: fc.integer({ min: 0, max: 100 }),
    hlc: fc.integer({ min: 0, max: 5 }),
  })
  .map((r) => {
    const allocated = Math.floor((r.quantity * r.allocatedPct) / 100);
    return {
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
      inTransit: Math.floor((allocated * r.transitPct) / 100),
      delivered: Math.floor((r.quantity * r.deliveredPct) / 200),
      hlc: { ms: CLOCK - r.hlc * HOUR, c: 0 },
    } satisfies Partial<NeedState>;
  });

const offerArb = fc
  .record({
    item: fc.constantFrom(...ITEMS),
    base: fc.constantFrom(...BASES),
    quantity: fc.integer({ min: 1, max: 5000 }),
    allocatedPct: fc.integer({ min: 0, max: 100 }),
    region: fc.constantFrom(...REGIONS),
    status: fc.constantFrom(...OFFER_STATUS),
    regions: fc.option(fc.uniqueArray(fc.constantFrom(...PREFIXES), { maxLength: 3 }), { nil: undefined }),
    groups: fc.option(fc.uniqueArray(fc.constantFrom(...GROUPS), { maxLength: 2 }), { nil: undefined }),
    purposes: fc.option(fc.uniqueArray(fc.constantFrom(...PURPOSES), { maxLength: 2 }), { nil: undefined }),
    validUntilH: fc.option(fc.integer({ min: -24, max: 240 }), { nil: undefined }),
    availableFromH: fc.option(fc.integer({ min: -24, max: 48 }), { nil: undefined }),
    hlc: fc.integer({ min: 0, max: 5 }),
  })
  .map((r) => {
    const allocated = Math.floor((r.quantity * r.allocatedPct) / 100);
    const intent: OfferState['intent'] = {};
    if (r.regions) intent.regions = r.regions;
    if (r.groups) intent.groups = r.groups;
    if (r.purposes) intent.purposes = r.purposes;
    if (r.validUntilH !== undefined) intent.validUntil = ts(r.validUntilH);
    return {
      item: { code: r.item, name: r.item },
      unit: { name: r.base, base: r.base, size: 1 },
      quantity: r.quantity,
      allocated,
      region: r.region,
      status: r.status,
      intent,
      ...(r.availableFromH === undefined ? {} : { availableFrom: ts(r.availableFromH) }),
      hlc: { ms: CLOCK - r.hlc * HOUR, c: 0 },
    } satisfies Partial<OfferState>;
  });

const stateArb = fc
  .record({
    needs: fc.array(needArb, { minLength: 1, maxLength: 25 }),
    offers: fc.array(offerArb, { minLength: 1, maxLength: 8 }),
    dupPairs: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
  })
  .map(({ needs, offers, dupPairs }) => {
    // Ids in a scrambled order so that id order, posting order and urgency disagree.
    const ns = needs.map((n, i) => need({ id: `n${((i * 7919) % 1000).toString().padStart(3, '0')}`, ...n }));
    const os = offers.map((o, i) => offer({ id: `o${((i * 104729) % 1000).toString().padStart(3, '0')}`, ...o }));
    let conflicts: ResolvedState['conflicts'] = {};
    for (const [a, b] of dupPairs) {
      const x = ns[a % ns.length] as NeedState;
      const y = ns[b % ns.length] as NeedState;
      if (x.id !== y.id && x.item.code === y.item.code && x.unit.base === y.unit.base) conflicts = { ...conflicts, ...duplicateConflict([x.id, y.id]) };
    }
    return state(ns, os, { conflicts });
  });

// ---- an independent oracle for the hard rules (spec/matching.md H1–H6) ----

const OPEN = new Set(['open', 'partly_allocated', 'allocated', 'partly_delivered']);
const ms = (t: string) => Date.parse(t);
const has = (n: NeedState) => Math.max(n.allocated, n.inTransit + n.received, n.delivered);
const sizeOf = (base: string, cat: Catalogue | undefined) => (cat && base === 'box' ? 50 : 1);

function groupsOf(s: ResolvedState): Map<string, string[]> {
  // Pairs only share a member through the generator's union: close transitively by repeated merging.
  const sets: Set<string>[] = [];
  for (const c of Object.values(s.conflicts)) {
    const merged = new Set(c.records);
    for (let i = sets.length - 1; i >= 0; i--) {
      const set = sets[i] as Set<string>;
      if ([...set].some((x) => merged.has(x))) {
        for (const x of set) merged.add(x);
        sets.splice(i, 1);
      }
    }
    sets.push(merged);
  }
  const out = new Map<string, string[]>();
  for (const set of sets) for (const id of set) out.set(id, [...set].sort());
  return out;
}

function canGive(s: ResolvedState, o: OfferState, n: NeedState, cat: Catalogue | undefined): boolean {
  if (o.status === 'withdrawn' || o.status === 'expired') return false;
  if (o.intent.validUntil !== undefined && (ms(o.intent.validUntil) <= s.clock || ms(n.neededBy) > ms(o.intent.validUntil))) return false;
  if (!OPEN.has(n.status) || n.closed) return false;
  if (o.intent.regions && !o.intent.regions.some((p) => n.region.startsWith(p))) return false;
  if (o.intent.groups && !o.intent.groups.includes(n.beneficiaries.group)) return false;
  if (o.intent.purposes && !(n.purpose !== undefined && (o.intent.purposes as string[]).includes(n.purpose))) return false;
  if (o.item.code !== n.item.code) return false;
  if (o.unit.base !== n.unit.base && !(cat && o.item.code === 'PPE.MASK.SURGICAL')) return false;
  return true;
}

function checkHardRules(s: ResolvedState, ps: Proposal[], cat: Catalogue | undefined): void {
  const groups = groupsOf(s);
  const byOffer = new Map<string, number>();
  const byGroup = new Map<string, { q: number; members: Set<string> }>();
  for (const p of ps) {
    const o = s.offers[p.offer] as OfferState;
    const n = s.needs[p.need] as NeedState;
    expect(o && n).toBeTruthy();
    expect(Number.isSafeInteger(p.quantity) && p.quantity > 0 && Number.isSafeInteger(p.offerQuantity) && p.offerQuantity > 0).toBe(true);
    expect(canGive(s, o, n, cat)).toBe(true);
    expect(p.quantity * sizeOf(n.unit.base, cat)).toBe(p.offerQuantity * sizeOf(o.unit.base, cat));
    byOffer.set(o.id, (byOffer.get(o.id) ?? 0) + p.offerQuantity);
    const key = groups.get(n.id)?.[0] ?? n.id;
    const g = byGroup.get(key) ?? { q: 0, members: new Set() };
    g.q += p.quantity;
    g.members.add(n.id);
    byGroup.set(key, g);
  }
  for (const [id, q] of byOffer) expect(q).toBeLessThanOrEqual((s.offers[id] as OfferState).available);
  for (const [key, g] of byGroup) {
    expect(g.members.size).toBe(1);
    const n = s.needs[[...g.members][0] as string] as NeedState;
    const members = groups.get(key) ?? [n.id];
    const before = members
      .map((m) => s.needs[m] as NeedState)
      .filter((m) => OPEN.has(m.status) && !m.closed)
      .reduce((a, m) => a + has(m), 0);
    expect(g.q + before).toBeLessThanOrEqual(n.quantity);
  }
}

function shuffled<T>(rec: Record<string, T>, seed: number): Record<string, T> {
  const keys = Object.keys(rec);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = (seed * (i + 17)) % (i + 1);
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  return Object.fromEntries(keys.map((k) => [k, rec[k] as T]));
}

describe('propose: properties', () => {
  it('never breaks a hard rule; totals never exceed supply or demand', () => {
    fc.assert(
      fc.property(stateArb, fc.boolean(), (s, withCatalogue) => {
        const cat = withCatalogue ? CATALOGUE : undefined;
        const ps = propose(s, { catalogue: cat });
        checkHardRules(s, ps, cat);
        expect(violations(s, ps, { catalogue: cat })).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('is work-conserving: no unused supply is left that an eligible need with a gap could take', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const ps = propose(s);
        const groups = groupsOf(s);
        const left = new Map(Object.values(s.offers).map((o) => [o.id, o.available]));
        const got = new Map<string, number>();
        for (const p of ps) {
          left.set(p.offer, (left.get(p.offer) ?? 0) - p.offerQuantity);
          got.set(p.need, (got.get(p.need) ?? 0) + p.quantity);
        }
        for (const n of Object.values(s.needs)) {
          const members = groups.get(n.id);
          if (members) {
            // Only the earliest posted open member (hlc, then id) is matched.
            const open = members.map((m) => s.needs[m] as NeedState).filter((m) => OPEN.has(m.status));
            open.sort((a, b) => a.hlc.ms - b.hlc.ms || a.hlc.c - b.hlc.c || (a.id < b.id ? -1 : 1));
            if (open[0]?.id !== n.id) continue;
          }
          const before = (members ?? [n.id])
            .map((m) => s.needs[m] as NeedState)
            .filter((m) => OPEN.has(m.status))
            .reduce((a, m) => a + has(m), 0);
          const gap = n.quantity - before - (got.get(n.id) ?? 0);
          if (gap <= 0) continue;
          for (const o of Object.values(s.offers))
            if (canGive(s, o, n, undefined) && (left.get(o.id) ?? 0) > 0) expect.unreachable(`${o.id} could still give to ${n.id}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the same input gives the same output, whatever the order of keys', () => {
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 1, max: 1000 }), (s, seed) => {
        const t: ResolvedState = { ...s, needs: shuffled(s.needs, seed), offers: shuffled(s.offers, seed + 1), conflicts: shuffled(s.conflicts, seed + 2) };
        expect(propose(t, { catalogue: CATALOGUE })).toEqual(propose(s, { catalogue: CATALOGUE }));
      }),
      { numRuns: 200 },
    );
  });
});

describe('waterfill: properties', () => {
  const claimsArb = fc.array(
    fc
      .record({ quantity: fc.integer({ min: 1, max: 10_000 }), coveredPct: fc.integer({ min: 0, max: 100 }), lot: fc.constantFrom(1, 1, 1, 5, 50) })
      .map((r) => {
        const covered = Math.floor((r.quantity * r.coveredPct) / 100);
        return { quantity: r.quantity, covered, lot: r.lot, cap: Math.floor((r.quantity - covered) / r.lot) * r.lot };
      }),
    { minLength: 1, maxLength: 30 },
  );

  it('spends exactly min(supply, caps) with lots of 1, never more than a cap, in whole lots, levelling shares', () => {
    fc.assert(
      fc.property(claimsArb, fc.integer({ min: 0, max: 200_000 }), (claims, supply) => {
        const d = waterfill(claims, supply);
        const sum = d.amounts.reduce((a, b) => a + b, 0);
        const caps = claims.reduce((a, c) => a + c.cap, 0);
        expect(sum).toBeLessThanOrEqual(Math.min(supply, caps));
        if (claims.every((c) => c.lot === 1)) expect(sum).toBe(Math.min(supply, caps));
        claims.forEach((c, i) => {
          const a = d.amounts[i] as number;
          expect(a % c.lot).toBe(0);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThanOrEqual(c.cap);
        });
        // Max-min: moving one lot from any claim that got something to any claim below its cap cannot lift the lower one above it.
        for (let i = 0; i < claims.length; i++) {
          const ci = claims[i] as (typeof claims)[number];
          const ai = d.amounts[i] as number;
          if (ai === 0) continue;
          for (let j = 0; j < claims.length; j++) {
            const cj = claims[j] as (typeof claims)[number];
            const aj = d.amounts[j] as number;
            if (i === j || aj >= cj.cap) continue;
            expect((ci.covered + ai - ci.lot) / ci.quantity).toBeLessThanOrEqual((cj.covered + aj + cj.lot) / cj.quantity + 1e-12);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('documented example', () => {
    const d = waterfill(
      [
        { quantity: 100, covered: 0, cap: 100, lot: 1 },
        { quantity: 100, covered: 50, cap: 50, lot: 1 },
      ],
      60,
    );
    expect(d.amounts).toEqual([55, 5]);
    expect(d.level).toBeCloseTo(0.55);
  });
});

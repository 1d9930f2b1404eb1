import { allocationBody, propose, REASON_CODES, reasonMessage, violations } from '@shuniu/match';
import { describe, expect, it } from 'vitest';
import { duplicateConflict, need, offer, state, totals } from './fixtures.js';

const MASKS = { items: [{ code: 'PPE.MASK.SURGICAL', base: 'piece', units: { box: 50 } }] };

describe('hard rule H1: donor intent', () => {
  it('region: a prefix of the need region is required; an empty list allows nothing', () => {
    const needs = [need({ id: 'n-wuhan', region: '420102' }), need({ id: 'n-huanggang', region: '421102' })];
    const p = propose(state(needs, [offer({ id: 'o', intent: { regions: ['4211'] } })]));
    expect(p.map((x) => x.need)).toEqual(['n-huanggang']);
    expect(propose(state(needs, [offer({ id: 'o', intent: { regions: [] } })]))).toEqual([]);
    expect(propose(state(needs, [offer({ id: 'o', intent: { regions: ['42'] } })])).map((x) => x.need)).toEqual(['n-huanggang', 'n-wuhan']);
  });

  it('beneficiary group', () => {
    const needs = [need({ id: 'n-staff' }), need({ id: 'n-elderly', beneficiaries: { group: 'elderly', count: 80 } })];
    const p = propose(state(needs, [offer({ id: 'o', intent: { groups: ['elderly'] } })]));
    expect(p.map((x) => x.need)).toEqual(['n-elderly']);
  });

  it('purpose: a need without a purpose does not satisfy a purpose restriction', () => {
    const needs = [need({ id: 'n-protect' }), need({ id: 'n-food', purpose: 'food' }), need({ id: 'n-none', purpose: undefined })];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 10_000, intent: { purposes: ['food'] } })]));
    expect(p.map((x) => x.need)).toEqual(['n-food']);
  });

  it('validUntil: not after the clock, and not before the need is due', () => {
    const needs = [need({ id: 'n-late', neededBy: '2020-01-31T00:00:00Z' }), need({ id: 'n-soon', neededBy: '2020-01-27T00:00:00Z' })];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 5000, intent: { validUntil: '2020-01-28T00:00:00Z' } })]));
    expect(p.map((x) => x.need)).toEqual(['n-soon']);
    const past = propose(state(needs, [offer({ id: 'o', quantity: 5000, intent: { validUntil: '2020-01-24T12:00:00Z' } })]));
    expect(past).toEqual([]);
  });
});

describe('hard rule H2: item and unit', () => {
  it('different item codes never match', () => {
    const p = propose(state([need({ id: 'n' })], [offer({ id: 'o', item: { code: 'PPE.MASK.N95', name: 'N95' } })]));
    expect(p).toEqual([]);
  });

  it('the same base unit matches whatever unit the quantities were posted in (2,200 boxes of 50 = 110,000 pieces)', () => {
    const o = offer({ id: 'o', unit: { name: 'box', base: 'piece', size: 50 }, quantity: 110_000 });
    const p = propose(state([need({ id: 'n', quantity: 8000 })], [o]));
    expect(p).toMatchObject([{ need: 'n', quantity: 8000, offerQuantity: 8000, unit: 'piece', limit: 'need' }]);
  });

  it('different base units need a catalogue conversion, and then move in whole lots', () => {
    const o = offer({ id: 'o', unit: { name: 'box', base: 'box', size: 1 }, quantity: 20 });
    const n = need({ id: 'n', quantity: 520 });
    expect(propose(state([n], [o]))).toEqual([]);
    const p = propose(state([n], [o]), { catalogue: MASKS });
    expect(p).toMatchObject([{ quantity: 500, offerQuantity: 10, unit: 'piece', offerUnit: 'box', limit: 'need' }]);
    expect(p[0]?.reasons.map((r) => r.code)).toContain('unit.converted');
    expect(violations(state([n], [o]), p, { catalogue: MASKS })).toEqual([]);
    expect(violations(state([n], [o]), p).map((v) => v.rule)).toEqual(['item_mismatch']);
  });
});

describe('hard rule H3: never more than the need lacks', () => {
  it('counts standing allocations, and goods in transit or delivered beyond them', () => {
    const needs = [
      need({ id: 'n-alloc', quantity: 1000, allocated: 600, inTransit: 200, status: 'partly_allocated' }),
      need({ id: 'n-deliv', quantity: 1000, delivered: 900, status: 'partly_delivered' }),
      need({ id: 'n-full', quantity: 1000, allocated: 1000, status: 'allocated' }),
    ];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 10_000 })]));
    expect(Object.fromEntries(totals(p).byNeed)).toEqual({ 'n-alloc': 400, 'n-deliv': 100 });
  });

  it('closed, fulfilled, expired and cancelled needs get nothing', () => {
    const needs = [
      need({ id: 'n-fulfilled', status: 'fulfilled' }),
      need({ id: 'n-expired', status: 'expired' }),
      need({ id: 'n-cancelled', status: 'cancelled', closed: { reason: 'cancelled', record: 'r' } }),
      need({ id: 'n-closed', status: 'open', closed: { reason: 'fulfilled', record: 'r' } }),
      need({ id: 'n-open' }),
    ];
    expect(propose(state(needs, [offer({ id: 'o', quantity: 10_000 })])).map((x) => x.need)).toEqual(['n-open']);
  });
});

describe('hard rule H4: never more than the offer still has', () => {
  it('gives only what is available after standing allocations', () => {
    const p = propose(state([need({ id: 'n', quantity: 5000 })], [offer({ id: 'o', quantity: 1000, allocated: 900 })]));
    expect(p).toMatchObject([{ quantity: 100, limit: 'offer' }]);
  });

  it('withdrawn and expired offers give nothing', () => {
    const offers = [offer({ id: 'o-w', status: 'withdrawn', withdrawn: 'r' }), offer({ id: 'o-e', status: 'expired' })];
    expect(propose(state([need({ id: 'n' })], offers))).toEqual([]);
  });
});

describe('duplicates', () => {
  it('a group of likely duplicates is matched once, through its earliest posted member, and counts every member', () => {
    const a = need({ id: 'n-b', hlc: { ms: 1, c: 0 }, quantity: 1000 });
    const b = need({ id: 'n-a', hlc: { ms: 2, c: 0 }, quantity: 1000, allocated: 300, status: 'partly_allocated' });
    const s = state([a, b], [offer({ id: 'o', quantity: 10_000 })], { conflicts: duplicateConflict(['n-a', 'n-b']) });
    const p = propose(s);
    expect(p).toMatchObject([{ need: 'n-b', quantity: 700 }]);
    expect(p[0]?.reasons.map((r) => r.code)).toContain('duplicate.representative');
    expect(violations(s, [...p, { offer: 'o', need: 'n-a', quantity: 1 }]).map((v) => v.rule)).toContain('duplicate_matched_twice');
  });
});

describe('priorities', () => {
  it('critical needs are served before high ones', () => {
    const needs = [need({ id: 'n-high', urgency: 'high' }), need({ id: 'n-crit', urgency: 'critical' })];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 1500 })]));
    expect(p).toMatchObject([
      { need: 'n-crit', quantity: 1000, limit: 'need' },
      { need: 'n-high', quantity: 500, limit: 'offer' },
    ]);
  });

  it('an offer that cannot arrive before a need is due goes to needs it can reach first', () => {
    // Xiaogan → Wuhan is 24 h by default: too late for a need due at 20:00 the same day.
    const needs = [
      need({ id: 'n-wuhan', urgency: 'critical', region: '420102', neededBy: '2020-01-24T20:00:00Z' }),
      need({ id: 'n-xiaogan', urgency: 'normal', region: '420902' }),
    ];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 500, region: '420902' })]));
    expect(p).toMatchObject([{ need: 'n-xiaogan', quantity: 500, onTime: true }]);
    // A faster table (chartered trucks) reaches Wuhan in time.
    const fast = propose(state(needs, [offer({ id: 'o', quantity: 500, region: '420902' })]), { transit: { sameProvince: 4 } });
    expect(fast).toMatchObject([{ need: 'n-wuhan', quantity: 500, onTime: true }]);
  });

  it('late needs still get what nobody reachable wants', () => {
    const p = propose(state([need({ id: 'n', neededBy: '2020-01-24T13:00:00Z' })], [offer({ id: 'o', quantity: 300 })]));
    expect(p).toMatchObject([{ need: 'n', quantity: 300, onTime: false }]);
    expect(p[0]?.reasons.map((r) => r.code)).toContain('arrival.late');
  });
});

describe('fair share', () => {
  it('short supply raises every competing need to the same covered share (the 2020 masks)', () => {
    const needs = [
      need({ id: 'n-wuhan', urgency: 'critical', region: '420104', quantity: 1000 }),
      need({ id: 'n-huanggang', urgency: 'critical', region: '421102', quantity: 500 }),
      need({ id: 'n-xiaogan', urgency: 'critical', region: '420902', quantity: 2000 }),
      need({ id: 'n-xiangyang', urgency: 'critical', region: '420606', quantity: 500 }),
    ];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 1000 })]));
    expect(Object.fromEntries(totals(p).byNeed)).toEqual({ 'n-wuhan': 250, 'n-huanggang': 125, 'n-xiaogan': 500, 'n-xiangyang': 125 });
    for (const x of p) expect(x.coverage.after).toBe(0.25);
    expect(p[0]?.reasons.find((r) => r.code === 'quantity.fair_share')?.message).toContain('25%');
  });

  it('levels the share already covered, not just this offer', () => {
    const needs = [need({ id: 'n-a', allocated: 500, status: 'partly_allocated' }), need({ id: 'n-b' })];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 600 })]));
    expect(Object.fromEntries(totals(p).byNeed)).toEqual({ 'n-a': 50, 'n-b': 550 });
  });

  it('integer amounts add up exactly: the largest remainders, ties by neededBy then need id', () => {
    const needs = [need({ id: 'n-c' }), need({ id: 'n-a' }), need({ id: 'n-b', neededBy: '2020-01-30T00:00:00Z' })];
    const p = propose(state(needs, [offer({ id: 'o', quantity: 10 })]));
    expect(Object.fromEntries(totals(p).byNeed)).toEqual({ 'n-a': 3, 'n-b': 4, 'n-c': 3 });
    expect(p.find((x) => x.need === 'n-b')?.reasons.map((r) => r.code)).toContain('quantity.remainder');
  });

  it('restricted supply goes where only it can go', () => {
    const needs = [need({ id: 'n-wuhan', region: '420102' }), need({ id: 'n-huanggang', region: '421102' })];
    // o-a is older and unrestricted; processed first it would split 500/500 and leave Huanggang short.
    const offers = [offer({ id: 'o-a', hlc: { ms: 1, c: 0 } }), offer({ id: 'o-b', hlc: { ms: 2, c: 0 }, intent: { regions: ['4201'] } })];
    const p = propose(state(needs, offers));
    expect(p.map((x) => [x.offer, x.need, x.quantity])).toEqual([
      ['o-a', 'n-huanggang', 1000],
      ['o-b', 'n-wuhan', 1000],
    ]);
  });
});

describe('output', () => {
  const needs = [
    need({ id: 'n-1', region: '420102', urgency: 'critical' }),
    need({ id: 'n-2', region: '421102' }),
    need({ id: 'n-3', region: '420606', item: { code: 'PPE.GOWN', name: '防护服' } }),
  ];
  const offers = [offer({ id: 'o-1', quantity: 1500 }), offer({ id: 'o-2', item: { code: 'PPE.GOWN', name: '防护服' }, quantity: 100 })];
  const s = state(needs, offers);

  it('filters select from the plan without changing it', () => {
    const all = propose(s);
    expect(propose(s, { filters: { region: '4201' } })).toEqual(all.filter((p) => p.region.startsWith('4201')));
    expect(propose(s, { filters: { item: 'PPE.GOWN' } })).toEqual(all.filter((p) => p.item === 'PPE.GOWN'));
    expect(propose(s, { filters: { urgency: ['critical'] } })).toEqual(all.filter((p) => p.urgency === 'critical'));
    expect(propose(s, { filters: { offers: ['o-1'], needs: ['n-2'] } })).toEqual(all.filter((p) => p.offer === 'o-1' && p.need === 'n-2'));
  });

  it('the same state with its keys in another order gives the same proposals', () => {
    const reversed = state([...needs].reverse(), [...offers].reverse());
    expect(propose(reversed)).toEqual(propose(s));
  });

  it('turns a proposal into an allocation body', () => {
    const [p] = propose(s);
    expect(p).toBeDefined();
    if (p) expect(allocationBody(p, '第一批')).toEqual({ offer: p.offer, need: p.need, quantity: p.quantity, note: '第一批' });
  });

  it('explains why this need, why this quantity and which rule limited it', () => {
    const p = propose(s).find((x) => x.need === 'n-2');
    expect(p?.reasons.map((r) => r.code)).toEqual(['priority', 'intent', 'arrival.on_time', 'quantity.fair_share']);
    expect(p?.limit).toBe('offer');
  });

  it("names the hub that must sign each proposal (the offer's author) and the requester, donor and item by name", () => {
    const two = state(needs, [
      offer({ id: 'o-1', hub: 'H-city', quantity: 1500 }),
      offer({ id: 'o-2', hub: 'H-fund', item: { code: 'PPE.GOWN', name: '防护服' }, quantity: 100 }),
    ]);
    const p = propose(two);
    expect(p.map((x) => [x.offer, x.signer])).toEqual(p.map((x) => [x.offer, x.offer === 'o-1' ? 'H-city' : 'H-fund']));
    expect(new Set(p.map((x) => x.signer))).toEqual(new Set(['H-city', 'H-fund']));
    const gown = p.find((x) => x.need === 'n-3');
    expect(gown).toMatchObject({ signer: 'H-fund', itemName: '防护服', donor: two.offers['o-2']?.donor.name, requester: two.needs['n-3']?.requester.name });
  });
});

describe('reasons (spec/matching.md §9)', () => {
  it('every reason is a known code with parameters; the message is made from the code and parameters alone', () => {
    // A state that produces every code: a conversion (lots), a duplicate group, a late need, a fair share with a remainder, a filled gap.
    const needs = [
      need({ id: 'n-a', quantity: 520 }),
      need({ id: 'n-b', quantity: 1000 }),
      need({ id: 'n-c', quantity: 1000 }),
      need({ id: 'n-dup', quantity: 1000, hlc: { ms: 9, c: 0 } }),
      need({ id: 'n-late', quantity: 300, neededBy: '2020-01-24T13:00:00Z', region: '110101' }),
    ];
    const offers = [
      offer({
        id: 'o-box',
        unit: { name: 'box', base: 'box', size: 1 },
        quantity: 21,
        intent: { regions: ['42'], groups: ['medical_staff'], validUntil: '2020-02-01T00:00:00Z' },
      }),
      offer({ id: 'o-pc', quantity: 10 }),
      offer({ id: 'o-late', quantity: 300, region: '110101', intent: { regions: ['11'] }, availableFrom: '2020-01-25T00:00:00Z' }),
    ];
    const p = propose(state(needs, offers, { conflicts: duplicateConflict(['n-b', 'n-dup']) }), { catalogue: MASKS });
    const seen = new Set<string>();
    for (const x of p)
      for (const r of x.reasons) {
        seen.add(r.code);
        expect(REASON_CODES).toContain(r.code);
        expect(typeof r.params).toBe('object');
        expect(reasonMessage({ code: r.code, params: r.params } as never)).toBe(r.message);
        // Parameters are data, not sentences: no value is English prose.
        for (const v of Object.values(r.params)) if (typeof v === 'string') expect(v).not.toMatch(/ [a-z]+ /);
      }
    expect([...seen].sort()).toEqual([...REASON_CODES].sort());
    const late = p.find((x) => x.need === 'n-late')?.reasons.find((r) => r.code === 'arrival.late');
    expect(late?.params).toEqual({
      availableFrom: '2020-01-25T00:00:00Z',
      relation: 'same_county',
      hours: 6,
      arrival: '2020-01-25T06:00:00Z',
      neededBy: '2020-01-24T13:00:00Z',
    });
    const intent = p.find((x) => x.offer === 'o-box')?.reasons.find((r) => r.code === 'intent');
    expect(intent?.params).toMatchObject({ within: ['42'], group: 'medical_staff', validUntil: '2020-02-01T00:00:00Z' });
  });

  it('the fair share names the competing needs and the water level as numbers', () => {
    const needs = [need({ id: 'n-1', quantity: 1000 }), need({ id: 'n-2', quantity: 3000 })];
    const [first] = propose(state(needs, [offer({ id: 'o', quantity: 1000 })]));
    expect(first?.reasons.find((r) => r.code === 'quantity.fair_share')?.params).toEqual({ round: 2, competing: 2, level: 0.25, before: 0, after: 0.25 });
  });
});

import { propose, RELIEF_CATALOGUE, substituteHints, violations } from '@shuniu/match';
import { catalogueItem, RELIEF_ITEMS } from '@shuniu/protocol';
import { describe, expect, it } from 'vitest';
import { need, offer, state } from './fixtures.js';

describe('the relief-item catalogue in the matching engine (spec/catalogue.md §5)', () => {
  it('RELIEF_CATALOGUE is spec/catalogue.json in the engine shape: every item, its base, packs and substitutes', () => {
    expect(RELIEF_CATALOGUE.items.map((i) => i.code)).toEqual(RELIEF_ITEMS.map((i) => i.code));
    expect(RELIEF_CATALOGUE.items.find((i) => i.code === 'PPE.MASK.SURGICAL')).toEqual({
      code: 'PPE.MASK.SURGICAL',
      base: 'piece',
      units: catalogueItem('PPE.MASK.SURGICAL')?.packs,
      substitutes: ['PPE.MASK.N95'],
    });
  });

  it('converts packs through it: 20 boxes of surgical masks serve a need of 520 pieces with 500 (10 boxes)', () => {
    const o = offer({ id: 'o', unit: { name: 'box', base: 'box', size: 1 }, quantity: 20 });
    const n = need({ id: 'n', quantity: 520 });
    expect(propose(state([n], [o]))).toEqual([]);
    const p = propose(state([n], [o]), { catalogue: RELIEF_CATALOGUE });
    expect(p).toMatchObject([{ quantity: 500, offerQuantity: 10, unit: 'piece', offerUnit: 'box' }]);
    expect(violations(state([n], [o]), p, { catalogue: RELIEF_CATALOGUE })).toEqual([]);
    // Rice by the 25 kg bag against a need in kg.
    const rice = { code: 'FOOD.RICE', name: '大米' };
    const bags = offer({ id: 'o-rice', item: rice, unit: { name: 'bag', base: 'bag', size: 1 }, quantity: 40 });
    const kg = need({ id: 'n-rice', item: rice, unit: { name: 'kg', base: 'kg', size: 1 }, quantity: 600, purpose: undefined });
    expect(propose(state([kg], [bags]), { catalogue: RELIEF_CATALOGUE })).toMatchObject([{ quantity: 600, offerQuantity: 24 }]);
  });

  it('never proposes a substitute; hints at N95 offers for a surgical-mask need still short, within donor intent', () => {
    const n95 = { code: 'PPE.MASK.N95', name: 'N95' };
    const needs = [
      need({ id: 'n-surgical', quantity: 1000 }),
      need({ id: 'n-n95', item: n95, quantity: 100 }),
      need({ id: 'n-huanggang', quantity: 500, region: '421102' }),
    ];
    const offers = [
      offer({ id: 'o-surgical', quantity: 300 }),
      offer({ id: 'o-n95', item: n95, quantity: 400 }),
      offer({ id: 'o-n95-wuhan-only', item: n95, quantity: 50, intent: { regions: ['4201'] } }),
    ];
    const s = state(needs, offers);
    const p = propose(s, { catalogue: RELIEF_CATALOGUE });
    for (const x of p) expect(s.offers[x.offer]?.item.code).toBe(s.needs[x.need]?.item.code);
    const fromN95 = p.filter((x) => x.offer === 'o-n95').reduce((a, x) => a + x.offerQuantity, 0);
    const toSurgical = p.filter((x) => x.need === 'n-surgical').reduce((a, x) => a + x.quantity, 0);
    const toHuanggang = p.filter((x) => x.need === 'n-huanggang').reduce((a, x) => a + x.quantity, 0);
    const hints = substituteHints(s, p);
    expect(hints.map((h) => [h.need, h.offer])).toEqual([
      ['n-huanggang', 'o-n95'],
      ['n-surgical', 'o-n95'],
      ['n-surgical', 'o-n95-wuhan-only'],
    ]);
    expect(hints[0]).toMatchObject({ item: 'PPE.MASK.SURGICAL', offerItem: 'PPE.MASK.N95', gap: 500 - toHuanggang, available: 400 - fromN95 });
    expect(hints[1]).toMatchObject({ gap: 1000 - toSurgical, unit: 'piece', offerUnit: 'piece' });
    // One direction only: an N95 need is never hinted surgical masks.
    expect(hints.some((h) => h.need === 'n-n95')).toBe(false);
    // Without substitutes in the catalogue, no hints.
    expect(substituteHints(s, p, { items: [{ code: 'PPE.MASK.SURGICAL', base: 'piece' }] })).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE_CLASSES, catalogueDocument, catalogueItem, item, itemWarnings, RELIEF_ITEMS, substitutesFor, UNIT_NAMES, unitLabel } from '../src/index.js';
import { specDir } from './helpers.js';

describe('the relief-item catalogue (spec/catalogue.md)', () => {
  it('spec/catalogue.json is exactly what catalogue.ts generates (run `pnpm catalogue` after a change)', () => {
    const file = JSON.parse(readFileSync(join(specDir, 'catalogue.json'), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(catalogueDocument())));
  });

  it('lists 40 to 80 items with valid, unique codes, a known class, both names and whole pack sizes', () => {
    expect(RELIEF_ITEMS.length).toBeGreaterThanOrEqual(40);
    expect(RELIEF_ITEMS.length).toBeLessThanOrEqual(80);
    expect(new Set(RELIEF_ITEMS.map((i) => i.code)).size).toBe(RELIEF_ITEMS.length);
    for (const it of RELIEF_ITEMS) {
      expect(item.safeParse({ code: it.code, name: it.name.zh }).success, it.code).toBe(true);
      expect(Object.keys(CATALOGUE_CLASSES)).toContain(it.class);
      expect(it.name.zh.length * it.name.en.length * it.base.length, it.code).toBeGreaterThan(0);
      for (const [unit, size] of Object.entries(it.packs)) {
        expect(Number.isSafeInteger(size) && size > 1, `${it.code} ${unit}`).toBe(true);
        expect(unit).not.toBe(it.base);
      }
    }
  });

  it('names substitutes that exist and are never the item itself', () => {
    for (const it of RELIEF_ITEMS)
      for (const s of it.substitutes) {
        expect(catalogueItem(s), `${it.code} → ${s}`).toBeDefined();
        expect(s).not.toBe(it.code);
      }
    // A surgical-mask need may take medical protective (N95) masks, never the other way round.
    expect(substitutesFor('PPE.MASK.SURGICAL').map((i) => i.code)).toEqual(['PPE.MASK.N95']);
    expect(substitutesFor('PPE.MASK.N95')).toEqual([]);
    expect(substitutesFor('NOT.IN.CATALOGUE')).toEqual([]);
  });

  it('tells the grades of mask and gown apart: 医用外科口罩 is SURGICAL, 防护服 is the coverall, not the gown', () => {
    const byZh = (zh: string) => RELIEF_ITEMS.filter((i) => i.name.zh.startsWith(zh)).map((i) => i.code);
    expect(byZh('医用外科口罩')).toEqual(['PPE.MASK.SURGICAL']);
    expect(catalogueItem('PPE.MASK.MEDICAL')?.name.zh).toContain('一次性使用医用口罩');
    expect(catalogueItem('PPE.COVERALL')?.name.zh).toContain('防护服');
    expect(catalogueItem('PPE.GOWN')?.name.zh).not.toContain('防护服');
    for (const code of ['PPE.MASK.N95', 'PPE.MASK.KN95', 'PPE.MASK.SURGICAL', 'PPE.MASK.MEDICAL', 'PPE.GLOVE', 'PPE.GOGGLES', 'PPE.FACESHIELD'])
      expect(catalogueItem(code)?.class).toBe('protective');
    for (const code of ['MED.VENTILATOR', 'MED.OXYGEN.CONCENTRATOR', 'SHELTER.TENT', 'SHELTER.QUILT', 'WATER.BOTTLED', 'FOOD.NOODLES', 'FOOD.RICE'])
      expect(catalogueItem(code), code).toBeDefined();
  });

  it('flags an unknown item code and a base unit other than the catalogue one, and nothing for a catalogue item', () => {
    expect(itemWarnings({ item: { code: 'PPE.MASK.SURGICAL', name: '口罩' }, unit: { name: 'box', base: 'piece', size: 50 } })).toEqual([]);
    expect(itemWarnings({ item: { code: 'PPE.MASK.FANCY', name: '口罩' }, unit: { name: 'box', base: 'piece', size: 50 } })).toEqual([
      { code: 'unknown_item', path: ['item', 'code'], message: expect.stringContaining('PPE.MASK.FANCY') },
    ]);
    expect(itemWarnings({ item: { code: 'PPE.MASK.SURGICAL', name: '口罩' }, unit: { name: 'box', base: 'box', size: 1 } })).toMatchObject([
      { code: 'unit_not_catalogue_base', path: ['unit', 'base'] },
    ]);
    const shipment = {
      lines: [
        { item: { code: 'FOOD.RICE', name: '大米' }, unit: { name: 'bag', base: 'kg', size: 25 }, quantity: 100 },
        { item: { code: 'FOOD.RAMEN', name: '拉面' }, unit: { name: 'pack', base: 'pack', size: 1 }, quantity: 1 },
      ],
    };
    expect(itemWarnings(shipment)).toMatchObject([{ code: 'unknown_item', path: ['lines', 1, 'item', 'code'] }]);
  });

  it('names every base and pack unit of the catalogue in Chinese and English (a console shows 升, not litre)', () => {
    const used = new Set(RELIEF_ITEMS.flatMap((i) => [i.base, ...Object.keys(i.packs)]));
    for (const u of used) {
      expect(UNIT_NAMES[u]?.zh, u).toMatch(/\p{Script=Han}/u);
      expect(UNIT_NAMES[u]?.en, u).toBeTruthy();
    }
    expect(unitLabel('litre', 'zh')).toBe('升');
    expect(unitLabel('piece', 'zh')).toBe('个');
    // A unit outside the catalogue (an operator typed 箱) shows as written.
    expect(unitLabel('箱', 'en')).toBe('箱');
  });
});

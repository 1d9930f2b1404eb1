import { RELIEF_ITEMS } from '@shuniu/protocol';
import { describe, expect, it } from 'vitest';
import { itemLabel, itemSuggestions, withItemCode } from '../src/lib/items.js';

describe('item suggestions and labels from the relief-item catalogue (spec/catalogue.md)', () => {
  it('suggests every catalogue item and nothing else, labelled in the operator’s language', () => {
    const zh = itemSuggestions('zh');
    expect(zh.map(([c]) => c)).toEqual(RELIEF_ITEMS.map((i) => i.code));
    expect(Object.fromEntries(zh)['PPE.MASK.SURGICAL']).toMatch(/^医用外科口罩/);
    expect(Object.fromEntries(itemSuggestions('en'))['PPE.MASK.SURGICAL']).toMatch(/^Mask, medical, surgical/);
  });

  it('labels the isolation gown and the coverall apart (PPE.GOWN was shown as 防护服)', () => {
    expect(itemLabel('PPE.GOWN', 'zh')).not.toContain('防护服');
    expect(itemLabel('PPE.GOWN', 'zh')).toContain('隔离衣');
    expect(itemLabel('PPE.COVERALL', 'zh')).toContain('防护服');
    expect(itemLabel('PPE.MASK.FANCY', 'zh')).toBeUndefined();
  });

  it('fills the blank name and the catalogue base unit once a catalogue code is entered; leaves an unknown code alone', () => {
    const form = { 'item.code': '', 'item.name': '', 'unit.name': '个', 'unit.base': '个', 'unit.size': '1', quantity: '' };
    expect(withItemCode(form, 'FOOD.RICE', 'zh')).toMatchObject({
      'item.code': 'FOOD.RICE',
      'item.name': '大米',
      'unit.name': 'kg',
      'unit.base': 'kg',
      'unit.size': '1',
    });
    const boxes = { ...form, 'item.name': '外科口罩', 'unit.name': '箱', 'unit.size': '50' };
    expect(withItemCode(boxes, 'PPE.MASK.SURGICAL', 'zh')).toMatchObject({
      'item.name': '外科口罩',
      'unit.name': '箱',
      'unit.base': 'piece',
      'unit.size': '50',
    });
    expect(withItemCode(form, 'PPE.MASK.FANCY', 'zh')).toEqual({ ...form, 'item.code': 'PPE.MASK.FANCY' });
  });
});

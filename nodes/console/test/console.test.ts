import { needPostedBody, offerPostedBody } from '@shuniu/protocol';
import { describe, expect, it } from 'vitest';
import { en, translate, zh } from '../src/i18n.js';
import { toCsv } from '../src/lib/reports.js';
import { byField, check, issueText, numberOf, prune } from '../src/lib/validate.js';

describe('i18n', () => {
  // The type checker already makes en hold exactly zh's keys; what it cannot see is a text that
  // loses or misspells a placeholder, or is left empty.
  it('every English text has the placeholders of its Chinese text, and none is empty', () => {
    const holes = (t: string) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(en[key].trim(), key).not.toBe('');
      expect(zh[key].trim(), key).not.toBe('');
      expect(holes(en[key]), key).toEqual(holes(zh[key]));
    }
  });
  it('fills placeholders and shows an unknown enum value as itself', () => {
    expect(translate('zh', 'common.count', { n: 3 })).toBe('共 3 条');
    expect(translate('en', 'urgency.someday')).toBe('someday');
  });
});

describe('form validation with the protocol schemas', () => {
  it('reports what the node would: a blank quantity and a bad item code, by field', () => {
    const body = prune({
      item: { code: 'masks', name: '口罩' },
      quantity: numberOf(''),
      unit: { name: '箱', base: '个', size: 50 },
      urgency: 'critical',
      neededBy: '2020-01-30T00:00:00Z',
      region: '420902',
      beneficiaries: { group: 'medical_staff', count: 300 },
      requester: { name: '孝南区人民医院', kind: 'hospital' },
      note: '',
    });
    const issues = check(needPostedBody, body);
    const fields = byField(issues);
    expect(Object.keys(fields).sort()).toEqual(['item.code', 'quantity']);
    expect(fields['item.code']?.[0]?.message).toBe('expected a dotted catalogue code such as PPE.MASK.N95');
    expect(issueText(fields.quantity?.[0] as never, 'zh')).toContain('缺少或类型不对');
  });
  it('keeps an empty donor intent (required) and drops blank optional members', () => {
    const body = {
      ...prune({
        kind: 'goods',
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 2200,
        unit: { name: '箱', base: '个', size: 50 },
        valueFen: 11_000_000,
        donor: { name: '壹基金', kind: 'foundation' },
        region: '420902',
        campaign: '',
      }),
      intent: {},
    };
    expect(check(offerPostedBody, body)).toEqual([]);
  });
  it('strips the `body` prefix the node puts on issue paths', () => {
    expect(Object.keys(byField([{ code: 'too_small', path: ['body', 'quantity'], message: 'x' }]))).toEqual(['quantity']);
  });
});

describe('reports', () => {
  it('writes CSV with a BOM, quoting, and formula-looking cells neutralised', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['=SUM(A1)', 'x,"y"'],
          ['湖北', 3],
        ],
      ),
    ).toBe('\uFEFFa,b\r\n\'=SUM(A1),"x,""y"""\r\n湖北,3\r\n');
  });
});

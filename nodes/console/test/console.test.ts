import { needPostedBody, offerPostedBody } from '@shuniu/protocol';
import type { NeedState, OfferState } from '@shuniu/resolve';
import { describe, expect, it } from 'vitest';
import { en, translate, zh } from '../src/i18n.js';
import { buildReport, type DeliveryRecord, toCsv } from '../src/lib/reports.js';
import { byField, check, issueText, numberOf, prune } from '../src/lib/validate.js';

describe('i18n', () => {
  it('has every Chinese key in English and no extra one', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
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

const hlc = (iso: string) => ({ ms: Date.parse(iso), c: 0 });
const offer = (o: Partial<OfferState>): OfferState =>
  ({
    id: 'o',
    hub: 'H1',
    hlc: hlc('2020-01-24T08:00:00Z'),
    kind: 'goods',
    item: { code: 'PPE.MASK.SURGICAL', name: '口罩' },
    unit: { name: '个', base: '个', size: 1 },
    quantity: 1,
    valueFen: 0,
    donor: { name: 'd', kind: 'foundation' },
    intent: {},
    region: '420902',
    status: 'available',
    allocated: 0,
    available: 1,
    allocations: [],
    updates: [],
    ...o,
  }) as OfferState;

describe('reports', () => {
  it('sums money, goods, units and people by campaign and hub, ignoring withdrawn offers', () => {
    const offers = [
      offer({ id: 'a', kind: 'funds', valueFen: 2_721_000_000, campaign: '联劝 2022', hlc: hlc('2022-04-01T00:00:00Z') }),
      offer({ id: 'b', valueFen: 3_088_000_000, campaign: '联劝 2022', hub: 'H2', hlc: hlc('2022-04-03T00:00:00Z') }),
      offer({ id: 'c', valueFen: 999, status: 'withdrawn', withdrawn: 'w', campaign: '联劝 2022' }),
    ];
    const needs = [{ id: 'n1', campaign: '联劝 2022' } as NeedState];
    const d = (recipient: string, people: number, day: string): DeliveryRecord => ({
      hub: 'H3',
      body: { need: 'n1', recipient: { name: recipient, kind: 'community' }, peopleServed: people, delivered: `${day}T10:00:00Z` },
    });
    const r = buildReport(offers, needs, [d('社区甲', 100, '2022-04-05'), d('社区乙', 50, '2022-04-06'), d('社区甲', 25, '2022-04-06')]);
    expect(r.byCampaign).toEqual([{ key: '联劝 2022', moneyFen: 2_721_000_000, goodsFen: 3_088_000_000, units: 2, people: 175 }]);
    expect(r.byHub.find((x) => x.key === 'H3')).toEqual({ key: 'H3', moneyFen: 0, goodsFen: 0, units: 2, people: 175 });
    expect(r.series.map((p) => [p.day, p.moneyFen, p.units, p.people])).toEqual([
      ['2022-04-01', 2_721_000_000, 0, 0],
      ['2022-04-03', 2_721_000_000, 0, 0],
      ['2022-04-05', 2_721_000_000, 1, 100],
      ['2022-04-06', 2_721_000_000, 2, 175],
    ]);
  });
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

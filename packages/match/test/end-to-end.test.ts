import { allocationBody, propose } from '@shuniu/match';
import { Author, assumeVerified, type BodyOf, createHub, type RecordType, ready, recordId, sha256, utf8, type Verified } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { beforeAll, describe, expect, it } from 'vitest';

const T0 = Date.UTC(2020, 0, 24, 8);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Real hubs, real Ed25519 signatures, a shared wall clock advancing one minute per record. */
function world() {
  let t = T0;
  const wall = () => (t += 60_000);
  const records: Verified[] = [];
  const hub = (label: string) => {
    const s = (k: string) => sha256(utf8(`shuniu-match:${label}/${k}`));
    const h = createHub({ seeds: { signing: s('signing'), encryption: s('encryption'), recovery: s('recovery') }, created: iso(T0), hlc: { ms: T0, c: 0 } });
    records.push(assumeVerified(h.inception, recordId(h.inception)));
    const author = Author.fromNewHub(h, wall);
    return {
      id: h.id,
      sign<T extends RecordType>(type: T, body: BodyOf<T>): string {
        const { record, id } = author.sign(type, body);
        records.push(assumeVerified(record, id));
        return id;
      },
    };
  };
  return { hub, records };
}

const MASK = { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' };
const PIECE = { name: 'piece', base: 'piece', size: 1 };

function hospitalNeed(region: string, name: string, quantity: number, urgency: BodyOf<'need.posted'>['urgency'] = 'critical'): BodyOf<'need.posted'> {
  return {
    item: MASK,
    quantity,
    unit: PIECE,
    urgency,
    neededBy: iso(T0 + 6 * 86_400_000),
    region,
    beneficiaries: { group: 'medical_staff', count: 500 },
    requester: { name, kind: 'hospital', region },
    purpose: 'medical_protection',
  };
}

describe('end to end: signed records → resolver → proposals → signed allocations', () => {
  beforeAll(async () => {
    await ready();
  });

  it('spreads the 24 January masks over four prefectures and signs allocations the resolver accepts in full', () => {
    const w = world();
    const province = w.hub('hubei');
    const cities = { wuhan: w.hub('wuhan'), huanggang: w.hub('huanggang'), xiaogan: w.hub('xiaogan'), xiangyang: w.hub('xiangyang') };
    province.sign('hub.admitted', { child: cities.wuhan.id, level: 'city', region: '420100' });
    province.sign('hub.admitted', { child: cities.huanggang.id, level: 'city', region: '421100' });
    province.sign('hub.admitted', { child: cities.xiaogan.id, level: 'city', region: '420900' });
    province.sign('hub.admitted', { child: cities.xiangyang.id, level: 'city', region: '420600' });
    const offerId = province.sign('offer.posted', {
      kind: 'goods',
      item: MASK,
      quantity: 2200,
      unit: { name: 'box', base: 'piece', size: 50 },
      valueFen: 22_000_000,
      donor: { name: '湖北枢纽采购', kind: 'foundation' },
      intent: { regions: ['4201', '4211', '4209', '4206'], groups: ['medical_staff'] },
      region: '420902',
    });
    const needs = [
      cities.wuhan.sign('need.posted', hospitalNeed('420112', '武汉市金银潭医院', 80_000)),
      cities.wuhan.sign('need.posted', hospitalNeed('420103', '华中科技大学同济医学院附属协和医院', 60_000)),
      cities.huanggang.sign('need.posted', hospitalNeed('421102', '黄冈市中心医院', 40_000)),
      cities.xiaogan.sign('need.posted', hospitalNeed('420902', '孝感市中心医院', 30_000)),
      cities.xiangyang.sign('need.posted', hospitalNeed('420606', '襄阳市中心医院', 20_000)),
      cities.xiangyang.sign('need.posted', hospitalNeed('420606', '襄阳市第一人民医院', 10_000, 'normal')),
    ];

    const r = new Resolver({ roots: [province.id] });
    for (const v of w.records) r.apply(v);
    const proposals = propose(r.state());
    // 110,000 masks over 230,000 pieces of critical demand: every critical hospital covered to the same 47.8 %.
    expect(proposals.reduce((a, p) => a + p.quantity, 0)).toBe(110_000);
    expect(proposals.map((p) => p.need).sort()).toEqual(needs.slice(0, 5).sort());
    for (const p of proposals) expect(Math.abs(p.coverage.after - 110_000 / 230_000)).toBeLessThan(1e-4);

    for (const p of proposals) province.sign('allocation', allocationBody(p));
    const r2 = new Resolver({ roots: [province.id] });
    for (const v of w.records) r2.apply(v);
    const s = r2.state();
    expect(s.offers[offerId]?.available).toBe(0);
    for (const p of proposals) expect(s.needs[p.need]?.allocated).toBe(p.quantity);
    expect(Object.values(s.conflicts).filter((c) => c.rule === 'over_allocation')).toEqual([]);
    expect(propose(s)).toEqual([]);
  });

  it('matches a need posted twice by two hubs once', () => {
    const w = world();
    const province = w.hub('hubei');
    const city = w.hub('xiaogan');
    province.sign('hub.admitted', { child: city.id, level: 'city', region: '420900' });
    province.sign('offer.posted', {
      kind: 'goods',
      item: MASK,
      quantity: 50_000,
      unit: PIECE,
      valueFen: 0,
      donor: { name: '壹基金', kind: 'foundation' },
      intent: {},
      region: '420902',
    });
    const a = province.sign('need.posted', hospitalNeed('420902', '孝感市中心医院', 20_000));
    const b = city.sign('need.posted', hospitalNeed('420902', '孝感市中心医院', 20_000));
    const r = new Resolver({ roots: [province.id] });
    for (const v of w.records) r.apply(v);
    const s = r.state();
    expect(Object.values(s.conflicts).some((c) => c.rule === 'duplicate_need')).toBe(true);
    const proposals = propose(s);
    expect(proposals).toHaveLength(1);
    expect(proposals[0]?.quantity).toBe(20_000);
    expect([a, b]).toContain(proposals[0]?.need);
  });
});

import { assumeVerified, type RecordOf, ready } from '@shuniu/protocol';
import { type NeedState, type OfferState, type ResolvedState, Resolver } from '@shuniu/resolve';
import { beforeAll, describe, expect, it } from 'vitest';
import { DAY, iso, T0, World } from '../../../spec/tools/resolution/world.js';
import { buildReport, MAX_DAYS } from '../src/lib/reports.js';

/**
 * The donor report (spec/resolution.md §10) against the resolver: real signed
 * records of a small Xiaogan world go through the resolver, and the report of
 * its state must give the resolver's figures, people counted once per
 * beneficiary group however many deliveries, corrections and forked records
 * there are.
 */

beforeAll(ready);

const GOWN = { code: 'PPE.GOWN.ISOLATION', name: '隔离衣' };
const GOWN_UNIT = { name: '件', base: '件', size: 1 };

function world() {
  const w = new World();
  const hubei = w.hub('hubei');
  const xiaogan = w.hub('xiaogan');
  const xiaonan = w.hub('xiaonan');
  const found = w.hub('one-foundation');
  w.profile(hubei, 'province', '420000', '湖北枢纽');
  w.admit(hubei, xiaogan, 'city', '420900');
  w.admit(hubei, found, 'org', '420000');
  w.admit(xiaogan, xiaonan, 'county', '420902');
  const campaign = '2020 新冠应急';
  const hospital = { name: '孝南区人民医院', kind: 'hospital' as const };
  // One hospital of 1,000 staff asks for masks and gowns (two needs, one beneficiary group); another of 400 gets nothing yet.
  const masks = w.need(xiaonan, { requester: hospital, beneficiaries: { group: 'medical_staff', count: 1000 }, campaign });
  const gowns = w.need(xiaonan, {
    item: GOWN,
    unit: GOWN_UNIT,
    quantity: 500,
    requester: hospital,
    beneficiaries: { group: 'medical_staff', count: 800 },
    campaign,
  });
  const waiting = w.need(xiaonan, {
    requester: { name: '孝南区中医院', kind: 'hospital' as const },
    beneficiaries: { group: 'medical_staff', count: 400 },
    campaign,
  });
  const maskOffer = w.offer(found, { valueFen: 55_000_000, campaign });
  const gownOffer = w.offer(found, { item: GOWN, unit: GOWN_UNIT, quantity: 1000, valueFen: 8_000_000, campaign });
  const withdrawn = w.offer(found, { valueFen: 99_000_000, campaign });
  w.sign(found, 'offer.withdrawn', { offer: withdrawn });
  w.offer(hubei, {
    kind: 'funds',
    item: { code: 'FUNDS.CNY', name: '善款' },
    quantity: 500_000,
    unit: { name: '元', base: '元', size: 1 },
    valueFen: 50_000_000,
    campaign,
  });
  const a1 = w.allocate(found, maskOffer, masks, 5000);
  const a2 = w.allocate(found, gownOffer, gowns, 500);
  const h1 = w.handoff(found, xiaonan, [a1], 100);
  w.receipt(xiaonan, h1, 100);
  const h2 = w.handoff(found, xiaonan, [a2], 500, { lines: [{ item: GOWN, quantity: 500, unit: GOWN_UNIT }] });
  w.receipt(xiaonan, h2, 500);
  // Four deliveries of masks to the one hospital, each saying 1,000 people served (as the old form pre-filled), one of them corrected.
  const at = (days: number) => iso(T0 + days * DAY);
  const d1 = w.delivered(xiaonan, masks, [h1], 10, { peopleServed: 1000, delivered: at(2) });
  const d2 = w.delivered(xiaonan, masks, [h1], 20, { peopleServed: 1000, delivered: at(3) });
  const wrong = w.delivered(xiaonan, masks, [h1], 40, { peopleServed: 1000, delivered: at(1) });
  const fixed = w.delivered(xiaonan, masks, [h1], 4, { peopleServed: 1000, delivered: at(4), corrects: wrong });
  // Xiaonan's key is stolen: the thief records a delivery of 60 more boxes to 9,999 people; the owner recovers
  // (hub.keys.rotated with the recovery key, branching off before it), so the thief's branch never counts.
  const head = { ...xiaonan.author.head };
  const forkedDelivery = w.delivered(w.thief(xiaonan), masks, [h1], 60, { peopleServed: 9999, delivered: at(2) });
  w.recover(xiaonan, head);
  const g1 = w.delivered(xiaonan, gowns, [h2], 300, {
    lines: [{ item: GOWN, quantity: 300, unit: GOWN_UNIT }],
    peopleServed: 800,
    delivered: at(4),
  });
  const r = new Resolver({ roots: [hubei.id] });
  for (const e of w.records) r.apply(assumeVerified(e.record, e.id));
  const state = r.state();
  const deliveredAt = new Map(
    w.records.filter((e) => e.record.type === 'custody.delivered').map((e) => [e.id, (e.record as RecordOf<'custody.delivered'>).body.delivered]),
  );
  return {
    w,
    state,
    deliveredAt,
    ids: { masks, gowns, waiting, maskOffer, gownOffer, withdrawn, d1, d2, wrong, fixed, g1, forkedDelivery },
    hubs: { hubei, xiaonan, found },
  };
}

const report = (state: ResolvedState, deliveredAt?: Map<string, string>) =>
  buildReport({
    needs: Object.values(state.needs),
    offers: Object.values(state.offers),
    allocations: Object.values(state.allocations),
    ...(deliveredAt ? { deliveredAt } : {}),
  });

describe('reports from the resolved state (spec/resolution.md §10)', () => {
  it('count the hospital’s 1,000 people once over four deliveries, two needs, a correction and a forked record', () => {
    const { state, deliveredAt, ids, hubs } = world();
    // What the resolver says.
    const masks = state.needs[ids.masks] as NeedState;
    const gowns = state.needs[ids.gowns] as NeedState;
    expect(masks.deliveries).toEqual([ids.d1, ids.d2, ids.fixed].sort());
    expect(masks.delivered).toBe((10 + 20 + 4) * 50);
    expect(gowns.deliveries).toEqual([ids.g1]);
    expect(gowns.delivered).toBe(300);
    expect(state.needs[ids.waiting]?.delivered).toBe(0);
    expect(state.hubs[hubs.xiaonan.id]?.status).toBe('active');
    expect(state.hubs[hubs.xiaonan.id]?.forks).toHaveLength(1);
    expect(state.hubs[hubs.xiaonan.id]?.forks[0]?.ids).toContain(ids.forkedDelivery);
    expect(state.offers[ids.withdrawn]?.status).toBe('withdrawn');
    // The raw records say otherwise: 1,000 × 4 + 9,999 + 800 people in six deliveries.
    expect(deliveredAt.size).toBe(6);

    const r = report(state, deliveredAt);
    const reached = Object.values(state.needs).filter((n) => n.delivered > 0);
    const offers = Object.values(state.offers).filter((o) => o.status !== 'withdrawn');
    expect(r.totals).toEqual({
      moneyFen: offers.filter((o) => o.kind === 'funds').reduce((s, o) => s + o.valueFen, 0),
      goodsFen: offers.filter((o) => o.kind !== 'funds').reduce((s, o) => s + o.valueFen, 0),
      offers: offers.length,
      needsReached: reached.length,
      deliveries: reached.reduce((s, n) => s + n.deliveries.length, 0),
      units: 1,
      people: 1000,
    });
    expect(r.totals).toMatchObject({ moneyFen: 50_000_000, goodsFen: 63_000_000, offers: 3, needsReached: 2, deliveries: 4 });
    expect(r.byItem).toEqual([
      { code: 'PPE.GOWN.ISOLATION', name: '隔离衣', base: '件', delivered: gowns.delivered, needsReached: 1 },
      { code: 'PPE.MASK.N95', name: 'N95 口罩', base: 'piece', delivered: masks.delivered, needsReached: 1 },
    ]);
    // Rows: the county's own needs; the foundation's offers and the needs they serve; the province's money.
    const hub = (id: string) => r.byHub.find((x) => x.key === id);
    expect(hub(hubs.xiaonan.id)).toMatchObject({ people: 1000, needsReached: 2, deliveries: 4, units: 1, moneyFen: 0, goodsFen: 0 });
    expect(hub(hubs.found.id)).toMatchObject({ people: 1000, needsReached: 2, goodsFen: 63_000_000, offers: 2 });
    expect(hub(hubs.hubei.id)).toMatchObject({ people: 0, moneyFen: 50_000_000 });
    expect(r.byCampaign).toEqual([{ key: '2020 新冠应急', ...r.totals }]);
  });

  it('draw daily amounts over every day from the first to the last, zero-filled, summing to the totals', () => {
    const { state, deliveredAt } = world();
    const r = report(state, deliveredAt);
    // Offers on day 0; the superseded delivery of day 1 does not count, so the hospital is first reached on day 2.
    expect(r.series.map((p) => [p.day, p.moneyFen, p.goodsFen, p.units, p.people])).toEqual([
      ['2020-01-24', 50_000_000, 63_000_000, 0, 0],
      ['2020-01-25', 0, 0, 0, 0],
      ['2020-01-26', 0, 0, 1, 1000],
      ['2020-01-27', 0, 0, 0, 0],
      ['2020-01-28', 0, 0, 0, 0],
    ]);
    for (const f of ['moneyFen', 'goodsFen', 'units', 'people'] as const) expect(r.series.reduce((s, p) => s + p[f], 0)).toBe(r.totals[f]);
    // Without the delivery dates (feed not read), figures are the same and the reach counts on the last day.
    const undated = report(state);
    expect(undated.totals).toEqual(r.totals);
    expect(undated.series).toEqual([{ day: '2020-01-24', moneyFen: 50_000_000, goodsFen: 63_000_000, units: 1, people: 1000 }]);
  });

  it('is one point when everything happened on one day, and by month past MAX_DAYS', () => {
    const offer = (id: string, ms: number) => ({ id, hub: 'H', hlc: { ms, c: 0 }, kind: 'funds', valueFen: 100, status: 'available' }) as unknown as OfferState;
    expect(buildReport({ needs: [], offers: [offer('a', T0), offer('b', T0 + 3_600_000)] }).series).toEqual([
      { day: '2020-01-24', moneyFen: 200, goodsFen: 0, units: 0, people: 0 },
    ]);
    const long = buildReport({ needs: [], offers: [offer('a', T0), offer('b', T0 + (MAX_DAYS + 10) * DAY)] }).series;
    expect(long[0]).toEqual({ day: '2020-01', moneyFen: 100, goodsFen: 0, units: 0, people: 0 });
    expect(long.at(-1)?.day).toBe('2021-03');
    expect(long).toHaveLength(15);
    expect(buildReport({ needs: [], offers: [] }).series).toEqual([]);
  });
});

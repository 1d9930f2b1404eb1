import { assumeVerified, ready } from '@shuniu/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { World } from '../../../spec/tools/resolution/world.js';
import { admissionInScope, admittedHubs, Resolver, regionScope } from '../src/index.js';

beforeAll(ready);

function resolve(w: World, roots: string[]): Resolver {
  const r = new Resolver({ roots });
  for (const e of w.records) r.apply(assumeVerified(e.record, e.id));
  return r;
}

describe('admittedHubs: the one definition of admitted (spec/resolution.md §1)', () => {
  const edges = [
    { by: 'P', child: 'C', record: 'a1' },
    { by: 'C', child: 'D', record: 'a2' },
    { by: 'D', child: 'E', record: 'a3' },
    { by: 'P', child: 'F', record: 'a4' },
    { by: 'F', child: 'E', record: 'a5' },
    { by: 'X', child: 'Y', record: 'a6' },
  ];
  it('is reachability from the roots over edges of reachable admitters', () => {
    expect([...admittedHubs(['P'], edges)].sort()).toEqual(['C', 'D', 'E', 'F', 'P']);
    expect([...admittedHubs([], edges)]).toEqual([]);
  });
  it('cuts an excluded hub out: it is not admitted and admits nobody; hubs reachable another way stay', () => {
    expect([...admittedHubs(['P'], edges, new Set(['C']))].sort()).toEqual(['E', 'F', 'P']);
    expect([...admittedHubs(['P'], edges, new Set(['C', 'F']))].sort()).toEqual(['P']);
    expect([...admittedHubs(['P'], edges, new Set(['P']))]).toEqual([]);
  });
});

describe('admission scope', () => {
  it('drops trailing 00 pairs from the admitter region', () => {
    expect(regionScope('420000')).toBe('42');
    expect(regionScope('420900')).toBe('4209');
    expect(regionScope('420902')).toBe('420902');
    expect(regionScope('110000')).toBe('11');
  });
  it('allows a lower level inside the prefix; national cases as written', () => {
    const prov = { root: false, level: 'province' as const, region: '420000' };
    expect(admissionInScope(prov, { level: 'city', region: '420900' })).toBe(true);
    expect(admissionInScope(prov, { level: 'county', region: '430102' })).toBe(false);
    expect(admissionInScope(prov, { level: 'province', region: '420000' })).toBe(false);
    expect(admissionInScope({ root: false, level: 'org', region: '420000' }, { level: 'org', region: '420000' })).toBe(false);
    expect(admissionInScope({ root: false, level: 'org', region: '420000' }, { level: 'national', region: '110000' })).toBe(false);
    // (a) a national admitter: any lower level, anywhere.
    expect(admissionInScope({ root: false, level: 'national', region: '110000' }, { level: 'province', region: '430000' })).toBe(true);
    expect(admissionInScope({ root: false, level: 'national', region: '110000' }, { level: 'national', region: '110000' })).toBe(false);
    // (b) a national child: only a root, any region.
    expect(admissionInScope({ root: true, level: 'province', region: '420000' }, { level: 'national', region: '110000' })).toBe(true);
    // A root without a profile: no limit.
    expect(admissionInScope({ root: true }, { level: 'city', region: '430100' })).toBe(true);
  });
});

describe('Resolver admissions', () => {
  function world() {
    const w = new World();
    const hubei = w.hub('hubei');
    const xiaogan = w.hub('xiaogan');
    const xiaonan = w.hub('xiaonan');
    const org = w.hub('org');
    const beijing = w.hub('beijing');
    w.profile(hubei, 'province', '420000', '湖北枢纽');
    const a1 = w.admit(hubei, xiaogan, 'city', '420900');
    const a2 = w.admit(xiaogan, xiaonan, 'county', '420902');
    const a3 = w.admit(xiaonan, org, 'org', '420902');
    const bad = w.admit(org, beijing, 'national', '110000');
    const need = w.need(beijing, { region: '110101' });
    return { w, hubei, xiaogan, xiaonan, org, beijing, a1, a2, a3, bad, need };
  }

  it('an org admitting a national hub is no admission: its need is not counted (old main counted it)', () => {
    const { w, hubei, beijing, bad, need } = world();
    const s = resolve(w, [hubei.id]).state();
    expect(s.hubs[beijing.id]?.admitted).toBe(false);
    expect(s.needs[need]).toBeUndefined();
    expect(s.conflicts[`${bad}/admission_scope`]?.rule).toBe('admission_scope');
  });

  it('admissionEdges() lists the counting in-scope edges; admittedHubs over them is the admitted set', () => {
    const { w, hubei, xiaogan, xiaonan, org, a1, a2, a3 } = world();
    const r = resolve(w, [hubei.id]);
    const edges = r.admissionEdges();
    expect(edges).toEqual(
      [
        { by: hubei.id, child: xiaogan.id, record: a1 },
        { by: xiaogan.id, child: xiaonan.id, record: a2 },
        { by: xiaonan.id, child: org.id, record: a3 },
      ].sort((a, b) => (a.by < b.by ? -1 : a.by > b.by ? 1 : a.child < b.child ? -1 : 1)),
    );
    const admitted = Object.values(r.state().hubs)
      .filter((h) => h.admitted)
      .map((h) => h.id)
      .sort();
    expect([...admittedHubs([hubei.id], edges)].sort()).toEqual(admitted);
    // A node that blocks Xiaogan trusts neither Xiaogan nor what it alone admitted.
    expect([...admittedHubs([hubei.id], edges, new Set([xiaogan.id]))]).toEqual([hubei.id]);
    // The edges survive a snapshot.
    const back = Resolver.fromJSON(JSON.parse(JSON.stringify(r.toJSON())), { roots: [hubei.id] });
    expect(back.admissionEdges()).toEqual(edges);
  });

  it('a revocation removes the edge and suspends the child and the hubs below it; a later admission restores them (no revocation on old main)', () => {
    const { w, hubei, xiaogan, xiaonan, org } = world();
    const xn = w.need(xiaonan);
    const r = resolve(w, [hubei.id]);
    expect(r.state().needs[xn]?.status).toBe('open');
    const rev = w.sign(xiaogan, 'hub.admission.revoked', { child: xiaonan.id });
    const last = w.records[w.records.length - 1] as { id: string; record: Parameters<typeof assumeVerified>[0] };
    r.apply(assumeVerified(last.record, last.id));
    let s = r.state();
    expect(s.hubs[xiaonan.id]?.status).toBe('suspended');
    expect(s.hubs[org.id]?.status).toBe('suspended');
    expect(s.needs[xn]).toBeUndefined();
    expect(s.held[xn]).toBe(xiaonan.id);
    expect(r.admissionEdges().some((e) => e.child === xiaonan.id)).toBe(false);
    expect(r.stateHash()).toBe(resolve(w, [hubei.id]).stateHash());
    expect(rev).toBeTruthy();
    const again = w.admit(xiaogan, xiaonan, 'county', '420902');
    const e2 = w.records[w.records.length - 1] as { id: string; record: Parameters<typeof assumeVerified>[0] };
    r.apply(assumeVerified(e2.record, e2.id));
    s = r.state();
    expect(s.hubs[xiaonan.id]?.admission).toBe(again);
    expect(s.hubs[org.id]?.status).toBe('active');
    expect(s.needs[xn]?.status).toBe('open');
    expect(r.stateHash()).toBe(resolve(w, [hubei.id]).stateHash());
  });

  it("a root's scope follows its latest profile", () => {
    const w = new World();
    const root = w.hub('root');
    const city = w.hub('city');
    w.profile(root, 'county', '420902', '县');
    w.admit(root, city, 'city', '420900');
    expect(resolve(w, [root.id]).state().hubs[city.id]?.admitted).toBe(false);
    w.profile(root, 'province', '420000', '省');
    expect(resolve(w, [root.id]).state().hubs[city.id]?.admitted).toBe(true);
  });
});

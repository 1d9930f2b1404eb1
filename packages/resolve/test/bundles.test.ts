// Bundles (issue 18 point 5, spec/resolution.md §7.2): many needs funded as a whole, whose
// progress is derived from the needs' states; only the author updates a bundle; any
// permutation of the records (with duplicates) gives the same state and hash; a restored
// snapshot (which does not carry bundles) derives them again.
import { assumeVerified, digest, ready, type Verified } from '@shuniu/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { World, type WorldHub } from '../../../spec/tools/resolution/world.js';
import { type BundleState, Resolver } from '../src/index.js';

beforeAll(ready);

const verified = (w: World): Verified[] => w.records.map((e) => assumeVerified(e.record, e.id));

function cast(w: World) {
  const hubei = w.hub('hubei');
  const xiaogan = w.hub('xiaogan');
  const xiaonan = w.hub('xiaonan');
  const found = w.hub('one-foundation');
  w.profile(hubei, 'province', '420000', '湖北枢纽');
  w.admit(hubei, xiaogan, 'city', '420900');
  w.admit(hubei, found, 'org', '420000');
  w.admit(xiaogan, xiaonan, 'county', '420902');
  return { hubei, xiaogan, xiaonan, found };
}

const community = (name: string) => ({ requester: { name, kind: 'community' as const } });

function resolve(w: World, roots: string[], records = verified(w)): Resolver {
  const r = new Resolver({ roots });
  for (const v of records) r.apply(v);
  return r;
}

describe('bundles', () => {
  it('progress follows the needs: open, allocated, in transit, delivered; quantities covered over requested', () => {
    const w = new World();
    const { hubei, xiaogan, xiaonan, found } = cast(w);
    const n1 = w.need(xiaonan, community('第一社区团购群'));
    const n2 = w.need(xiaonan, community('第二社区团购群'));
    const bundle = w.sign(xiaogan, 'bundle.posted', { title: '社区团购群口罩', region: '420902', needs: [n1, n2], targetFen: 1_000_000 });
    const at = (r: Resolver) => r.entry('bundles', bundle) as BundleState;

    const r = resolve(w, [hubei.id]);
    expect(at(r).status).toBe('open');
    expect(at(r).progress).toMatchObject({ needs: 2, missing: 0, open: 2, allocated: 0, inTransit: 0, delivered: 0, closed: 0 });
    expect(at(r).progress.items).toEqual([{ code: 'PPE.MASK.N95', base: 'piece', requested: 10_000, allocated: 0, inTransit: 0, delivered: 0 }]);

    const fund = w.sign(found, 'bundle.funded', { bundle, amountFen: 1_000_000 });
    const offer = w.offer(found);
    const a1 = w.allocate(found, offer, n1, 5000);
    const step = (from: number) => {
      for (const e of w.records.slice(from)) r.apply(assumeVerified(e.record, e.id));
    };
    step(0);
    expect(at(r).status).toBe('funded');
    expect(at(r).funding).toEqual([{ hub: found.id, record: fund, amountFen: 1_000_000 }]);
    expect(at(r).progress).toMatchObject({ open: 1, allocated: 1 });
    expect(at(r).progress.items[0]).toMatchObject({ requested: 10_000, allocated: 5000 });

    let from = w.records.length;
    const h = w.handoff(found, xiaonan, [a1], 100);
    step(from);
    expect(at(r).progress).toMatchObject({ open: 1, allocated: 0, inTransit: 1 });
    expect(at(r).progress.items[0]).toMatchObject({ inTransit: 5000 });

    from = w.records.length;
    w.receipt(xiaonan, h, 100);
    w.delivered(xiaonan, n1, [h], 100);
    step(from);
    expect(at(r).progress).toMatchObject({ open: 1, inTransit: 0, delivered: 1 });
    expect(at(r).progress.items[0]).toMatchObject({ delivered: 5000, inTransit: 0 });
    // The progress is the needs' progress: the same figures from the needs themselves.
    expect(r.entry('needs', n1)?.status).toBe('fulfilled');
  });

  it('only the author updates a bundle: a stranger’s update is an unauthorised conflict and changes nothing', () => {
    const w = new World();
    const { hubei, xiaogan, xiaonan } = cast(w);
    const n1 = w.need(xiaonan, community('第一社区团购群'));
    const n2 = w.need(xiaonan, community('第二社区团购群'));
    const bundle = w.sign(xiaogan, 'bundle.posted', { title: '社区团购群口罩', region: '420902', needs: [n1] });
    const bad = w.sign(xiaonan, 'bundle.updated', { bundle, add: [n2], title: '被改了', close: 'cancelled' });
    const r = resolve(w, [hubei.id]);
    const b = r.entry('bundles', bundle) as BundleState;
    expect(b.needs).toEqual([n1]);
    expect(b.title).toBe('社区团购群口罩');
    expect(b.status).toBe('open');
    expect(b.closed).toBeUndefined();
    expect(b.updates).toEqual([]);
    expect(r.entry('conflicts', `${bad}/unauthorised`)).toMatchObject({
      rule: 'unauthorised',
      records: [bad, bundle].sort(),
      detail: { type: 'bundle.updated', author: xiaonan.id, expected: xiaogan.id },
    });
    // The author's own update applies, in seq order: add, then close.
    const ok = w.sign(xiaogan, 'bundle.updated', { bundle, add: [n2] });
    const close = w.sign(xiaogan, 'bundle.updated', { bundle, close: 'completed' });
    const r2 = resolve(w, [hubei.id]);
    const b2 = r2.entry('bundles', bundle) as BundleState;
    expect(b2.needs).toEqual([n1, n2].sort());
    expect(b2.updates).toEqual([ok, close]);
    expect(b2.status).toBe('completed');
    expect(b2.closed).toEqual({ reason: 'completed', record: close });
  });

  it('a funder’s pledge in force is its highest seq; 0 withdraws; a bundle of a hub not admitted is no bundle', () => {
    const w = new World();
    const { hubei, xiaogan, xiaonan, found } = cast(w);
    const n1 = w.need(xiaonan, community('第一社区团购群'));
    const bundle = w.sign(xiaogan, 'bundle.posted', { title: 'x', region: '420902', needs: [n1], targetFen: 100 });
    w.sign(found, 'bundle.funded', { bundle, amountFen: 100 });
    w.sign(found, 'bundle.funded', { bundle, amountFen: 0 });
    const hubeiPledge = w.sign(hubei, 'bundle.funded', { bundle, amountFen: 40 });
    const stranger = w.hub('stranger');
    const held = w.sign(stranger, 'bundle.posted', { title: 'y', region: '420902', needs: [n1] });
    const r = resolve(w, [hubei.id]);
    const b = r.entry('bundles', bundle) as BundleState;
    expect(b.funding).toEqual([{ hub: hubei.id, record: hubeiPledge, amountFen: 40 }]);
    expect(b.fundedFen).toBe(40);
    expect(b.status).toBe('partly_funded');
    expect(r.entry('bundles', held)).toBeUndefined();
    expect(r.state().held[held]).toBe(stranger.id);
  });

  it('a state without bundles has no bundles member, and its hash does not depend on bundles existing', () => {
    const w = new World();
    const { hubei, xiaonan } = cast(w);
    const n1 = w.need(xiaonan, community('第一社区团购群'));
    const before = resolve(w, [hubei.id]);
    expect('bundles' in before.state()).toBe(false);
    expect(before.collection('bundles')).toEqual({});
    // The hash of spec/resolution.md §7 over the maps of before bundles existed, computed here from its definition.
    const st = before.state();
    const root = (m: Record<string, unknown>) => {
      const buckets: Record<string, Record<string, string>> = {};
      for (const [k, v] of Object.entries(m)) {
        const b = buckets[k.slice(0, 2)] ?? {};
        b[k] = digest(v as never);
        buckets[k.slice(0, 2)] = b;
      }
      return digest(Object.fromEntries(Object.entries(buckets).map(([p, b]) => [p, digest(b)])));
    };
    const maps = ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending'] as const;
    const legacy = digest({ v: 1, clock: st.clock, ...Object.fromEntries(maps.map((k) => [k, root(st[k] as Record<string, unknown>)])) });
    expect(before.stateHash()).toBe(legacy);
    // A bundle adds `bundles` to the state and its root to the hash.
    w.sign(xiaonan, 'bundle.posted', { title: 'x', region: '420902', needs: [n1] });
    const after = resolve(w, [hubei.id]);
    const st2 = after.state();
    expect(Object.keys(st2.bundles ?? {})).toHaveLength(1);
    const withBundles = digest({
      v: 1,
      clock: st2.clock,
      ...Object.fromEntries(maps.map((k) => [k, root(st2[k] as Record<string, unknown>)])),
      bundles: root(st2.bundles as Record<string, unknown>),
    });
    expect(after.stateHash()).toBe(withBundles);
  });

  it('any permutation of the records, with duplicates, gives the same bundles and hash', () => {
    const w = new World();
    const { hubei, xiaogan, xiaonan, found } = cast(w);
    const n1 = w.need(xiaonan, community('第一社区团购群'));
    const n2 = w.need(xiaonan, community('第二社区团购群'));
    const bundle = w.sign(xiaogan, 'bundle.posted', { title: 'x', region: '420902', needs: [n1, digest({ ghost: 1 })] });
    w.sign(xiaogan, 'bundle.updated', { bundle, add: [n2] });
    w.sign(xiaonan, 'bundle.updated', { bundle, remove: [n1] });
    w.sign(xiaogan, 'bundle.updated', { bundle, remove: [n1], targetFen: 500 });
    w.sign(xiaogan, 'bundle.updated', { bundle, add: [n1] });
    w.sign(found, 'bundle.funded', { bundle, amountFen: 300 });
    const offer = w.offer(found);
    const a = w.allocate(found, offer, n2, 5000);
    const h = w.handoff(found, xiaonan, [a], 100);
    w.receipt(xiaonan, h, 100);
    w.delivered(xiaonan, n2, [h], 60);
    w.sign(found, 'bundle.funded', { bundle, amountFen: 500 });
    const all = verified(w);
    const ref = resolve(w, [hubei.id], all);
    const refState = JSON.stringify(ref.state());
    const refHash = ref.stateHash();
    const b = ref.entry('bundles', bundle) as BundleState;
    expect(b.needs).toEqual([n1, n2, digest({ ghost: 1 })].sort());
    expect(b.progress).toMatchObject({ needs: 3, missing: 1, open: 1, inTransit: 1 });
    expect(b.status).toBe('funded');
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.array(fc.nat(all.length - 1), { maxLength: 5 }),
        (perm, dups) => {
          const r = new Resolver({ roots: [hubei.id] });
          perm.forEach((v, i) => {
            r.apply(v);
            // Reads in between: a derivation at every stage must not change the end result.
            if (i % 7 === 0) r.stateHash();
          });
          for (const d of dups) r.apply(all[d] as Verified);
          expect(r.stateHash()).toBe(refHash);
          expect(JSON.stringify(r.state())).toBe(refState);
        },
      ),
      { numRuns: 60, seed: 18 },
    );
  });

  it('a snapshot does not carry bundles: restored, they are derived again and keep moving with their needs', () => {
    const w = new World();
    const { hubei, xiaogan, xiaonan, found } = cast(w);
    const n1 = w.need(xiaonan, community('第一社区团购群'));
    const bundle = w.sign(xiaogan, 'bundle.posted', { title: 'x', region: '420902', needs: [n1] });
    const bad = w.sign(found, 'bundle.updated', { bundle, remove: [n1] });
    w.sign(found, 'bundle.funded', { bundle, amountFen: 10 });
    const r = resolve(w, [hubei.id]);
    const hash = r.stateHash();
    const back = Resolver.fromJSON(JSON.parse(JSON.stringify(r.toJSON())), { roots: [hubei.id] });
    expect(back.stateHash()).toBe(hash);
    expect(back.entry('bundles', bundle)).toEqual(r.entry('bundles', bundle));
    expect(back.entry('conflicts', `${bad}/unauthorised`)).toBeDefined();
    const from = w.records.length;
    const offer = w.offer(found);
    w.allocate(found, offer, n1, 5000);
    for (const e of w.records.slice(from)) {
      back.apply(assumeVerified(e.record, e.id));
      r.apply(assumeVerified(e.record, e.id));
    }
    expect((back.entry('bundles', bundle) as BundleState).progress.allocated).toBe(1);
    expect(back.stateHash()).toBe(r.stateHash());
    // Other roots: the records are applied again, without filing the bundle's records twice.
    const other = Resolver.fromJSON(JSON.parse(JSON.stringify(r.toJSON())), { roots: [hubei.id, (w.hub('stranger') as WorldHub).id] });
    expect((other.entry('bundles', bundle) as BundleState).funding).toHaveLength(1);
  });
});

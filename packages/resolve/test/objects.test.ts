/**
 * spec/resolution.md §11 and docs/scale-memory.md step 3: finished objects
 * leave memory for an ObjectStore (Resolver.letGo) and come back when a
 * record or a derivation reads them. What must hold is that nothing shows:
 * the state and its hash are those of a resolver that keeps everything, on
 * every resolution vector, on random histories in any order, and in the late
 * records the design names (a receipt correction after the need closed, a
 * decline reopening an exhausted offer, a fork of a hub whose records are all
 * finished, a new need joining a duplicate group of finished needs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assumeVerified, parseRecord, ready, type Verified } from '@shuniu/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResolutionVector } from '../../../spec/tools/resolution/vectors.js';
import { DAY, iso, T0, World } from '../../../spec/tools/resolution/world.js';
import { finishedObjects } from '../src/finished.js';
import { MapObjectStore, type ResolvedState, Resolver } from '../src/index.js';
import { buildRecords, shuffled, stepsArb } from './model/arbitrary.js';

beforeAll(ready);

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'spec', 'vectors', 'resolution');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const MAPS = ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending'] as const;
const KINDS = ['needs', 'offers', 'allocations', 'shipments'] as const;

function loadVector(file: string): { v: ResolutionVector; verified: Verified[] } {
  const v = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ResolutionVector;
  return { v, verified: v.records.map((e) => assumeVerified(parseRecord(e.record), e.id)) };
}

function plain(roots: string[], records: Verified[]): Resolver {
  const r = new Resolver({ roots });
  for (const x of records) r.apply(x);
  return r;
}

/**
 * Objects of the state in the store: each must be finished by §11 in `state` (letting go never takes an open
 * one), but for goods under way (spec/resolution.md §11: an object that left is not brought back only because
 * a shipment without a receipt now lists one of its allocations, when nothing of its own derivation reads it).
 */
function storedObjectsFinished(store: MapObjectStore, state: ResolvedState): number {
  const fin = finishedObjects(state);
  // The rule without "no shipment under way": what an object's own records and decisions make finished.
  const needs = new Set(
    Object.values(state.needs)
      .filter((n) => n.closed !== undefined)
      .map((n) => n.id),
  );
  const offers = new Set(
    Object.values(state.offers)
      .filter((o) => o.withdrawn !== undefined || o.available === 0)
      .map((o) => o.id),
  );
  const own: Record<(typeof KINDS)[number], Set<string>> = {
    needs,
    offers,
    allocations: new Set(
      Object.values(state.allocations)
        .filter((a) => a.status === 'declined' || a.status === 'void' || (needs.has(a.need) && offers.has(a.offer)))
        .map((a) => a.id),
    ),
    shipments: fin.shipments,
  };
  let n = 0;
  for (const id of store.ids()) {
    const x = store.get(id);
    if (x?.map === undefined) continue;
    n++;
    const kind = x.map as (typeof KINDS)[number];
    expect(own[kind].has(id), `${x.map} ${id} is in the store but not finished`).toBe(true);
  }
  return n;
}

/** Applies `records`, letting go after every `every` records; checks the store holds only finished objects each time. */
function evicting(roots: string[], records: Verified[], every = 1): { r: Resolver; store: MapObjectStore } {
  const store = new MapObjectStore();
  const r = new Resolver({ roots, objects: store });
  records.forEach((x, i) => {
    r.apply(x);
    if ((i + 1) % every === 0) r.letGo();
  });
  r.letGo();
  return { r, store };
}

describe('finished objects leave memory and come back (spec/resolution.md §11)', () => {
  it('every resolution vector, letting go after every record, in order and reversed: the vector state and hash', () => {
    let out = 0;
    let back = 0;
    for (const file of files) {
      const { v, verified } = loadVector(file);
      for (const order of [verified, [...verified].reverse()]) {
        const { r, store } = evicting(v.roots, order);
        expect(r.stateHash(), file).toBe(v.stateHash);
        expect(r.state(), file).toEqual(v.state);
        for (const name of MAPS) expect(r.collection(name), `${file} ${name}`).toEqual((v.state as ResolvedState)[name]);
        for (const [id, need] of r.entries('needs')) expect(r.entry('needs', id)).toEqual(need);
        storedObjectsFinished(store, r.state());
        out += r.objectCounts().out;
        back += r.objectCounts().back;
        // A snapshot of a resolver with objects in the store holds everything: it restores the same state.
        const restored = Resolver.fromJSON(JSON.parse(JSON.stringify(r.toJSON())), { roots: v.roots });
        expect(restored.stateHash(), `${file} snapshot`).toBe(v.stateHash);
      }
    }
    // Not vacuous: objects left memory and came back.
    expect(out).toBeGreaterThan(20);
    expect(back).toBeGreaterThan(0);
  });

  it('random histories, shuffled, letting go after every k records: the same state and hash as never letting go', () => {
    let out = 0;
    let back = 0;
    fc.assert(
      fc.property(stepsArb, fc.array(fc.nat(1000), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), (steps, perm, k) => {
        const { roots, records } = buildRecords(steps);
        const order = shuffled(records, perm);
        const want = plain(roots, order);
        const { r, store } = evicting(roots, order, k);
        expect(r.stateHash()).toBe(want.stateHash());
        const st = r.state();
        expect(st).toEqual(want.state());
        storedObjectsFinished(store, st);
        // Another order of the same records, letting go every record: the same again.
        expect(evicting(roots, [...order].reverse(), 1).r.stateHash()).toBe(want.stateHash());
        out += r.objectCounts().out;
        back += r.objectCounts().back;
      }),
      { numRuns: process.env.SHUNIU_LONG ? 1000 : 120, seed: 1117 },
    );
    expect(out).toBeGreaterThan(100);
    expect(back).toBeGreaterThan(10);
  });

  it('random histories: the state hash after each letGo is the hash without letting go, record by record', () => {
    fc.assert(
      fc.property(stepsArb, fc.array(fc.nat(1000), { maxLength: 40 }), (steps, perm) => {
        const { roots, records } = buildRecords(steps);
        const order = shuffled(records, perm);
        const want = new Resolver({ roots });
        const store = new MapObjectStore();
        const r = new Resolver({ roots, objects: store });
        for (const x of order) {
          want.apply(x);
          r.apply(x);
          r.letGo();
          expect(r.stateHash()).toBe(want.stateHash());
        }
      }),
      { numRuns: 40, seed: 2217 },
    );
  });
});

/** A county, a foundation and a root; a need, an offer of 100 boxes all allocated to it and accepted, shipped and received in full, the need closed. */
function finishedStory() {
  const w = new World();
  const root = w.hub('root');
  const county = w.hub('county');
  const found = w.hub('found');
  w.admit(root, county, 'city', '420900');
  w.admit(root, found, 'org', '420000');
  const need = w.need(county, { neededBy: iso(T0 + 20 * DAY) });
  const offer = w.offer(found, { quantity: 100 });
  const alloc = w.allocate(found, offer, need, 5000);
  w.sign(county, 'allocation.accepted', { allocation: alloc });
  const handoff = w.handoff(found, county, [alloc], 100);
  const receipt = w.receipt(county, handoff, 100);
  w.sign(county, 'need.closed', { need, reason: 'fulfilled' });
  return { w, root, county, found, need, offer, alloc, handoff, receipt };
}

const verifiedOf = (w: World): Verified[] => w.records.map((e) => assumeVerified(e.record, e.id));

/**
 * Applies `before` letting go after each record, checks that `gone` left memory, then applies `late`
 * (letting go again) and compares with a resolver that never let anything go.
 */
function lateRecord(
  roots: string[],
  before: Verified[],
  late: Verified[],
  gone: { map: string; id: string }[],
  comesBack = true,
): { r: Resolver; store: MapObjectStore } {
  const { r, store } = evicting(roots, before);
  for (const g of gone) expect(store.get(g.id)?.map, `${g.map} ${g.id} left memory before the late record`).toBe(g.map);
  const backBefore = r.objectCounts().back;
  for (const x of late) {
    r.apply(x);
    r.letGo();
  }
  const want = plain(roots, [...before, ...late]);
  expect(r.stateHash()).toBe(want.stateHash());
  expect(r.state()).toEqual(want.state());
  if (comesBack) expect(r.objectCounts().back, 'the late record brought objects back').toBeGreaterThan(backBefore);
  else expect(r.objectCounts().back, 'nothing came back').toBe(backBefore);
  return { r, store };
}

/** An open-state snapshot of `r` through JSON text, restored over the same store. */
function reopen(r: Resolver, roots: string[], store: MapObjectStore): Resolver {
  return Resolver.fromJSON(JSON.parse(JSON.stringify(r.openSnapshot())), { roots, objects: store });
}

describe('restart from the open state (spec/resolution.md §11 Restart, Resolver.openSnapshot)', () => {
  it('every resolution vector: an open-state snapshot taken halfway restores the state and hash, and the rest of the records give the vector state', () => {
    let stubs = 0;
    for (const file of files) {
      const { v, verified } = loadVector(file);
      const half = Math.floor(verified.length / 2);
      const { r, store } = evicting(v.roots, verified.slice(0, half));
      const back = r.objectCounts().back;
      const snap = r.openSnapshot();
      expect(r.objectCounts().back, `${file}: taking the snapshot read nothing back`).toBe(back);
      const r2 = Resolver.fromJSON(JSON.parse(JSON.stringify(snap)), { roots: v.roots, objects: store });
      expect(r2.stateHash(), file).toBe(r.stateHash());
      expect(r2.state(), file).toEqual(r.state());
      expect(r2.size, file).toBe(r.size);
      for (const x of verified.slice(half)) {
        r2.apply(x);
        r2.letGo();
      }
      expect(r2.stateHash(), file).toBe(v.stateHash);
      expect(r2.state(), file).toEqual(v.state);
      // Again at the end, where most objects are finished.
      const r3 = reopen(r2, v.roots, store);
      expect(r3.stateHash(), file).toBe(v.stateHash);
      expect(r3.state(), file).toEqual(v.state);
      stubs += store.size;
    }
    expect(stubs, 'not vacuous: snapshots were taken with objects out of memory').toBeGreaterThan(10);
  });

  it('random histories: restarting from the open state at any point, then the rest in any order, gives the hash of never letting go', () => {
    let restored = 0;
    fc.assert(
      fc.property(stepsArb, fc.array(fc.nat(1000), { maxLength: 40 }), fc.nat(1000), fc.integer({ min: 1, max: 4 }), (steps, perm, cut, k) => {
        const { roots, records } = buildRecords(steps);
        const order = shuffled(records, perm);
        const at = cut % (order.length + 1);
        const { r, store } = evicting(roots, order.slice(0, at), k);
        restored += store.size > 0 ? 1 : 0;
        const r2 = reopen(r, roots, store);
        expect(r2.stateHash()).toBe(r.stateHash());
        for (const x of order.slice(at)) {
          r2.apply(x);
          r2.letGo();
        }
        const want = plain(roots, order);
        expect(r2.stateHash()).toBe(want.stateHash());
        expect(r2.state()).toEqual(want.state());
        // And a second restart at the end.
        restored += store.size > 0 ? 1 : 0;
        expect(reopen(r2, roots, store).stateHash()).toBe(want.stateHash());
      }),
      { numRuns: process.env.SHUNIU_LONG ? 1000 : 100, seed: 4417 },
    );
    expect(restored, 'not vacuous: restarts with objects out of memory').toBeGreaterThan(40);
  });

  it('a hub with a seq missing: a snapshot restores its records by seq with the hole (the whole state and the open one), and later admissions work', () => {
    // fast-check's counterexample: before the codec wrote every array with holes sparse, the restored
    // HubData.first had an undefined element where the hole was, and refreshAdmission failed on it.
    const steps: Parameters<typeof buildRecords>[0] = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 27, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [23, 0, 0, 0],
    ];
    const { roots, records } = buildRecords(steps);
    const order = shuffled(records, [4, 744, 0]);
    const at = 425 % (order.length + 1);
    const want = plain(roots, order).stateHash();
    const p = Resolver.fromJSON(JSON.parse(JSON.stringify(plain(roots, order.slice(0, at)).toJSON())), { roots });
    for (const x of order.slice(at)) p.apply(x);
    expect(p.stateHash()).toBe(want);
    const { r, store } = evicting(roots, order.slice(0, at));
    const r2 = reopen(r, roots, store);
    for (const x of order.slice(at)) {
      r2.apply(x);
      r2.letGo();
    }
    expect(r2.stateHash()).toBe(want);
  });

  it('a late receipt correction after the restart loads the finished objects from the store: the state and hash of never letting go', () => {
    const s = finishedStory();
    const before = verifiedOf(s.w);
    const { r, store } = evicting([s.root.id], before);
    for (const id of [s.need, s.offer, s.alloc, s.handoff]) expect(store.get(id)?.map, `${id} left memory`).toBeDefined();
    const snap = r.openSnapshot();
    // Smaller than the whole state's snapshot: the finished objects are ids.
    expect(JSON.stringify(snap).length).toBeLessThan(JSON.stringify(plain([s.root.id], before).toJSON()).length);
    expect(() => Resolver.fromJSON(snap, { roots: [s.root.id] })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
    const r2 = reopen(r, [s.root.id], store);
    expect(r2.stateHash()).toBe(plain([s.root.id], before).stateHash());
    expect(r2.objectCounts().back).toBe(0);
    s.w.t += 21 * DAY;
    s.w.receipt(s.county, s.handoff, 90, 0, 10);
    const late = verifiedOf(s.w).slice(before.length);
    for (const x of late) {
      r2.apply(x);
      r2.letGo();
    }
    const want = plain([s.root.id], [...before, ...late]);
    expect(r2.stateHash()).toBe(want.stateHash());
    expect(r2.state()).toEqual(want.state());
    expect(r2.objectCounts().back, 'the late record brought objects back').toBeGreaterThan(0);
    expect(r2.entry('needs', s.need)?.received).toBe(4500);
  });
});

describe('late records touching finished objects (docs/scale-memory.md, §11 coming back)', () => {
  it('a receipt correction weeks after the need closed: the same state and hash as never letting go', () => {
    const s = finishedStory();
    const before = verifiedOf(s.w);
    s.w.t += 21 * DAY;
    s.w.receipt(s.county, s.handoff, 90, 0, 10);
    const late = verifiedOf(s.w).slice(before.length);
    const { r } = lateRecord([s.root.id], before, late, [
      { map: 'needs', id: s.need },
      { map: 'offers', id: s.offer },
      { map: 'allocations', id: s.alloc },
      { map: 'shipments', id: s.handoff },
    ]);
    expect(r.entry('shipments', s.handoff)?.missing).toBe(500);
    expect(r.entry('needs', s.need)?.received).toBe(4500);
  });

  it('a decline reopens an exhausted offer: it comes back, stays in memory (open) and the hash is that of never letting go', () => {
    const w = new World();
    const root = w.hub('root');
    const county = w.hub('county');
    const found = w.hub('found');
    w.admit(root, county, 'city', '420900');
    w.admit(root, found, 'org', '420000');
    const need = w.need(county, { neededBy: iso(T0 + 20 * DAY) });
    const offer = w.offer(found, { quantity: 100 });
    const alloc = w.allocate(found, offer, need, 5000);
    // Accepted first: an offer whose standing allocation is still proposed stays in memory (its acceptance would bring it back).
    w.sign(county, 'allocation.accepted', { allocation: alloc });
    const before = verifiedOf(w);
    w.sign(county, 'allocation.declined', { allocation: alloc });
    const late = verifiedOf(w).slice(before.length);
    // Exhausted (all 5,000 allocated, the allocation accepted) until the decline, which the need's author makes later.
    expect(plain([root.id], before).entry('offers', offer)?.available).toBe(0);
    const { r, store } = lateRecord([root.id], before, late, [{ map: 'offers', id: offer }]);
    expect(r.entry('offers', offer)?.available).toBe(5000);
    expect(store.get(offer), 'the reopened offer stays in memory').toBeUndefined();
  });

  it('a fork of a hub whose records are all finished: every record of the hub comes back, the same state and hash', () => {
    const w = new World();
    const root = w.hub('root');
    const county = w.hub('county');
    const found = w.hub('found');
    w.admit(root, county, 'city', '420900');
    w.admit(root, found, 'org', '420000');
    // A second writer with the county's key at its current head: its record will take a seq the county uses next.
    const thief = w.thief(county);
    const need = w.need(county, { neededBy: iso(T0 + 20 * DAY) });
    const offer = w.offer(found, { quantity: 100 });
    const alloc = w.allocate(found, offer, need, 5000);
    w.sign(county, 'allocation.accepted', { allocation: alloc });
    const handoff = w.handoff(found, county, [alloc], 100);
    w.receipt(county, handoff, 100);
    w.sign(county, 'need.closed', { need, reason: 'fulfilled' });
    const before = verifiedOf(w);
    w.need(thief, { quantity: 9999 });
    const late = verifiedOf(w).slice(before.length);
    const { r } = lateRecord([root.id], before, late, [
      { map: 'needs', id: need },
      { map: 'shipments', id: handoff },
    ]);
    expect(r.entry('hubs', county.id)?.status).toBe('forked');
  });

  it('a new need joins a duplicate group of finished needs: the same duplicate_need conflict and hash as never letting go, the group read from the stubs', () => {
    const w = new World();
    const root = w.hub('root');
    const a = w.hub('county');
    const b = w.hub('city');
    w.admit(root, a, 'city', '420900');
    w.admit(root, b, 'city', '420900');
    const first = w.need(a, { neededBy: iso(T0 + 3 * DAY) });
    const second = w.need(a, { neededBy: iso(T0 + 4 * DAY) });
    w.sign(a, 'need.closed', { need: first, reason: 'fulfilled' });
    w.sign(a, 'need.closed', { need: second, reason: 'fulfilled' });
    const before = verifiedOf(w);
    const third = w.need(b, { neededBy: iso(T0 + 5 * DAY) });
    const late = verifiedOf(w).slice(before.length);
    // The group's finished members are read from their stubs' facts (author, neededBy, requester, item): none comes back.
    const { r } = lateRecord(
      [root.id],
      before,
      late,
      [
        { map: 'needs', id: first },
        { map: 'needs', id: second },
      ],
      false,
    );
    const dup = Object.values(r.collection('conflicts')).find((c) => c.rule === 'duplicate_need');
    expect(dup?.records).toEqual([first, second, third].sort());
  });

  it('an open need re-derived next to finished neighbours reads their stubs, not the store: no load, the same state and hash', () => {
    // The need stays open; around it: a received shipment of an accepted allocation of an exhausted offer, a declined
    // allocation of an offer still open, a delivery. Then records re-derive the need, its capacity pass, the open
    // offer's pass, the allocations' bases and the shipment's attribution: before stubs kept their facts (objects.ts
    // Facts), each of these loaded the finished neighbours back.
    const w = new World();
    const root = w.hub('root');
    const county = w.hub('county');
    const found = w.hub('found');
    w.admit(root, county, 'city', '420900');
    w.admit(root, found, 'org', '420000');
    const need = w.need(county, { quantity: 400, neededBy: iso(T0 + 20 * DAY) });
    const closedNeed = w.need(county, { neededBy: iso(T0 + 3 * DAY) });
    const exhausted = w.offer(found, { quantity: 100 });
    const open = w.offer(found, { quantity: 1000 });
    const a1 = w.allocate(found, exhausted, need, 5000);
    w.sign(county, 'allocation.accepted', { allocation: a1 });
    const a2 = w.allocate(found, open, need, 1000);
    w.sign(county, 'allocation.declined', { allocation: a2 });
    const h1 = w.handoff(found, county, [a1], 100);
    w.receipt(county, h1, 100);
    w.delivered(county, need, [h1], 60);
    w.sign(county, 'need.closed', { need: closedNeed, reason: 'cancelled' });
    // A need delivered and closed: a late note loads it, but not its delivery (read from the stub's facts).
    const doneNeed = w.need(county, { quantity: 10, requester: { name: '孝感市中心医院', kind: 'hospital' } });
    const d2 = w.delivered(county, doneNeed, [h1], 10);
    w.sign(county, 'need.closed', { need: doneNeed, reason: 'fulfilled' });
    const before = verifiedOf(w);
    w.t += 10 * DAY;
    w.sign(county, 'need.updated', { need, urgency: 'high' });
    w.sign(found, 'offer.updated', { offer: open, valueFen: 1000 });
    const a3 = w.allocate(found, open, need, 500);
    w.sign(county, 'need.updated', { need, quantity: 300 });
    w.sign(county, 'need.updated', { need: doneNeed, note: 'late note' });
    const late = verifiedOf(w).slice(before.length);

    const { r, store } = evicting([root.id], before);
    for (const [name, id] of Object.entries({ exhausted, a2, h1, closedNeed, doneNeed, d2 })) expect(store.get(id), `${name} left memory`).toBeDefined();
    r.traceLoads();
    for (const x of late) {
      r.apply(x);
      r.letGo();
    }
    const want = plain([root.id], [...before, ...late]);
    expect(r.stateHash()).toBe(want.stateHash());
    expect(r.state()).toEqual(want.state());
    // Only the need the note names came back, and its closing (its author's changes are read in seq order).
    expect(r.loadSites()).toEqual([
      [expect.stringMatching(/^fileRecord .*\.needUpd$/), 1],
      [expect.stringMatching(/^counts .*authorChanges .*\.rec$/), 1],
    ]);
    expect(r.entry('needs', need)).toMatchObject({ received: 5000, delivered: 3000, status: 'partly_delivered' });
    expect(r.entry('allocations', a3)?.status).toBe('proposed');
    expect(r.entry('needs', doneNeed)).toMatchObject({ delivered: 500, status: 'fulfilled', deliveries: [d2] });
  });

  it('a late receipt correction of a leg to another hub does not bring back the need at the end of the route', () => {
    // The foundation ships to the city, which ships on to the county's need: a need's view counts only shipments to its own hub.
    const w = new World();
    const root = w.hub('root');
    const county = w.hub('county');
    const city = w.hub('city');
    const found = w.hub('found');
    w.admit(root, county, 'city', '420900');
    w.admit(root, city, 'city', '420900');
    w.admit(root, found, 'org', '420000');
    const need = w.need(county, { neededBy: iso(T0 + 20 * DAY) });
    const offer = w.offer(found, { quantity: 100 });
    const alloc = w.allocate(found, offer, need, 5000);
    w.sign(county, 'allocation.accepted', { allocation: alloc });
    const leg = w.handoff(found, city, [alloc], 100);
    w.receipt(city, leg, 100);
    const last = w.handoff(city, county, [alloc], 100);
    w.receipt(county, last, 100);
    w.sign(county, 'need.closed', { need, reason: 'fulfilled' });
    const before = verifiedOf(w);
    w.t += 21 * DAY;
    w.receipt(city, leg, 98, 0, 2);
    const late = verifiedOf(w).slice(before.length);
    const { r, store } = evicting([root.id], before);
    for (const id of [need, alloc, leg, last]) expect(store.get(id), `${id} left memory`).toBeDefined();
    const needRow = store.get(need);
    r.traceLoads();
    for (const x of late) {
      r.apply(x);
      r.letGo();
    }
    const want = plain([root.id], [...before, ...late]);
    expect(r.stateHash()).toBe(want.stateHash());
    expect(r.state()).toEqual(want.state());
    // The leg, its earlier receipt and its allocation (the leg's attribution) came back; the need did not: its row is the one it left with.
    expect(r.loadSites().reduce((n, [, k]) => n + k, 0)).toBe(3);
    expect(store.get(need)).toBe(needRow);
  });

  it('an exhausted offer whose standing allocation is still proposed stays in memory: its acceptance brings nothing back', () => {
    const w = new World();
    const root = w.hub('root');
    const county = w.hub('county');
    const found = w.hub('found');
    w.admit(root, county, 'city', '420900');
    w.admit(root, found, 'org', '420000');
    const need = w.need(county, { neededBy: iso(T0 + 20 * DAY) });
    const offer = w.offer(found, { quantity: 100 });
    const other = w.allocate(found, offer, w.need(county, { quantity: 40 }), 2000);
    w.sign(county, 'allocation.accepted', { allocation: other });
    const alloc = w.allocate(found, offer, need, 3000);
    const before = verifiedOf(w);
    w.sign(county, 'allocation.accepted', { allocation: alloc });
    const late = verifiedOf(w).slice(before.length);
    expect(plain([root.id], before).entry('offers', offer)).toMatchObject({ available: 0, allocations: [other, alloc] });
    const { r, store } = evicting([root.id], before);
    expect(store.get(offer), 'the offer stays').toBeUndefined();
    const back = r.objectCounts().back;
    for (const x of late) {
      r.apply(x);
      r.letGo();
    }
    const want = plain([root.id], [...before, ...late]);
    expect(r.stateHash()).toBe(want.stateHash());
    expect(r.state()).toEqual(want.state());
    expect(r.objectCounts().back).toBe(back);
  });

  it('one letGo puts its nodes in batches of at most 64 inside one store batch (their text dies young), the same hash', () => {
    const w = new World();
    const root = w.hub('root');
    const county = w.hub('county');
    const found = w.hub('found');
    w.admit(root, county, 'city', '420900');
    w.admit(root, found, 'org', '420000');
    for (let i = 0; i < 30; i++) {
      const need = w.need(county, { neededBy: iso(T0 + 20 * DAY) });
      const offer = w.offer(found, { quantity: 100 });
      const alloc = w.allocate(found, offer, need, 5000);
      w.sign(county, 'allocation.accepted', { allocation: alloc });
      const handoff = w.handoff(found, county, [alloc], 100);
      w.receipt(county, handoff, 100);
      w.sign(county, 'need.closed', { need, reason: 'fulfilled' });
    }
    const puts: number[] = [];
    const batches: number[] = [];
    class Recording extends MapObjectStore {
      override put(batch: Parameters<MapObjectStore['put']>[0]): void {
        puts.push(batch.length);
        super.put(batch);
      }
      batch(work: () => void): void {
        batches.push(puts.length);
        work();
      }
    }
    const store = new Recording();
    const records = verifiedOf(w);
    const r = new Resolver({ roots: [root.id], objects: store });
    for (const x of records) r.apply(x);
    const left = r.letGo();
    expect(left).toBeGreaterThan(200);
    expect(batches).toEqual([0]);
    expect(Math.max(...puts)).toBe(64);
    expect(puts.reduce((a, b) => a + b, 0)).toBe(left);
    expect(r.stateHash()).toBe(plain([root.id], records).stateHash());
    expect(r.state()).toEqual(plain([root.id], records).state());
  });

  it('a stored object is read back for the state routes without coming back into memory', () => {
    const s = finishedStory();
    const { r, store } = evicting([s.root.id], verifiedOf(s.w));
    expect(store.get(s.need)?.map).toBe('needs');
    const back = r.objectCounts().back;
    expect(r.entry('needs', s.need)?.status).toBe('fulfilled');
    expect(r.collection('shipments')[s.handoff]?.status).toBe('received');
    expect(r.objectCounts().back).toBe(back);
    expect(store.get(s.need)?.map).toBe('needs');
  });

  it('without an object store letGo lets nothing go; a bad store is refused with E_ARGUMENT', () => {
    const s = finishedStory();
    const r = plain([s.root.id], verifiedOf(s.w));
    expect(r.letGo()).toBe(0);
    expect(r.objectCounts()).toEqual({ out: 0, back: 0 });
    expect(() => new Resolver({ roots: [s.root.id], objects: {} as unknown as MapObjectStore })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  });
});

// Issue 10, points 6 (node side), 9 and 12: what a node stores is decided by one trust (the resolver's admission
// closure minus the blocked hubs), and a block holds at the moment of storing.

import { join } from 'node:path';
import { Author, recordId, type SignedRecord } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpointHeader, removeCheckpoint } from '../../nodes/hub/src/checkpoint-file.js';
import { SqliteStore } from '../../nodes/hub/src/store/sqlite.js';
import { acksOf, checkAnswer, needBody, post, reopen, startNode, TestHub } from './lib/harness.js';

type Running = Awaited<ReturnType<typeof startNode>>;
let p: Running;
let xiaogan: TestHub;

const push = async (records: unknown) => checkAnswer(await post(`${p.url}/v1/records`, records));
const statuses = async (records: SignedRecord[]) => acksOf(await push(records)).map((a) => (a.code ? `${a.status} ${a.code}` : a.status));
const stored = (r: SignedRecord) => p.node.store.recordById(recordId(r)) !== undefined;
const heldOf = (hub: string) => p.node.store.heldHubs().some((h) => h.hub === hub);
const needs = () => p.node.ingestor.engine.collection('needs') as { id: string }[];
/** Every record this node would send its peers (its push queues read the records table). */
const queued = (hub: string) => p.node.store.since(0, 1_000_000).filter((r) => r.hub === hub);

beforeAll(async () => {
  p = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 0 });
  xiaogan = await TestHub.make();
  expect((await post(`${p.url}/v1/admissions`, { child: xiaogan.id, level: 'city', region: '420900' }, p.token)).status).toBe(201);
  expect(await statuses(xiaogan.records)).toEqual(['accepted']);
});
afterAll(async () => {
  await p.node.close();
});

describe('a block holds at the moment of storing (point 9)', () => {
  it('held records of a blocked hub are dropped; a later admission from another trusted hub stores, applies and queues none of them', async () => {
    const xiaonan = await TestHub.make();
    const need = xiaonan.sign('need.posted', needBody({ quantity: 901 }));
    expect(await statuses(xiaonan.records)).toEqual(['held E_NOT_ADMITTED', 'held E_GAP']);
    expect(heldOf(xiaonan.id)).toBe(true);
    const res = await post(`${p.url}/v1/blocks`, { hub: xiaonan.id, reason: 'fraud' }, p.token);
    expect(res.status).toBe(201);
    expect(heldOf(xiaonan.id)).toBe(false);
    // Another trusted hub admits it.
    const admission = xiaogan.sign('hub.admitted', { child: xiaonan.id, level: 'county', region: '420902' });
    expect(await statuses([admission])).toEqual(['accepted']);
    expect(p.node.store.heads()[xiaonan.id]).toBeUndefined();
    expect(stored(need)).toBe(false);
    expect(needs().some((n) => n.id === recordId(need))).toBe(false);
    expect(queued(xiaonan.id)).toEqual([]);
    // Pushed again: blocked, still nothing stored or held.
    expect(await statuses(xiaonan.records)).toEqual(['blocked E_BLOCKED', 'blocked E_BLOCKED']);
    expect(heldOf(xiaonan.id)).toBe(false);
    expect(queued(xiaonan.id)).toEqual([]);
  });

  it('a hub blocked after its batch was read, or while its records were held, is refused when they would be stored', async () => {
    const hanchuan = await TestHub.make();
    expect((await post(`${p.url}/v1/admissions`, { child: hanchuan.id, level: 'county', region: '420984' }, p.token)).status).toBe(201);
    const need = hanchuan.sign('need.posted', needBody({ quantity: 902, region: '420984' }));
    // Read (parsed, signatures checked) before the block, committed after it: a pushed batch or a pulled page.
    const batch = await p.node.ingestor.prepareValues(hanchuan.records);
    p.node.store.block(hanchuan.id, 'blocked between reading and storing', Date.now());
    const acks = p.node.ingestor.commit(batch, 'http://127.0.0.1:1/peer');
    expect(acks.map((a) => a.status)).toEqual(['blocked', 'blocked']);
    expect(stored(need)).toBe(false);
    expect(queued(hanchuan.id)).toEqual([]);

    // Held, then blocked without the route (the held rows are still there): the release refuses them and drops them.
    const yunmeng = await TestHub.make();
    const need2 = yunmeng.sign('need.posted', needBody({ quantity: 903, region: '420923' }));
    expect(await statuses(yunmeng.records)).toEqual(['held E_NOT_ADMITTED', 'held E_GAP']);
    p.node.store.block(yunmeng.id, '', Date.now());
    expect(await statuses([xiaogan.sign('hub.admitted', { child: yunmeng.id, level: 'county', region: '420923' })])).toEqual(['accepted']);
    expect(stored(need2)).toBe(false);
    expect(queued(yunmeng.id)).toEqual([]);
    // What the route does after a block: its held rows go.
    p.node.ingestor.blocksChanged();
    expect(heldOf(yunmeng.id)).toBe(false);
  });
});

describe('a block cascades to the hubs admitted only through the blocked one (point 6, node side)', () => {
  it('blocking a city hub makes its counties untrusted here (new records held E_NOT_ADMITTED), except one another chain reaches; unblocking restores', async () => {
    const city = await TestHub.make();
    const onlyBelow = await TestHub.make();
    const alsoAbove = await TestHub.make();
    expect((await post(`${p.url}/v1/admissions`, { child: city.id, level: 'city', region: '420900' }, p.token)).status).toBe(201);
    city.sign('hub.admitted', { child: onlyBelow.id, level: 'county', region: '420902' });
    city.sign('hub.admitted', { child: alsoAbove.id, level: 'county', region: '420981' });
    expect((await post(`${p.url}/v1/admissions`, { child: alsoAbove.id, level: 'county', region: '420981' }, p.token)).status).toBe(201);
    const first = onlyBelow.sign('need.posted', needBody({ quantity: 904 }));
    expect(await statuses([...city.records, ...onlyBelow.records, ...alsoAbove.records])).toEqual(Array(6).fill('accepted'));
    expect(p.node.trust.isTrusted(onlyBelow.id)).toBe(true);

    const hash = p.node.ingestor.engine.stateHash();
    expect((await post(`${p.url}/v1/blocks`, { hub: city.id }, p.token)).status).toBe(201);
    expect(p.node.trust.isTrusted(city.id)).toBe(false);
    expect(p.node.trust.isTrusted(onlyBelow.id)).toBe(false);
    expect(p.node.trust.isTrusted(alsoAbove.id)).toBe(true);
    // Records already stored stay, and the resolved state does not change.
    expect(stored(first)).toBe(true);
    expect(p.node.ingestor.engine.stateHash()).toBe(hash);
    const second = onlyBelow.sign('need.posted', needBody({ quantity: 905 }));
    const other = alsoAbove.sign('need.posted', needBody({ quantity: 906, region: '420981' }));
    expect(await statuses([second, other])).toEqual(['held E_NOT_ADMITTED', 'accepted']);
    expect(stored(second)).toBe(false);
    expect(heldOf(onlyBelow.id)).toBe(true);
    const status = (await (await fetch(`${p.url}/v1/status`)).json()) as { trusted: string[] };
    expect(status.trusted).not.toContain(onlyBelow.id);

    expect((await fetch(`${p.url}/v1/blocks/${city.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${p.token}` } })).status).toBe(204);
    expect(p.node.trust.isTrusted(onlyBelow.id)).toBe(true);
    // What was held for want of trust is released at once.
    expect(stored(second)).toBe(true);
    expect(heldOf(onlyBelow.id)).toBe(false);
    expect(needs().some((n) => n.id === recordId(second))).toBe(true);
  });
});

describe('one trust: the node stores what the resolver admits (point 12; scope, point 6)', () => {
  /** Every hub the resolver knows and this node has not blocked: admitted there ⇔ trusted here. */
  function agree(): void {
    const blocked = new Set(p.node.store.blocked().map((b) => b.hub));
    const hubs = p.node.ingestor.engine.collection('hubs') as { id: string; admitted: boolean }[];
    const disagree = hubs.filter((h) => !blocked.has(h.id) && h.id !== p.node.hubId && h.admitted !== p.node.trust.isTrusted(h.id));
    expect(disagree.map((h) => `${h.id} admitted=${h.admitted}`)).toEqual([]);
  }

  it('after a fork below an admission the admittee is no longer trusted: new records held E_NOT_ADMITTED, the state lists it held', async () => {
    const city = await TestHub.make();
    const county = await TestHub.make();
    expect((await post(`${p.url}/v1/admissions`, { child: city.id, level: 'city', region: '420900' }, p.token)).status).toBe(201);
    const inception = city.records[0] as SignedRecord;
    city.sign('need.posted', needBody({ quantity: 910, region: '420900' }));
    city.sign('hub.admitted', { child: county.id, level: 'county', region: '420902' });
    county.sign('need.posted', needBody({ quantity: 911 }));
    expect(await statuses([...city.records, ...county.records])).toEqual(Array(5).fill('accepted'));
    expect(p.node.trust.isTrusted(county.id)).toBe(true);
    agree();

    // The city signs a second record at seq 1, below its admission at seq 2: its counting chain stops at seq 0.
    const other = new Author({
      hub: city.id,
      secretKey: city.hub.keys.signing.secretKey,
      head: { seq: 0, id: recordId(inception), hlc: inception.hlc },
      wall: () => Date.now(),
    });
    const fork = other.sign('need.posted', needBody({ quantity: 912, region: '420900' })).record;
    expect(await statuses([fork])).toEqual(['rejected E_FORK']);
    const hubs = p.node.ingestor.engine.collection('hubs') as { id: string; admitted: boolean; status: string }[];
    expect(hubs.find((h) => h.id === city.id)?.status).toBe('forked');
    expect(hubs.find((h) => h.id === county.id)?.admitted).toBe(false);
    expect(p.node.trust.isTrusted(county.id)).toBe(false);
    agree();

    const next = county.sign('need.posted', needBody({ quantity: 913 }));
    expect(await statuses([next])).toEqual(['held E_NOT_ADMITTED']);
    expect(stored(next)).toBe(false);
    const held = p.node.ingestor.engine.resolved().held;
    expect(held[recordId(county.records[1] as SignedRecord)]).toBe(county.id);
  });

  it('a stored hub.admission.revoked makes the child untrusted (new records held); a later admission restores it', async () => {
    const city = await TestHub.make();
    const county = await TestHub.make();
    expect((await post(`${p.url}/v1/admissions`, { child: city.id, level: 'city', region: '420900' }, p.token)).status).toBe(201);
    city.sign('hub.admitted', { child: county.id, level: 'county', region: '420902' });
    county.sign('need.posted', needBody({ quantity: 930 }));
    expect(await statuses([...city.records, ...county.records])).toEqual(Array(4).fill('accepted'));
    expect(p.node.trust.isTrusted(county.id)).toBe(true);

    const revoked = city.sign('hub.admission.revoked', { child: county.id, reason: 'the county office closed' });
    expect(await statuses([revoked])).toEqual(['accepted']);
    expect(p.node.trust.isTrusted(county.id)).toBe(false);
    const hubs = p.node.ingestor.engine.collection('hubs') as { id: string; admitted: boolean }[];
    expect(hubs.find((h) => h.id === county.id)?.admitted).toBe(false);
    agree();
    const next = county.sign('need.posted', needBody({ quantity: 931 }));
    expect(await statuses([next])).toEqual(['held E_NOT_ADMITTED']);
    expect(stored(next)).toBe(false);

    // A later admission by the same hub admits it again; what was held is released.
    expect(await statuses([city.sign('hub.admitted', { child: county.id, level: 'county', region: '420902' })])).toEqual(['accepted']);
    expect(p.node.trust.isTrusted(county.id)).toBe(true);
    expect(stored(next)).toBe(true);
    agree();
  });

  it('POST /v1/admissions/:child/revoke signs hub.admission.revoked for this node: the child stops being trusted', async () => {
    const county = await TestHub.make();
    expect((await post(`${p.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, p.token)).status).toBe(201);
    expect(await statuses(county.records)).toEqual(['accepted']);
    expect((await post(`${p.url}/v1/admissions/${county.id}/revoke`, { reason: 'merged' })).status).toBe(401);
    const res = await post(`${p.url}/v1/admissions/${county.id}/revoke`, { reason: 'merged into another county' }, p.token);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { record: SignedRecord };
    expect(body.record).toMatchObject({ type: 'hub.admission.revoked', hub: p.node.hubId, body: { child: county.id, reason: 'merged into another county' } });
    expect(p.node.trust.isTrusted(county.id)).toBe(false);
    expect(await statuses([county.sign('need.posted', needBody({ quantity: 940 }))])).toEqual(['held E_NOT_ADMITTED']);
    expect((await post(`${p.url}/v1/admissions/not-a-hub/revoke`, {}, p.token)).status).toBe(400);
    agree();
  });

  it("an org hub's admission of a national hub for 110000 is out of scope: the node does not store that hub's records", async () => {
    const org = await TestHub.make();
    const national = await TestHub.make();
    expect((await post(`${p.url}/v1/admissions`, { child: org.id, level: 'org', region: '420902' }, p.token)).status).toBe(201);
    org.sign('hub.admitted', { child: national.id, level: 'national', region: '110000' });
    const need = national.sign('need.posted', needBody({ quantity: 920, region: '110101', requester: { name: '北京某医院', kind: 'hospital' } }));
    expect(await statuses(org.records)).toEqual(['accepted', 'accepted']);
    expect(await statuses(national.records)).toEqual(['held E_NOT_ADMITTED', 'held E_GAP']);
    expect(stored(need)).toBe(false);
    expect(p.node.trust.isTrusted(national.id)).toBe(false);
    expect(needs().some((n) => n.id === recordId(need))).toBe(false);
    agree();
  });
});

describe('trust after a restart (from the checkpoint, and by replay)', () => {
  it('a revoked hub and one admitted only through a blocked hub stay untrusted; the others stay trusted', async () => {
    const n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 0 });
    const send = async (records: SignedRecord[]) => acksOf(await checkAnswer(await post(`${n.url}/v1/records`, records))).map((a) => a.status);
    const city = await TestHub.make();
    const [kept, revoked, below] = [await TestHub.make(), await TestHub.make(), await TestHub.make()];
    const blockedCity = await TestHub.make();
    for (const [h, level, region] of [
      [city, 'city', '420900'],
      [blockedCity, 'city', '421000'],
    ] as const)
      expect((await post(`${n.url}/v1/admissions`, { child: h.id, level, region }, n.token)).status).toBe(201);
    city.sign('hub.admitted', { child: kept.id, level: 'county', region: '420902' });
    city.sign('hub.admitted', { child: revoked.id, level: 'county', region: '420981' });
    city.sign('hub.admission.revoked', { child: revoked.id });
    blockedCity.sign('hub.admitted', { child: below.id, level: 'county', region: '421003' });
    await send([...city.records, ...blockedCity.records, ...kept.records, ...revoked.records, ...below.records]);
    expect((await post(`${n.url}/v1/blocks`, { hub: blockedCity.id }, n.token)).status).toBe(201);
    const expected = { [city.id]: true, [kept.id]: true, [revoked.id]: false, [below.id]: false, [blockedCity.id]: false };
    const seen = (node: typeof n.node) => Object.fromEntries(Object.keys(expected).map((h) => [h, node.trust.isTrusted(h)]));
    expect(seen(n.node)).toEqual(expected);
    // A checkpoint (written by a worker into DIR/checkpoint.json, spec/node.md §10.4), then a restart from it.
    await n.node.checkpoint();
    await n.node.close();
    expect(readCheckpointHeader(n.dir)).toBeDefined();
    const again = await reopen(n.dir, { threads: 0 });
    try {
      expect(seen(again.node)).toEqual(expected);
    } finally {
      await again.node.close();
    }
    // Without a checkpoint: the state, and trust with it, rebuilt from the records.
    const db = new SqliteStore(join(n.dir, 'hub.db'));
    db.clearCheckpoint();
    db.close();
    removeCheckpoint(n.dir);
    const fresh = await reopen(n.dir, { threads: 0 });
    try {
      expect(readCheckpointHeader(n.dir)).toBeUndefined();
      expect(seen(fresh.node)).toEqual(expected);
    } finally {
      await fresh.node.close();
    }
  });
});

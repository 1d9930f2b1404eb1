// Issue 10, points 6 (node side), 9 and 12: what a node stores is decided by one trust (the resolver's admission
// closure minus the blocked hubs), and a block holds at the moment of storing.
import { recordId, type SignedRecord } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acksOf, checkAnswer, needBody, post, startNode, TestHub } from './lib/harness.js';

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

import { recordId } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpointHeader } from '../src/checkpoint-file.js';
import type { HubNode } from '../src/node.js';
import { eventually, needBody, post, reopen, startNode, TestHub } from './helpers.js';

/**
 * Bundles through a node (issue 18 point 5, spec/node.md §6 and §8.4): a
 * community hub that runs no node bundles the needs of its chat groups; the
 * foundation's node funds the bundle as a whole through its operator route,
 * allocates and ships; the bundle's progress, read from GET /v1/state/bundles,
 * moves with its needs. The foundation cannot update another hub's bundle.
 */

let node: HubNode;
let url: string;
let token: string;
let dir: string;
let community: TestHub;
let needA: string;
let needB: string;
let bundle: string;

interface Bundle {
  id: string;
  hub: string;
  status: string;
  title: string;
  needs: string[];
  fundedFen: number;
  funding: { hub: string; record: string; amountFen: number }[];
  progress: { needs: number; open: number; allocated: number; inTransit: number; delivered: number; items: { requested: number; delivered: number }[] };
}

const get = async (path: string, auth = true) => fetch(`${url}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
const bundles = async (auth = true): Promise<Bundle[]> => ((await (await get('/v1/state/bundles', auth)).json()) as { bundles: Bundle[] }).bundles;
const theBundle = async (): Promise<Bundle | undefined> => (await bundles()).find((b) => b.id === bundle);

beforeAll(async () => {
  ({ node, url, token, dir } = await startNode({ name: '上海联合基金会', level: 'province', region: '310000' }));
  community = await TestHub.make();
  community.sign('hub.profile', { name: { zh: '徐汇区社区团购群联络组' }, level: 'org', region: '310104', endpoints: [] });
  const group = (name: string) => ({ region: '310104', requester: { name, kind: 'community' as const, region: '310104' }, neededBy: '2099-05-01T00:00:00Z' });
  needA = recordId(community.sign('need.posted', needBody({ ...group('康健街道第一团购群'), quantity: 40 })));
  needB = recordId(community.sign('need.posted', needBody({ ...group('康健街道第二团购群'), quantity: 60 })));
  bundle = recordId(community.sign('bundle.posted', { title: '徐汇区社区团购群防护物资', region: '310104', needs: [needA, needB], targetFen: 2_000_000 }));
  expect((await post(`${url}/v1/admissions`, { child: community.id, level: 'org', region: '310104' }, token)).status).toBe(201);
  expect((await post(`${url}/v1/records`, community.records)).status).toBe(200);
  await eventually(async () => (await theBundle()) !== undefined);
});
afterAll(async () => {
  await node.close();
});

describe('bundles through a node', () => {
  it('serves the bundle at GET /v1/state/bundles with its needs open and nothing funded', async () => {
    const b = (await theBundle()) as Bundle;
    expect(b.hub).toBe(community.id);
    expect(b.status).toBe('open');
    expect(b.needs).toEqual([needA, needB].sort());
    expect(b.progress).toMatchObject({ needs: 2, open: 2, allocated: 0, delivered: 0 });
    expect(b.progress.items).toEqual([{ code: 'PPE.MASK.SURGICAL', base: 'piece', requested: 5000, allocated: 0, inTransit: 0, delivered: 0 }]);
  });

  it('funds the bundle as a whole through the operator route', async () => {
    const res = await post(`${url}/v1/bundles/${bundle}/fund`, { amountFen: 2_000_000, note: '整体资助' }, token);
    expect(res.status).toBe(201);
    const { id, record } = (await res.json()) as { id: string; record: { type: string; body: { bundle: string } } };
    expect(record.type).toBe('bundle.funded');
    expect(record.body.bundle).toBe(bundle);
    await eventually(async () => (await theBundle())?.status === 'funded');
    const b = (await theBundle()) as Bundle;
    expect(b.fundedFen).toBe(2_000_000);
    expect(b.funding).toEqual([{ hub: node.hubId, record: id, amountFen: 2_000_000 }]);
  });

  it('refuses to update another hub’s bundle (403 E_NOT_AUTHOR, nothing signed) and a bad body (400 E_SCHEMA)', async () => {
    const before = (await (await get('/v1/status')).json()) as { records: number };
    const res = await post(`${url}/v1/bundles/${bundle}/update`, { close: 'cancelled' }, token);
    expect(res.status).toBe(403);
    const p = (await res.json()) as { code: string; signer: string };
    expect(p).toMatchObject({ code: 'E_NOT_AUTHOR', signer: community.id });
    const bad = await post(`${url}/v1/bundles`, { title: '空', region: '310104', needs: [] }, token);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('E_SCHEMA');
    const noop = await post(`${url}/v1/bundles/${bundle}/fund`, { amountFen: 1.5 }, token);
    expect(noop.status).toBe(400);
    const after = (await (await get('/v1/status')).json()) as { records: number };
    expect(after.records).toBe(before.records);
    expect((await theBundle())?.status).toBe('funded');
  });

  it('moves the bundle’s progress as its needs are allocated, shipped and delivered', async () => {
    const offer = await post(
      `${url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 100,
        unit: { name: 'box', base: 'piece', size: 50 },
        valueFen: 2_000_000,
        donor: { name: '上海联合基金会', kind: 'foundation' },
        intent: { regions: ['31'] },
        region: '310000',
      },
      token,
    );
    expect(offer.status).toBe(201);
    const offerId = ((await offer.json()) as { id: string }).id;
    const alloc = await post(`${url}/v1/allocations`, { offer: offerId, need: needA, quantity: 2000 }, token);
    expect(alloc.status).toBe(201);
    const allocId = ((await alloc.json()) as { id: string }).id;
    await eventually(async () => (await theBundle())?.progress.allocated === 1);
    expect((await theBundle())?.progress).toMatchObject({ open: 1, allocated: 1, inTransit: 0, delivered: 0 });

    const handoff = await post(
      `${url}/v1/handoffs`,
      {
        shipment: 'SUF-2022-0412',
        from: node.hubId,
        to: community.id,
        lines: [{ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 40, unit: { name: 'box', base: 'piece', size: 50 } }],
        expectedArrival: '2099-04-20T00:00:00Z',
        allocations: [allocId],
      },
      token,
    );
    expect(handoff.status).toBe(201);
    const handoffId = ((await handoff.json()) as { id: string }).id;
    await eventually(async () => (await theBundle())?.progress.inTransit === 1);

    const from = community.records.length;
    community.sign('custody.receipt', { handoff: handoffId, lines: [{ line: 0, accepted: 40, rejected: 0, missing: 0 }], received: '2022-04-14T08:00:00Z' });
    community.sign('custody.delivered', {
      need: needA,
      handoffs: [handoffId],
      lines: [{ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 40, unit: { name: 'box', base: 'piece', size: 50 } }],
      recipient: { name: '康健街道第一团购群', kind: 'community', region: '310104' },
      peopleServed: 300,
      delivered: '2022-04-14T10:00:00Z',
    });
    expect((await post(`${url}/v1/records`, community.records.slice(from))).status).toBe(200);
    await eventually(async () => (await theBundle())?.progress.delivered === 1);
    const b = (await theBundle()) as Bundle;
    expect(b.progress).toMatchObject({ needs: 2, open: 1, allocated: 0, inTransit: 0, delivered: 1 });
    expect(b.progress.items[0]).toMatchObject({ requested: 5000, delivered: 2000 });
  });

  it('posts and updates its own bundle; the public route serves bundles as the state has them and nothing private', async () => {
    const own = await post(`${url}/v1/bundles`, { title: '基金会自建项目', region: '310104', needs: [needB] }, token);
    expect(own.status).toBe(201);
    const ownId = ((await own.json()) as { id: string }).id;
    const upd = await post(`${url}/v1/bundles/${ownId}/update`, { add: [needA], title: '基金会自建项目（两群）' }, token);
    expect(upd.status).toBe(201);
    await eventually(async () => (await bundles()).find((b) => b.id === ownId)?.needs.length === 2);
    const anonymous = await get('/v1/state/bundles', false);
    expect(anonymous.status).toBe(200);
    const text = await anonymous.text();
    const page = JSON.parse(text) as { bundles: Bundle[]; version: string };
    expect(page.bundles.map((b) => b.id)).toEqual([bundle, ownId].sort());
    expect(page.bundles.find((b) => b.id === ownId)?.title).toBe('基金会自建项目（两群）');
    expect(text).not.toMatch(/sealed|private|contact/);
    // The page's version is the state hash, which covers the bundles.
    expect(page.version).toBe(((await (await get('/v1/state/hash')).json()) as { stateHash: string }).stateHash);
  });

  it('restarts from its checkpoint (which carries no bundles) with the same bundles, derived again from the records', async () => {
    const before = await bundles();
    await node.checkpoint();
    await node.checkpoint();
    expect(readCheckpointHeader(dir)?.ord).toBe(node.store.maxOrd());
    await node.close();
    ({ node, url, token } = await reopen(dir));
    expect(await bundles()).toEqual(before);
    // The restart signs a new hub.profile: the state equals a replay of every record the node holds.
    const rebuilt = node.stateFactory(node.config.roots);
    for (const r of node.store.since(0, 1_000_000)) rebuilt.apply({ id: r.id, record: JSON.parse(r.json) } as never);
    expect(node.ingestor.engine.stateHash()).toBe(rebuilt.stateHash());
  });
});

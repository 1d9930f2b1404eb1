import { recordId } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubNode } from '../src/node.js';
import { eventually, needBody, post, startNode, TestHub } from './helpers.js';

/**
 * Only an offer's author may allocate it (issue 12 point 1): the node
 * refuses to sign an allocation of another hub's offer (403 E_NOT_AUTHOR,
 * nothing written) instead of signing a record that could only become an
 * `unauthorised` conflict; and every proposal names the hub that must sign
 * it, by id and by name.
 */

let node: HubNode;
let url: string;
let token: string;
let county: TestHub;
let countyOffer: string;
let ownOffer: string;
let needId: string;

const offerBody = (donor: string, quantity: number) => ({
  kind: 'goods',
  item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
  quantity,
  unit: { name: 'box', base: 'piece', size: 50 },
  valueFen: 500_000,
  donor: { name: donor, kind: 'foundation' },
  intent: { regions: ['42'] },
  region: '420902',
});

const get = async (path: string) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });

const collection = async (name: string): Promise<unknown[]> => ((await (await get(`/v1/state/${name}`)).json()) as Record<string, unknown[]>)[name] ?? [];

beforeAll(async () => {
  ({ node, url, token } = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }));
  county = await TestHub.make();
  county.sign('hub.profile', { name: { zh: '孝南区枢纽', en: 'Xiaonan hub' }, level: 'county', region: '420902', endpoints: [] });
  const need = county.sign('need.posted', needBody({ quantity: 100_000, unit: { name: 'piece', base: 'piece', size: 1 }, neededBy: '2099-01-30T00:00:00Z' }));
  const offer = county.sign('offer.posted', offerBody('孝感红十字会', 300) as never);
  needId = recordId(need);
  countyOffer = recordId(offer);
  expect((await post(`${url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, token)).status).toBe(201);
  expect((await post(`${url}/v1/records`, county.records)).status).toBe(200);
  const own = await post(`${url}/v1/offers`, offerBody('壹基金', 500), token);
  expect(own.status).toBe(201);
  ownOffer = ((await own.json()) as { id: string }).id;
});
afterAll(async () => {
  await node.close();
});

describe('allocations only by the offer’s author', () => {
  it('refuses an allocation of another hub’s offer with 403 E_NOT_AUTHOR, naming the author, and writes nothing', async () => {
    const before = (await (await get('/v1/status')).json()) as { records: number };
    const res = await post(`${url}/v1/allocations`, { offer: countyOffer, need: needId, quantity: 100 }, token);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const p = (await res.json()) as { code: string; signer: string; detail: string };
    expect(p.code).toBe('E_NOT_AUTHOR');
    expect(p.signer).toBe(county.id);
    expect(p.detail).toContain(countyOffer);
    const after = (await (await get('/v1/status')).json()) as { records: number };
    expect(after.records).toBe(before.records);
    expect(await collection('allocations')).toEqual([]);
    expect((await collection('conflicts')).filter((c) => (c as { rule: string }).rule === 'unauthorised')).toEqual([]);
  });

  it('signs an allocation of its own offer', async () => {
    const res = await post(`${url}/v1/allocations`, { offer: ownOffer, need: needId, quantity: 100 }, token);
    expect(res.status).toBe(201);
    await eventually(async () => (await collection('allocations')).length === 1);
  });
});

describe('proposals name who must sign them', () => {
  it('each proposal carries its signer (the offer’s author) and the page names each signer', async () => {
    const res = await get('/v1/match/proposals');
    expect(res.status).toBe(200);
    const page = (await res.json()) as {
      proposals: { offer: string; signer: string; requester: string; donor: string; itemName: string }[];
      signers: Record<string, { name?: { zh: string; en?: string }; level?: string; region?: string }>;
    };
    const byOffer = new Map(page.proposals.map((p) => [p.offer, p]));
    expect(byOffer.get(countyOffer)).toMatchObject({ signer: county.id, donor: '孝感红十字会', requester: '孝南区人民医院', itemName: '医用外科口罩' });
    expect(byOffer.get(ownOffer)?.signer).toBe(node.hubId);
    expect(page.signers[county.id]).toEqual({ name: { zh: '孝南区枢纽', en: 'Xiaonan hub' }, level: 'county', region: '420902' });
    expect(page.signers[node.hubId]?.name?.zh).toBe('湖北省枢纽');
    expect(Object.keys(page.signers).sort()).toEqual([county.id, node.hubId].sort());
  });
});

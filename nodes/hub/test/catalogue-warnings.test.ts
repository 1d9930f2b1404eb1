import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubNode } from '../src/node.js';
import { needBody, post, startNode } from './helpers.js';

/**
 * Issue 12 point 5 (d): an item code outside the relief-item catalogue is
 * allowed but flagged in the operator write's answer (spec/node.md §8.4,
 * spec/catalogue.md §4).
 */

let node: HubNode;
let url: string;
let token: string;

beforeAll(async () => {
  ({ node, url, token } = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }));
});
afterAll(async () => {
  await node.close();
});

type Written = { id: string; warnings?: { code: string; path: (string | number)[]; message: string }[] };

describe('operator writes and the relief-item catalogue', () => {
  it('signs a need for an unknown item code and flags it with an unknown_item warning', async () => {
    const res = await post(`${url}/v1/needs`, needBody({ item: { code: 'PPE.MASK.FANCY', name: '花式口罩' } }), token);
    expect(res.status).toBe(201);
    const w = (await res.json()) as Written;
    expect(w.warnings).toEqual([{ code: 'unknown_item', path: ['item', 'code'], message: expect.stringContaining('PPE.MASK.FANCY') }]);
    const got = await fetch(`${url}/v1/records/${w.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(got.status).toBe(200);
  });

  it('says nothing for a catalogue item counted in its base unit', async () => {
    const res = await post(`${url}/v1/needs`, needBody({ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' } }), token);
    expect(res.status).toBe(201);
    expect(((await res.json()) as Written).warnings).toBeUndefined();
  });

  it('flags a catalogue item counted in a pack as its base unit', async () => {
    const res = await post(
      `${url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'FOOD.RICE', name: '大米' },
        quantity: 40,
        unit: { name: 'bag', base: 'bag', size: 1 },
        valueFen: 0,
        donor: { name: '中粮', kind: 'company' },
        intent: {},
        region: '420902',
      },
      token,
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as Written).warnings).toMatchObject([{ code: 'unit_not_catalogue_base', path: ['unit', 'base'] }]);
  });
});

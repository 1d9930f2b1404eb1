import { afterAll, describe, expect, it } from 'vitest';
import { post, startNode } from './helpers.js';

// Issue 10 point 11: anonymous state reads show an individual donor as 爱心人士 unless the donor agreed to be named.

type Running = Awaited<ReturnType<typeof startNode>>;
const nodes: Running[] = [];
afterAll(async () => {
  for (const n of nodes) await n.node.close().catch(() => {});
});

const offer = (donor: Record<string, unknown>) => ({
  kind: 'goods',
  item: { code: 'PPE.MASK.N95', name: 'N95 口罩' },
  quantity: 100,
  unit: { name: '个', base: '个', size: 1 },
  valueFen: 50_000,
  donor,
  intent: {},
  region: '420902',
});

describe('point 11: individual donors on public reads', () => {
  it('anonymous /v1/state/offers names only individuals who agreed; operators see every name', async () => {
    const n = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' });
    nodes.push(n);
    for (const donor of [
      { name: '张小明', kind: 'individual' },
      { name: '李阿姨', kind: 'individual', named: true },
      { name: '壹基金', kind: 'foundation' },
    ]) {
      expect((await post(`${n.url}/v1/offers`, offer(donor), n.token)).status).toBe(201);
    }
    const anon = (await (await fetch(`${n.url}/v1/state/offers`)).json()) as { offers: { donor: { name: string } }[] };
    const names = anon.offers.map((o) => o.donor.name).sort();
    expect(names).toEqual(['壹基金', '李阿姨', '爱心人士'].sort());
    expect(JSON.stringify(anon)).not.toContain('张小明');
    const op = (await (await fetch(`${n.url}/v1/state/offers`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as {
      offers: { donor: { name: string } }[];
    };
    expect(op.offers.map((o) => o.donor.name).sort()).toEqual(['壹基金', '张小明', '李阿姨'].sort());
  });
});

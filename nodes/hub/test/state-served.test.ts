// The state served is the state hashed (issue 13 point 2, spec/node.md §6): every collection's
// items are exactly the resolved objects (nothing added), held and pending are served too, and
// the answer names the record clock, so a client recomputes GET /v1/state/hash from the API alone.
import { jcs } from '@shuniu/protocol';
import type { ResolvedState } from '@shuniu/resolve';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BucketMap, stateDigest } from '../../../packages/resolve/src/buckets.js';
import { needBody, post, startNode, TestHub } from './helpers.js';

type Node = Awaited<ReturnType<typeof startNode>>;
const MAPS = ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending'] as const;

async function served(url: string, token: string, name: string): Promise<{ items: Record<string, unknown>[]; clock: number }> {
  const items: Record<string, unknown>[] = [];
  let after = '';
  let clock = -1;
  for (;;) {
    const res = await fetch(`${url}/v1/state/${name}?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const page = (await res.json()) as Record<string, unknown> & { next: string | null; clock: number };
    items.push(...(page[name] as Record<string, unknown>[]));
    clock = page.clock;
    if (page.next === null) return { items, clock };
    after = page.next;
  }
}

describe('GET /v1/state/{collection} serves the hashed objects', () => {
  let n: Node;
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
    const county = await TestHub.make();
    expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    for (let i = 0; i < 3; i++) county.sign('need.posted', needBody({ quantity: 100 + i }));
    expect((await post(`${n.url}/v1/records`, county.records)).status).toBe(200);
    // A need of our own gets an allocation of our own offer.
    expect((await post(`${n.url}/v1/records`, (await TestHub.make()).records[0])).status).toBeLessThan(500);
    const need = (await (await post(`${n.url}/v1/needs`, needBody({ quantity: 50 }), n.token)).json()) as { id: string };
    const offer = (await (
      await post(
        `${n.url}/v1/offers`,
        {
          kind: 'goods',
          item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
          quantity: 40,
          unit: { name: 'piece', base: 'piece', size: 1 },
          valueFen: 4000,
          donor: { name: '湖北枢纽', kind: 'foundation' },
          intent: {},
          region: '420902',
        },
        n.token,
      )
    ).json()) as { id: string };
    expect((await post(`${n.url}/v1/allocations`, { offer: offer.id, need: need.id, quantity: 40 }, n.token)).status).toBe(201);
  });
  afterAll(async () => {
    await n.node.close();
  });

  it('every map and the clock, as served, are the resolved state, and hash to /v1/state/hash', async () => {
    const state = n.node.ingestor.engine.resolved();
    const rebuilt: Record<string, Record<string, unknown>> = {};
    let clock = -1;
    for (const name of MAPS) {
      const page = await served(n.url, n.token, name);
      clock = page.clock;
      const m: Record<string, unknown> = {};
      for (const it of page.items) {
        if (name === 'held' || name === 'pending') m[it.id as string] = it.value;
        else m[it.id as string] = it;
      }
      rebuilt[name] = m;
      expect(m, name).toEqual(state[name as keyof ResolvedState]);
    }
    expect(Object.keys(rebuilt.allocations as object).length).toBe(1);
    expect(clock).toBe(state.clock);
    // The hash from the served objects alone (spec/resolution.md, state hash).
    const roots: Record<string, string> = {};
    for (const name of MAPS) {
      const b = new BucketMap<unknown>(jcs);
      for (const [k, v] of Object.entries(rebuilt[name] as object)) b.set(k, v);
      roots[name] = b.root();
    }
    const hash = stateDigest({ ...roots, clock, v: 1 });
    const served_ = (await (await fetch(`${n.url}/v1/state/hash`)).json()) as { stateHash: string };
    expect(hash).toBe(served_.stateHash);
  });

  it('filters an allocation by its need without adding the need’s members to it', async () => {
    const res = await fetch(`${n.url}/v1/state/allocations?region=4209`, { headers: { authorization: `Bearer ${n.token}` } });
    const page = (await res.json()) as { allocations: Record<string, unknown>[] };
    expect(page.allocations.length).toBe(1);
    expect(page.allocations[0]).not.toHaveProperty('region');
    const none = (await (await fetch(`${n.url}/v1/state/allocations?region=11`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as {
      allocations: unknown[];
    };
    expect(none.allocations).toEqual([]);
  });

  it('keeps serving every need in key order as needs are added between snapshots (the kept order merged with the new keys)', async () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) expect((await post(`${n.url}/v1/needs`, needBody({ quantity: 10 + round * 10 + i }), n.token)).status).toBe(201);
      // An operator's read is always of the current version: a new snapshot, ordered from the last one's keys.
      const page = await served(n.url, n.token, 'needs');
      const ids = page.items.map((it) => it.id as string);
      const want = Object.keys(n.node.ingestor.engine.resolved().needs);
      expect(ids).toEqual([...want].sort());
      expect(new Set(ids).size).toBe(ids.length);
      expect(page.items).toEqual(ids.map((id) => n.node.ingestor.engine.resolved().needs[id]));
    }
  });
});

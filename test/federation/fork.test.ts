import { Author, recordId, type SignedRecord } from '@shuniu/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../../nodes/hub/src/node.js';
import { eventually, needBody, post, startNode, TestHub } from '../../nodes/hub/test/helpers.js';

type Running = Awaited<ReturnType<typeof startNode>>;

const fast: OpenOptions = { overrides: { federation: { pullIntervalMs: 250, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 } } };
const nodes: Running[] = [];
afterAll(async () => {
  for (const n of nodes) await n.node.close().catch(() => {});
});

const json = async <T>(n: Running, path: string) => (await (await fetch(`${n.url}${path}`)).json()) as T;

/**
 * A county's signing key is stolen: owner and thief each sign a branch from
 * the same seq and push them to different nodes. Whichever branch a node saw
 * first, both nodes must end holding both branches, mark the hub forked with
 * the same proof, and show one state hash (spec/resolution.md §1,
 * spec/node.md §Ingest).
 */
describe('a forked hub seen from two sides of the network', () => {
  it('both nodes end with both branches, the hub forked, and one state hash', async () => {
    const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, fast);
    nodes.push(province);
    const city = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900', parent: province.url }, fast);
    nodes.push(city);
    expect(
      (await post(`${province.url}/v1/admissions`, { child: city.node.hubId, level: 'city', region: '420900', url: city.url }, province.token)).status,
    ).toBe(201);

    const county = await TestHub.make();
    expect((await post(`${city.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, city.token)).status).toBe(201);
    county.sign('need.posted', needBody({ quantity: 10 }));
    expect((await post(`${city.url}/v1/records`, county.records)).status).toBe(200);
    await eventually(async () => (await json<{ heads: Record<string, number> }>(province, '/v1/heads')).heads[county.id] === 1);

    const thief = new Author({ hub: county.id, secretKey: county.hub.keys.signing.secretKey, head: { ...county.author.head }, wall: () => Date.now() + 5 });
    const owner: SignedRecord[] = [county.sign('need.posted', needBody({ quantity: 20 })), county.sign('need.posted', needBody({ quantity: 21 }))];
    const stolen: SignedRecord[] = [
      thief.sign('need.posted', needBody({ quantity: 900 })).record,
      thief.sign('need.posted', needBody({ quantity: 901 })).record,
    ];
    await Promise.all([post(`${province.url}/v1/records`, owner), post(`${city.url}/v1/records`, stolen)]);

    const all = [...owner, ...stolen].map(recordId);
    await eventually(async () => {
      for (const n of [province, city]) for (const id of all) if ((await fetch(`${n.url}/v1/records/${id}`)).status !== 200) return false;
      const [a, b] = await Promise.all([province, city].map((n) => json<{ stateHash: string }>(n, '/v1/state/hash')));
      return a?.stateHash === b?.stateHash;
    }, 200);

    for (const n of [province, city]) {
      const hubs = (await json<{ hubs: { id: string; status: string }[] }>(n, '/v1/state/hubs')).hubs;
      expect(hubs.find((h) => h.id === county.id)?.status).toBe('forked');
      const conflicts = (await json<{ conflicts: { rule: string; records: string[] }[] }>(n, '/v1/state/conflicts')).conflicts;
      const fork = conflicts.find((c) => c.rule === 'fork' && c.records.includes(recordId(owner[0] as SignedRecord)));
      expect(fork?.records).toEqual([recordId(owner[0] as SignedRecord), recordId(stolen[0] as SignedRecord)].sort());
      // Neither branch's needs count once the hub has forked; the need before the fork still does.
      const needs = (await json<{ needs: { id: string }[] }>(n, '/v1/state/needs')).needs.map((x) => x.id);
      expect(needs).toContain(recordId(county.records[1] as SignedRecord));
      for (const id of all) expect(needs).not.toContain(id);
    }
  });
});

/**
 * A foundation follows the province and is never pushed to: it learns only by
 * pulling. A fork proof is stored beside the chain, in no log, so the pull
 * fetches it from GET /v1/offchain (spec/node.md §9.3; found by the simulator,
 * test/sim/seeds/pull-only-follower.json).
 */
describe('a follower that only pulls', () => {
  it('gets the fork proofs the province holds, and marks the hub forked as the province does', async () => {
    const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, fast);
    nodes.push(province);
    const foundation = await startNode({ name: '壹基金', level: 'national', region: '100000', follow: [province.url] }, fast);
    nodes.push(foundation);
    const county = await TestHub.make();
    expect((await post(`${province.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, province.token)).status).toBe(201);
    county.sign('need.posted', needBody({ quantity: 10 }));
    expect((await post(`${province.url}/v1/records`, county.records)).status).toBe(200);
    const thief = new Author({ hub: county.id, secretKey: county.hub.keys.signing.secretKey, head: { ...county.author.head }, wall: () => Date.now() + 5 });
    const owner = county.sign('need.posted', needBody({ quantity: 20 }));
    const stolen = thief.sign('need.posted', needBody({ quantity: 900 })).record;
    expect((await post(`${province.url}/v1/records`, [owner])).status).toBe(200);
    // The second record at the same seq: refused E_FORK, kept beside the chain as the proof.
    const forked = await post(`${province.url}/v1/records`, [stolen]);
    expect(JSON.stringify(await forked.json())).toContain('E_FORK');
    const heads = await json<{ offChain: { count: number; last: number } }>(province, '/v1/heads');
    expect(heads.offChain.count).toBe(1);
    const page = await json<{ records: SignedRecord[]; next: number | null }>(province, '/v1/offchain?after=0&limit=5');
    expect(page.records.map(recordId)).toEqual([recordId(stolen)]);
    expect(page.next).toBeNull();

    await eventually(async () => (await fetch(`${foundation.url}/v1/records/${recordId(stolen)}`)).status === 200, 200);
    // The foundation's own hub is not in the province's set, so the two state hashes differ by it; what the fork decides is the same on both.
    const forkOf = async (n: Running) => {
      const conflicts = (await json<{ conflicts: { rule: string; records: string[] }[] }>(n, '/v1/state/conflicts')).conflicts;
      return conflicts.filter((c) => c.rule === 'fork');
    };
    expect(await forkOf(foundation)).toEqual(await forkOf(province));
    expect((await forkOf(foundation))[0]?.records).toEqual([recordId(owner), recordId(stolen)].sort());
    for (const n of [province, foundation]) {
      const hubs = (await json<{ hubs: { id: string; status: string }[] }>(n, '/v1/state/hubs')).hubs;
      expect(hubs.find((h) => h.id === county.id)?.status).toBe('forked');
    }
  }, 60_000);
});

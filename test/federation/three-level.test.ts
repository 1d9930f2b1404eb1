import { afterAll, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../../nodes/hub/src/node.js';
import { eventually, needBody, post, reopen, startNode } from '../../nodes/hub/test/helpers.js';

type Running = Awaited<ReturnType<typeof startNode>>;

// Short intervals so the network converges within the test; real nodes pull every 30 s.
const fast: OpenOptions = { overrides: { federation: { pullIntervalMs: 250, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 } } };

const nodes: Running[] = [];
afterAll(async () => {
  for (const n of nodes) await n.node.close().catch(() => {});
});

async function hashOf(n: Running): Promise<string> {
  return ((await (await fetch(`${n.url}/v1/state/hash`)).json()) as { stateHash: string }).stateHash;
}

async function hasRecord(n: Running, id: string): Promise<boolean> {
  return (await fetch(`${n.url}/v1/records/${id}`)).status === 200;
}

async function admit(parent: Running, child: Running, level: string, region: string, withUrl = true): Promise<void> {
  const res = await post(`${parent.url}/v1/admissions`, { child: child.node.hubId, level, region, ...(withUrl ? { url: child.url } : {}) }, parent.token);
  expect(res.status).toBe(201);
}

describe('three-level network: province, city, two counties and a subscribing foundation', () => {
  it("delivers a county's need to the subscriber while the county is stopped, and every node converges", async () => {
    const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, fast);
    nodes.push(province);
    const city = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900', parent: province.url }, fast);
    nodes.push(city);
    await admit(province, city, 'city', '420900');
    const xiaonan = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902', parent: city.url }, fast);
    nodes.push(xiaonan);
    const hanchuan = await startNode({ name: '汉川市枢纽', level: 'county', region: '420984', parent: city.url }, fast);
    nodes.push(hanchuan);
    await admit(city, xiaonan, 'county', '420902');
    await admit(city, hanchuan, 'county', '420984');
    const foundation = await startNode({ name: '壹基金', level: 'national', region: '440300', follow: [province.url] }, fast);
    nodes.push(foundation);
    await admit(province, foundation, 'national', '440300', false);

    // Everyone learns every hub (inceptions, profiles, admissions) through the tree.
    const hubs = nodes.map((n) => n.node.hubId);
    await eventually(async () => {
      for (const n of nodes) {
        const heads = ((await (await fetch(`${n.url}/v1/heads`)).json()) as { heads: Record<string, number> }).heads;
        if (!hubs.every((h) => heads[h] !== undefined)) {
          if (process.env.DEBUG_FED)
            console.log(
              n.node.config.name,
              hubs.map((h) => heads[h]),
              JSON.stringify(await (await fetch(`${n.url}/v1/status`)).json()),
            );
          return false;
        }
      }
      return true;
    }, 150);

    // The county posts a need; the city has it (pushed at once), then the county goes down.
    const res = await post(`${xiaonan.url}/v1/needs`, needBody(), xiaonan.token);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await eventually(() => hasRecord(city, id));
    const countyPort = Number(new URL(xiaonan.url).port);
    await xiaonan.node.close();
    nodes.splice(nodes.indexOf(xiaonan), 1);

    // city → province (push) → foundation (pull), with the county stopped.
    await eventually(() => hasRecord(foundation, id), 150);
    const feed = (await (await fetch(`${foundation.url}/v1/feed?types=need.posted&region=4209`)).json()) as { records: { record: { hub: string } }[] };
    expect(feed.records.map((r) => r.record.hub)).toContain(xiaonan.node.hubId);

    // The county comes back on its port and catches up; all five agree.
    const back = await reopen(xiaonan.dir, fast, countyPort);
    nodes.push(back);
    await eventually(async () => {
      const hashes = await Promise.all(nodes.map(hashOf));
      const maxes = await Promise.all(nodes.map(async (n) => ((await (await fetch(`${n.url}/v1/status`)).json()) as { records: number }).records));
      return new Set(hashes).size === 1 && new Set(maxes).size === 1;
    }, 150);
    const hashes = await Promise.all(nodes.map(hashOf));
    expect(new Set(hashes).size).toBe(1);
  });
});

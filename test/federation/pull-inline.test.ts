import { afterAll, expect, it } from 'vitest';
import { eventually, needBody, post, startNode } from '../../nodes/hub/test/helpers.js';

const running: Awaited<ReturnType<typeof startNode>>[] = [];
afterAll(async () => {
  for (const n of running) await n.node.close().catch(() => {});
});

/**
 * A node started without worker threads (a small VM, the test suites) reads
 * pulled pages on its main thread: catch-up from the parent still brings
 * every record the parent holds.
 */
it('a node without worker threads catches up from its parent by pulling', async () => {
  const fast = { federation: { pullIntervalMs: 200, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 } };
  const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 0, overrides: fast });
  running.push(province);
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const res = await post(`${province.url}/v1/needs`, needBody({ quantity: 100 + i, region: '420100' }), province.token);
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  // The province never pushes to the city (the admission names no URL), so the
  // city gets these only by pulling.
  const city = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900', parent: province.url }, { threads: 0, overrides: fast });
  running.push(city);
  expect((await post(`${province.url}/v1/admissions`, { child: city.node.hubId, level: 'city', region: '420900' }, province.token)).status).toBe(201);
  await eventually(async () => {
    for (const id of ids) if ((await fetch(`${city.url}/v1/records/${id}`)).status !== 200) return false;
    return true;
  }, 150);
  const hash = async (n: (typeof running)[number]) => ((await (await fetch(`${n.url}/v1/state/hash`)).json()) as { stateHash: string }).stateHash;
  await eventually(async () => (await hash(city)) === (await hash(province)), 100);
});

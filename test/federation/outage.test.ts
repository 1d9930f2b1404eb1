import { afterAll, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../../nodes/hub/src/node.js';
import { eventually, needBody, post, reopen, startNode } from '../../nodes/hub/test/helpers.js';

type Running = Awaited<ReturnType<typeof startNode>>;
const running: Running[] = [];
afterAll(async () => {
  for (const n of running) await n.node.close().catch(() => {});
});

// Push only (no scheduled pull), fast back-off and parking, so the queue alone must deliver.
const pushOnly: OpenOptions = {
  overrides: { federation: { pullIntervalMs: 0, backoffBaseMs: 20, backoffMaxMs: 100, parkAfter: 3, parkMs: 300, requestTimeoutMs: 1000 } },
};

describe('push queues', () => {
  it('park a dead peer without slowing the others, then deliver everything it missed, oldest first', async () => {
    const province = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, pushOnly);
    running.push(province);
    const alive = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900', parent: province.url }, pushOnly);
    running.push(alive);
    const dead = await startNode({ name: '黄冈市枢纽', level: 'city', region: '421100', parent: province.url }, pushOnly);
    const deadPort = Number(new URL(dead.url).port);
    await post(`${province.url}/v1/admissions`, { child: alive.node.hubId, level: 'city', region: '420900', url: alive.url }, province.token);
    await post(`${province.url}/v1/admissions`, { child: dead.node.hubId, level: 'city', region: '421100', url: dead.url }, province.token);
    await eventually(() => alive.node.store.heads()[province.node.hubId] !== undefined && dead.node.store.heads()[province.node.hubId] !== undefined);
    await dead.node.close();

    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const res = await post(`${province.url}/v1/needs`, needBody({ quantity: i, region: '421100' }), province.token);
      ids.push(((await res.json()) as { id: string }).id);
    }
    // The live peer has everything while the dead one is failing and gets parked.
    await eventually(() => ids.every((id) => alive.node.store.hasRecord(id)));
    await eventually(() => province.node.store.peers().find((p) => p.url === dead.url)?.parked === true);

    const back = await reopen(dead.dir, pushOnly, deadPort);
    running.push(back);
    await eventually(() => ids.every((id) => back.node.store.hasRecord(id)));
    // The peer row is updated once the province has read the acks, just after the peer committed.
    await eventually(() => province.node.store.peers().find((p) => p.url === dead.url)?.failures === 0);
    const peer = province.node.store.peers().find((p) => p.url === dead.url);
    expect(peer?.parked).toBe(false);
    expect(peer?.failures).toBe(0);
    const order = ids.map((id) => back.node.store.recordById(id)?.ord as number);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

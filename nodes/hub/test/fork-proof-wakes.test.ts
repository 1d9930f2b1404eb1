import { Author } from '@shuniu/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { needBody, post, startNode, TestHub } from './helpers.js';

const nodes: Awaited<ReturnType<typeof startNode>>[] = [];
afterAll(async () => {
  for (const n of nodes) await n.node.close();
});

/**
 * Found by the network simulator (test/sim/seeds/fork-proof-wakes-queues.json): a fork proof is
 * stored beside the chain under a `rejected` E_FORK ack, and the commit listeners — push queues,
 * live feed — must run for it as for an accepted record, or a node with nothing stored after it
 * never forwards it and its peers keep another state hash.
 */
describe('a fork proof moves the ingest order like any stored record', () => {
  it('wakes the commit listeners and reaches a live-feed reader', async () => {
    const n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 0 });
    nodes.push(n);
    const county = await TestHub.make();
    expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    const thief = new Author({ hub: county.id, secretKey: county.hub.keys.signing.secretKey, head: { ...county.author.head }, wall: () => Date.now() });
    county.sign('need.posted', needBody({ quantity: 1 }));
    expect((await post(`${n.url}/v1/records`, county.records)).status).toBe(200);

    const before = n.node.store.maxOrd();
    const woken: number[] = [];
    n.node.ingestor.onCommit((max) => woken.push(max));
    // A reader of the live feed, caught up to `before`.
    let frames = '';
    let arrived!: () => void;
    const got = new Promise<void>((r) => {
      arrived = r;
    });
    const stream = n.node.liveFeed.admit('test', {}, true, before, () => {});
    void n.node.liveFeed.run(
      stream,
      {
        aborted: false,
        write: async (t: string) => {
          frames += t;
          if (frames.includes(`id: ${before + 1}\n`)) arrived();
        },
      },
      60_000,
    );

    const other = thief.sign('need.posted', needBody({ quantity: 2 })).record;
    const res = await post(`${n.url}/v1/records`, [other]);
    const { acks } = (await res.json()) as { acks: { status: string; code?: string }[] };
    expect(acks[0]).toMatchObject({ status: 'rejected', code: 'E_FORK' });
    expect(n.node.store.maxOrd()).toBe(before + 1);
    expect(woken).toEqual([before + 1]);
    await got;
    expect(frames).toContain(other.sig);
    n.node.liveFeed.end(stream);
  });
});

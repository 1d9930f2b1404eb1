import { Resolver } from '@shuniu/resolve';
import { describe, expect, it } from 'vitest';
import type { HubNode } from '../src/node.js';
import { storedRecord } from '../src/state.js';
import { eventually, needBody, reopen, startNode } from './helpers.js';

/** The state hash of the node's stored records, replayed into a resolver that keeps everything. */
function replayedHash(node: HubNode): string {
  const r = new Resolver({ roots: node.config.roots });
  for (const row of node.store.since(0, 1_000_000)) r.apply(storedRecord(row.json, row.id));
  return r.stateHash();
}

const finishedRows = (node: HubNode): number => (node.store.db.prepare('SELECT count(*) AS n FROM finished').get() as { n: number }).n;

// spec/node.md §10.4 letGoFinished, spec/resolution.md §11: finished objects leave the resolver's
// memory for the SQLite store's `finished` table after each commit and come back when a record needs
// them; the state served and its hash are those of a resolver that keeps everything.
describe('finished objects out of memory on SQLite (letGoFinished)', () => {
  it('a need received and closed leaves memory; a late receipt brings it back; restarts replay; the same hash throughout', async () => {
    const started = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, { overrides: { letGoFinished: true } });
    let { node } = started;
    const { url, dir } = started;
    const hub = node.hubId;
    const pub = node.publisher;
    const need = (await pub.publish('need.posted', needBody({ quantity: 100, unit: { name: 'box', base: 'piece', size: 50 } }))).id;
    const offer = (
      await pub.publish('offer.posted', {
        kind: 'goods',
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 100,
        unit: { name: 'box', base: 'piece', size: 50 },
        valueFen: 1_000_000,
        donor: { name: '壹基金', kind: 'foundation' },
        intent: { regions: ['42'] },
        region: '420900',
      })
    ).id;
    const alloc = (await pub.publish('allocation', { offer, need, quantity: 5000 })).id;
    await pub.publish('allocation.accepted', { allocation: alloc });
    const handoff = (
      await pub.publish('custody.handoff', {
        shipment: 'SH-1',
        from: hub,
        to: hub,
        lines: [{ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 100, unit: { name: 'box', base: 'piece', size: 50 } }],
        expectedArrival: '2020-01-26T00:00:00Z',
        allocations: [alloc],
      })
    ).id;
    const receipt = { handoff, lines: [{ line: 0, accepted: 100, rejected: 0, missing: 0 }], received: '2020-01-25T12:00:00Z' };
    await pub.publish('custody.receipt', receipt);
    await pub.publish('need.closed', { need, reason: 'fulfilled' });
    // A need not closed stays in memory (expired: its neededBy is long past).
    const open = (await pub.publish('need.posted', needBody())).id;

    await eventually(() => finishedRows(node) >= 4);
    const stored = (id: string) => node.store.db.prepare('SELECT map FROM finished WHERE id = ?').get(id) as { map: string } | undefined;
    expect(stored(need)?.map).toBe('needs');
    expect(stored(offer)?.map).toBe('offers');
    expect(stored(alloc)?.map).toBe('allocations');
    expect(stored(handoff)?.map).toBe('shipments');
    expect(stored(open)).toBeUndefined();
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    // Served from the store: the state routes see the finished need as it was.
    const needs = (await (await fetch(`${url}/v1/state/needs`)).json()) as { needs: { id: string; status: string; received: number }[] };
    expect(needs.needs.find((n) => n.id === need)).toMatchObject({ status: 'fulfilled', received: 5000 });
    expect(needs.needs.find((n) => n.id === open)?.status).toBe('expired');

    // A late correction of the receipt (10 boxes missing): the shipment and the need come back, are re-derived, and leave again.
    await pub.publish('custody.receipt', { ...receipt, lines: [{ line: 0, accepted: 90, rejected: 0, missing: 10 }] });
    await eventually(() => stored(handoff) !== undefined);
    expect(node.ingestor.engine.need(need)?.received).toBe(4500);
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    await node.close();

    // A restart replays into an empty table; the same state again, finished objects out of memory again after the next commit.
    ({ node } = await reopen(dir, { overrides: { letGoFinished: true } }));
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    await node.publisher.publish('need.posted', needBody());
    await eventually(() => finishedRows(node) >= 4);
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    await node.close();

    // And without the option, the same data directory: everything in memory, the same hash.
    ({ node } = await reopen(dir));
    expect(node.config.letGoFinished).toBe(false);
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    await node.close();
  });
});

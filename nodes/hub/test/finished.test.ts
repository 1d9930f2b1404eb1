import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Resolver } from '@shuniu/resolve';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE } from '../src/checkpoint-file.js';
import { DB_FILE } from '../src/config.js';
import type { HubNode } from '../src/node.js';
import { type ResolverState, storedRecord } from '../src/state.js';
import { eventually, needBody, reopen, startNode } from './helpers.js';

/** The node's stored records replayed into a resolver that keeps everything. */
function replayed(node: HubNode): Resolver {
  const r = new Resolver({ roots: node.config.roots });
  for (const row of node.store.since(0, 1_000_000)) r.apply(storedRecord(row.json, row.id));
  return r;
}

/** The state hash of the node's stored records, replayed into a resolver that keeps everything. */
function replayedHash(node: HubNode): string {
  return replayed(node).stateHash();
}

const finishedRows = (node: HubNode): number => (node.store.db.prepare('SELECT count(*) AS n FROM finished').get() as { n: number }).n;

// spec/node.md §10.4 letGoFinished, spec/resolution.md §11: finished objects leave the resolver's
// memory for the SQLite store's `finished` table after each commit and come back when a record needs
// them; the state served and its hash are those of a resolver that keeps everything.
describe('finished objects out of memory on SQLite (letGoFinished)', () => {
  it('a need received and closed leaves memory; a late receipt brings it back; a restart reads the open state written at shutdown, a crash replays; the same hash throughout', async () => {
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
    const hashBefore = node.ingestor.engine.stateHash();
    await node.close();

    // Shutdown wrote the open state (spec/node.md §10.4): the finished objects are in the table, not in the file
    // (the shipment's body, 'SH-1', is written only with the handoff, which left memory).
    const text = readFileSync(join(dir, CHECKPOINT_FILE), 'utf8');
    const snap = JSON.parse(text.slice(text.indexOf('\n') + 1)) as { open?: boolean; stateHash: string };
    expect(snap.open).toBe(true);
    expect(snap.stateHash).toBe(hashBefore);
    expect(text.includes('SH-1')).toBe(false);
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    const rows = (db.prepare('SELECT count(*) AS n FROM finished').get() as { n: number }).n;
    db.close();
    expect(rows).toBeGreaterThanOrEqual(4);

    // A restart reads it over the table instead of replaying (a replay empties the table first): the state of a full
    // replay (with the record the node itself publishes at start), nothing loaded back, and the file removed (the
    // table changes from now on; a crash then replays).
    ({ node } = await reopen(dir, { overrides: { letGoFinished: true } }));
    expect(finishedRows(node)).toBe(rows);
    expect(existsSync(join(dir, CHECKPOINT_FILE))).toBe(false);
    const resolver = (node.ingestor.engine as ResolverState).resolver;
    expect(resolver.objectCounts()).toEqual({ out: 0, back: 0 });
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    // A late record touching the finished shipment after the restart: it comes back from the table; the state of a full replay.
    await node.publisher.publish('custody.receipt', { ...receipt, lines: [{ line: 0, accepted: 95, rejected: 0, missing: 5 }] });
    expect(node.ingestor.engine.need(need)?.received).toBe(4750);
    expect(resolver.objectCounts().back).toBeGreaterThan(0);
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    expect(node.ingestor.engine.resolved()).toEqual(replayed(node).state());
    await node.publisher.publish('need.posted', needBody());
    await eventually(() => stored(handoff) !== undefined);
    expect(node.ingestor.engine.stateHash()).toBe(replayedHash(node));
    await node.close();

    // A crash after a start from the open state leaves no checkpoint (the start removed it, and only a shutdown writes
    // one): the next start replays into an emptied table.
    ({ node } = await reopen(dir, { overrides: { letGoFinished: true } }));
    expect(existsSync(join(dir, CHECKPOINT_FILE))).toBe(false);
    await node.close();
    rmSync(join(dir, CHECKPOINT_FILE));
    ({ node } = await reopen(dir, { overrides: { letGoFinished: true } }));
    expect(finishedRows(node)).toBe(0);
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

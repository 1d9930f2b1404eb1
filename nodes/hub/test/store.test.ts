import { join } from 'node:path';
import { assumeVerified, recordId } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/store/postgres.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';
import { needBody, TestHub, tempDir } from './helpers.js';
import { storeBackends } from './pg.js';

// The same suite against both stores (the PostgreSQL one in a throwaway server).
// appendRecord writes a hub's row once per transaction, at its end: what the
// hubs table says must not depend on that.
for (const backend of storeBackends())
  describe.skipIf(!backend.available)(`${backend.name} store: chain heads`, () => {
    const tmp = tempDir();
    let store: Store;
    beforeAll(async () => {
      await backend.setup();
      const url = backend.storeUrl();
      store = url ? new PostgresStore(url) : new SqliteStore(join(tmp.dir, 'store.db'));
    });
    afterAll(() => {
      store?.close();
      backend.teardown();
      tmp.cleanup();
    });

    it('shows each append at once inside its transaction, keeps it after COMMIT and drops it on rollback', async () => {
      const h = await TestHub.make();
      for (let i = 0; i < 4; i++) h.sign('need.posted', needBody({ quantity: 1 + i }));
      const inc = h.records[0] as { body: { signingKey: string; encryptionKey: string; recoveryCommitment: string } };
      const keys = { signingKey: inc.body.signingKey, encryptionKey: inc.body.encryptionKey, recoveryCommitment: inc.body.recoveryCommitment };
      const append = (i: number) => {
        const r = h.records[i] as (typeof h.records)[0];
        store.appendRecord(assumeVerified(r, recordId(r)), keys, { source: 'test', recovery: false, now: 1 });
      };
      store.transaction(() => {
        append(0);
        expect(store.chainView(h.id)?.head.seq).toBe(0);
        append(1);
        append(2);
        expect(store.heads()[h.id]).toBe(2);
        expect(store.hubProfiles().find((p) => p.hub === h.id)?.headSeq).toBe(2);
      });
      expect(store.chainView(h.id)?.head).toEqual({ seq: 2, id: recordId(h.records[2] as (typeof h.records)[0]), hlc: h.records[2]?.hlc });
      expect(() =>
        store.transaction(() => {
          append(3);
          throw new Error('no');
        }),
      ).toThrow('no');
      expect(store.heads()[h.id]).toBe(2);
      // A nested transaction rolled back keeps what its outer one wrote before it.
      store.transaction(() => {
        append(3);
        expect(() =>
          store.transaction(() => {
            append(4);
            throw new Error('inner');
          }),
        ).toThrow('inner');
      });
      expect(store.heads()[h.id]).toBe(3);
      // Outside a transaction the row is written at once.
      append(4);
      expect(store.heads()[h.id]).toBe(4);
    });

    it('gives a push queue the records after its cursor that did not come from the peer, and how far the cursor moves', async () => {
      const h = await TestHub.make();
      for (let i = 0; i < 6; i++) h.sign('need.posted', needBody({ quantity: 1 + i }));
      const inc = h.records[0] as { body: { signingKey: string; encryptionKey: string; recoveryCommitment: string } };
      const keys = { signingKey: inc.body.signingKey, encryptionKey: inc.body.encryptionKey, recoveryCommitment: inc.body.recoveryCommitment };
      const from = ['peer', 'peer', 'local', 'peer', 'local', 'local', 'peer'];
      const start = store.maxOrd();
      const ords = store.transaction(() =>
        h.records.map((r, i) => store.appendRecord(assumeVerified(r, recordId(r)), keys, { source: from[i] as string, recovery: false, now: 1 })),
      );
      const mine = ords.filter((_, i) => from[i] !== 'peer');
      // Everything fits: the cursor moves to the newest record, past the peer's own.
      expect(store.outbound(start, 'peer', 10)).toEqual({
        rows: store
          .since(start, 10)
          .filter((r) => r.source !== 'peer')
          .map(({ source: _s, ...r }) => r),
        through: ords[6],
      });
      // A full batch: the cursor moves to its last record.
      const two = store.outbound(start, 'peer', 2);
      expect(two.rows.map((r) => r.ord)).toEqual(mine.slice(0, 2));
      expect(two.through).toBe(mine[1]);
      // Only the peer's records left: nothing to send, the cursor still moves past them.
      expect(store.outbound(mine[2] as number, 'peer', 10)).toEqual({ rows: [], through: ords[6] });
      expect(store.outbound(ords[6] as number, 'peer', 10)).toEqual({ rows: [], through: ords[6] });
    });
  });

// A peer's row is soft state (spec/node.md §10.3): written without an fsync of its own, and the
// connection back to synchronous = FULL after it, inside a transaction or not, so records stay durable.
describe('sqlite store: peer soft state', () => {
  const tmp = tempDir();
  it('updates a peer under synchronous NORMAL and leaves the connection at FULL for records', () => {
    const store = new SqliteStore(join(tmp.dir, 'peers.db'));
    try {
      store.upsertPeer({ url: 'http://127.0.0.1:9/', role: 'child' });
      const level = () => store.db.pragma('synchronous', { simple: true });
      expect(level()).toBe(2);
      store.updatePeer('http://127.0.0.1:9/', { cursor: 5, failures: 0, lastError: null });
      expect(level()).toBe(2);
      store.transaction(() => store.updatePeer('http://127.0.0.1:9/', { cursor: 7 }));
      expect(level()).toBe(2);
      expect(store.peers().find((p) => p.url === 'http://127.0.0.1:9/')?.cursor).toBe(7);
      // A failing update (no such column) still puts FULL back.
      expect(() => store.updatePeer('http://127.0.0.1:9/', { cursor: 'x' as unknown as number, hub: {} as unknown as string })).toThrow();
      expect(level()).toBe(2);
    } finally {
      store.close();
    }
  });
});

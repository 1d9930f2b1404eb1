// A node opens a database of every earlier schema version (issue 14 point 8): each is migrated to
// the latest in order, keeps its rows and works afterwards (nodes/hub/src/store/migrations.ts).
import { join } from 'node:path';
import { assumeVerified, recordId, type SignedRecord } from '@shuniu/protocol';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { needBody, TestHub, tempDir } from './helpers.js';

const LATEST = (MIGRATIONS[MIGRATIONS.length - 1] as { version: number }).version;

describe('schema migrations', () => {
  it('versions are 1, 2, … with no gap or repeat', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: LATEST }, (_, i) => i + 1));
  });

  for (let from = 1; from < LATEST; from++) {
    it(`opens a database at version ${from}: migrated to ${LATEST}, its records, chain heads and held rows kept, and it takes new records`, async () => {
      const tmp = tempDir();
      try {
        const path = join(tmp.dir, 'hub.db');
        const h = await TestHub.make();
        h.sign('need.posted', needBody({ quantity: 10 }));
        h.sign('need.posted', needBody({ quantity: 20 }));
        const stranger = await TestHub.make();
        const [inc, need] = h.records as [SignedRecord, SignedRecord, SignedRecord];
        const keys = inc.body as unknown as { signingKey: string; encryptionKey: string; recoveryCommitment: string };
        // The database as a node of version `from` left it (columns of version 1 exist in every later one).
        const db = new Database(path);
        for (const m of MIGRATIONS) if (m.version <= from) db.exec(m.sql);
        db.pragma(`user_version = ${from}`);
        const addRecord = db.prepare('INSERT INTO records (id, hub, seq, type, source, received_ms, json) VALUES (?, ?, ?, ?, ?, ?, ?)');
        for (const r of [inc, need]) addRecord.run(recordId(r), r.hub, r.seq, r.type, 'test', 1, JSON.stringify(r));
        db.prepare(
          'INSERT INTO hubs (hub, head_seq, head_id, hlc_ms, hlc_c, signing_key, encryption_key, recovery_commitment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(h.id, 1, recordId(need), need.hlc.ms, need.hlc.c, keys.signingKey, keys.encryptionKey, keys.recoveryCommitment);
        const held = stranger.records[0] as SignedRecord;
        // From version 7 on, a node writes each held row's bytes itself.
        const heldRow = [recordId(held), held.hub, 0, JSON.stringify(held), 'addr:127.0.0.9', Date.now()];
        if (from >= 7)
          db.prepare('INSERT INTO held (id, hub, seq, json, source, received_ms, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
            ...heldRow,
            Buffer.byteLength(JSON.stringify(held)),
          );
        else db.prepare('INSERT INTO held (id, hub, seq, json, source, received_ms) VALUES (?, ?, ?, ?, ?, ?)').run(...heldRow);
        db.close();

        const store = new SqliteStore(path);
        try {
          expect(store.schemaVersion()).toBe(LATEST);
          expect(store.recordById(recordId(need))?.json).toBe(JSON.stringify(need));
          expect(store.heads()[h.id]).toBe(1);
          const area = store.heldSummary();
          expect(area.reduce((n, s) => n + s.records, 0)).toBe(1);
          // Version 7 counts held bytes; a row from before it is counted by the migration.
          expect(area.reduce((n, s) => n + s.bytes, 0)).toBe(Buffer.byteLength(JSON.stringify(held)));
          const next = h.records[2] as SignedRecord;
          store.appendRecord(assumeVerified(next, recordId(next)), keys, { source: 'test', recovery: false, now: 2 });
          expect(store.heads()[h.id]).toBe(2);
        } finally {
          store.close();
        }
      } finally {
        tmp.cleanup();
      }
    });
  }
});

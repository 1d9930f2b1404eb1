import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../nodes/hub/src/store/sqlite.js';
import { acksOf, checkAnswer, figure, needBody, post, replay, snapshot, startNode, TestHub } from './lib/harness.js';

type Running = Awaited<ReturnType<typeof startNode>>;
let n: Running;
let hub: TestHub;

beforeAll(async () => {
  n = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, { threads: 0, overrides: { limits: { ratePerSecond: 0 } } });
  hub = await TestHub.make();
  expect((await post(`${n.url}/v1/admissions`, { child: hub.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
  expect((await post(`${n.url}/v1/records`, hub.records)).status).toBe(200);
});
afterAll(async () => {
  await n.node.close();
});

/** This suite's faults are SQLite's (PRAGMA max_page_count, integrity_check); PostgreSQL's are in test/reliability/pg-processes.test.ts. */
function lite(): SqliteStore {
  const s = n.node.store;
  if (!(s instanceof SqliteStore)) throw new Error('this suite runs on the SQLite store');
  return s;
}

/** After a refused write the node must hold exactly what it held, intact, and still equal a fresh replay. */
function intact(): void {
  expect(lite().db.pragma('integrity_check', { simple: true })).toBe('ok');
  const r = replay(n.node);
  expect(r.broken).toEqual([]);
  expect(n.node.ingestor.engine.stateHash()).toBe(r.hash);
}

describe('resource limits', () => {
  it('a full disk (PRAGMA max_page_count) gives E_STORAGE 503, nothing half-stored, no corruption; writes resume with space', async () => {
    const db = lite().db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const signed = [];
    let pushRefused = false;
    let opRefused = false;
    try {
      // Fill what is left of the last pages, one record at a time, until the store refuses.
      for (let i = 0; i < 2000 && !pushRefused; i++) {
        const r = hub.sign('need.posted', needBody({ quantity: 1 + i, requester: { name: `医院 ${i} ${'长'.repeat(150)}`, kind: 'hospital' } }));
        signed.push(r);
        const before = snapshot(n.node);
        const c = await checkAnswer(await post(`${n.url}/v1/records`, [r, hub.records[0]]));
        expect(c.faults).toEqual([]);
        if (c.problem) {
          expect(c.problem).toMatchObject({ code: 'E_STORAGE', status: 503 });
          expect(snapshot(n.node)).toEqual(before);
          pushRefused = true;
        }
      }
      for (let i = 0; i < 200 && !opRefused; i++) {
        const before = snapshot(n.node);
        const c = await checkAnswer(await post(`${n.url}/v1/needs`, needBody({ quantity: 7 + i }), n.token));
        expect(c.faults).toEqual([]);
        if (c.problem) {
          expect(c.problem).toMatchObject({ code: 'E_STORAGE', status: 503 });
          expect(snapshot(n.node)).toEqual(before);
          opRefused = true;
        }
      }
      intact();
      // Records reach the resolver only after their COMMIT (spec/node.md §3.1): refused batches of needs left it untouched, nothing was rebuilt.
      expect(n.node.ingestor.rebuilds).toBe(0);
    } finally {
      db.pragma('max_page_count = 1073741823');
    }
    expect(pushRefused).toBe(true);
    expect(opRefused).toBe(true);
    const again = await checkAnswer(await post(`${n.url}/v1/records`, signed));
    expect(acksOf(again).every((a) => a.status === 'accepted' || a.status === 'duplicate')).toBe(true);
    // The operator's chain neither forks nor skips after its failed write.
    expect((await post(`${n.url}/v1/needs`, needBody({ quantity: 7 }), n.token)).status).toBe(201);
    intact();
    figure('disk-full', { pagesAtLimit: pages, recordsUntilFull: signed.length });
  });

  it('a batch that fails after a trust record was applied before its COMMIT rebuilds the resolver to exactly what is stored', async () => {
    const db = lite().db;
    const before = n.node.ingestor.rebuilds;
    const hash = n.node.ingestor.engine.stateHash();
    const snap = snapshot(n.node);
    // A profile (trust is computed from it: applied at once), then a need one seq too far (held: the holding area's table is gone).
    const profile = hub.sign('hub.profile', { name: { zh: '孝南区枢纽' }, level: 'county', region: '420902', endpoints: [] });
    hub.sign('need.posted', needBody({ quantity: 11 }));
    const beyond = hub.sign('need.posted', needBody({ quantity: 12 }));
    db.exec('ALTER TABLE held RENAME TO held_away');
    try {
      const c = await checkAnswer(await post(`${n.url}/v1/records`, [profile, beyond]));
      expect(c.faults).toEqual([]);
      expect(c.problem).toMatchObject({ code: 'E_STORAGE', status: 503 });
    } finally {
      db.exec('ALTER TABLE held_away RENAME TO held');
    }
    expect(snapshot(n.node)).toEqual(snap);
    expect(n.node.ingestor.rebuilds).toBe(before + 1);
    expect(n.node.ingestor.engine.stateHash()).toBe(hash);
    intact();
    // Sent again with the holding area back, the batch is stored whole.
    const again = await checkAnswer(await post(`${n.url}/v1/records`, hub.records.slice(-3)));
    expect(acksOf(again).map((a) => a.status)).toEqual(['accepted', 'accepted', 'accepted']);
    intact();
  });

  it('a database locked by another connection gives E_STORAGE 503 after the busy timeout, and no corruption', async () => {
    const other = new SqliteStore(join(n.dir, 'hub.db'));
    const before = snapshot(n.node);
    const r = hub.sign('need.posted', needBody({ quantity: 3 }));
    try {
      other.db.exec('BEGIN EXCLUSIVE');
      const c = await checkAnswer(await post(`${n.url}/v1/records`, [r]));
      expect(c.faults).toEqual([]);
      expect(c.problem).toMatchObject({ code: 'E_STORAGE', status: 503 });
      // Reads keep working while a writer holds the lock (WAL).
      expect((await fetch(`${n.url}/v1/heads`)).status).toBe(200);
      expect(snapshot(n.node)).toEqual(before);
    } finally {
      other.db.exec('ROLLBACK');
      other.close();
    }
    const again = await checkAnswer(await post(`${n.url}/v1/records`, [r]));
    expect(acksOf(again)[0]?.status).toBe('accepted');
    intact();
  }, 30_000);
});

// Several `shuniu start` processes on one PostgreSQL database serve one hub (spec/node.md §10.5):
// the hub's chain never forks, every process's resolver and live feed see every commit, nothing
// acknowledged is lost when one process is killed with SIGKILL, and a PostgreSQL restart gives
// E_STORAGE 503 while it is down and writes resume after. A throwaway server (nodes/hub/test/pg.ts).
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { recordId, type SignedRecord } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDataDir } from '../../nodes/hub/src/node.js';
import { PostgresStore } from '../../nodes/hub/src/store/postgres.js';
import { PG_AVAILABLE, type PgServer, startPostgres } from '../../nodes/hub/test/pg.js';
import { kill9, startProcess } from './lib/crash.js';
import { eventually, needBody, post, replayRows, TestHub, tempDir } from './lib/harness.js';

interface Proc {
  child: ChildProcess;
  url: string;
  token: string;
}

/** A copy of the data directory (same keys, token key, config) started on the shared database. */
async function startOn(dir: string, store: string): Promise<Proc> {
  rmSync(join(dir, 'signin-link.txt'), { force: true });
  const { child, url } = await startProcess(dir, 0, { SHUNIU_STORE: store, SHUNIU_RATE_PER_SECOND: '0' });
  // `start` prints its URL, then writes the sign-in link.
  const file = join(dir, 'signin-link.txt');
  await eventually(() => existsSync(file) && readFileSync(file, 'utf8').includes('\n'));
  const link = readFileSync(file, 'utf8').trim();
  return { child, url, token: link.slice(link.indexOf('#token=') + 7) };
}

/** The hub's chain as stored: seqs 0..head without a gap, each record's prev the one before it, no fork proof. */
function chainIntact(store: PostgresStore, hub: string): { head: number; gaps: number[] } {
  const rows = store.log(hub, -1, 1_000_000);
  const gaps: number[] = [];
  let prev: string | null = null;
  rows.forEach((r, i) => {
    const rec = JSON.parse(r.json) as SignedRecord;
    if (r.seq !== i || rec.prev !== prev) gaps.push(r.seq);
    prev = r.id;
  });
  return { head: rows.length - 1, gaps };
}

/** The processes' state hashes all equal a replay of the whole database. */
async function sameStateAs(db: PostgresStore, roots: string[], procs: Proc[]): Promise<void> {
  const hashOf = async (p: Proc) => ((await (await fetch(`${p.url}/v1/state/hash`)).json()) as { stateHash: string }).stateHash;
  await eventually(async () => {
    const replayed = replayRows(db.since(0, 1_000_000), roots);
    expect(replayed.broken).toEqual([]);
    const got = await Promise.all(procs.map(hashOf));
    return got.every((h) => h === replayed.hash);
  });
}

describe.skipIf(!PG_AVAILABLE)('several node processes on one PostgreSQL database', () => {
  let pg: PgServer;
  let url: string;
  let db: PostgresStore;
  let hubId: string;
  let a: Proc;
  let b: Proc;
  const dirs = [tempDir(), tempDir()];
  const counties: TestHub[] = [];
  const sameState = () => sameStateAs(db, [hubId], [a, b]);

  beforeAll(async () => {
    pg = await startPostgres();
    url = pg.database();
    const [d1, d2] = dirs.map((d) => d.dir) as [string, string];
    ({ hubId } = await initDataDir({ dir: d1, name: '湖北省枢纽', level: 'province', region: '420000', port: 0 }));
    cpSync(d1, d2, { recursive: true });
    // The first process fills the empty database from the data directory; the second finds it filled.
    a = await startOn(d1, url);
    b = await startOn(d2, url);
    db = new PostgresStore(url, { pollMs: 0 });
    for (let i = 0; i < 4; i++) counties.push(await TestHub.make());
  }, 120_000);

  afterAll(async () => {
    for (const p of [a, b]) if (p) await kill9(p.child);
    db?.close();
    pg?.destroy();
    for (const d of dirs) d.cleanup();
  });

  it("both take operator writes at once: the hub's chain never forks, and each process's resolver sees the other's", async () => {
    const before = chainIntact(db, hubId).head;
    // Admissions signed by both processes concurrently, each acknowledged after its COMMIT.
    const answers = await Promise.all(
      counties.map((c, i) => {
        const p = i % 2 === 0 ? a : b;
        return post(`${p.url}/v1/admissions`, { child: c.id, level: 'county', region: ['420902', '420921', '420922', '420923'][i] as string }, p.token);
      }),
    );
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const more = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => post(`${(i % 2 ? a : b).url}/v1/needs`, needBody({ quantity: 100 + i }), (i % 2 ? a : b).token)),
    );
    expect(more.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(chainIntact(db, hubId)).toEqual({ head: before + 4 + 6, gaps: [] });
    expect(db.forks()).toEqual([]);
    // Each process's resolver holds every record either committed: both equal a replay of the database.
    await sameState();
  });

  it("a process's live feed carries what the other process committed", async () => {
    const ctl = new AbortController();
    const res = await fetch(`${b.url}/v1/feed/live`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let text = '';
    while (!text.includes('event: ready')) text += dec.decode((await reader.read()).value);
    const c = counties[0] as TestHub;
    c.sign('need.posted', needBody({ quantity: 7 }));
    const pushed = await post(`${a.url}/v1/records`, c.records);
    expect(pushed.status).toBe(200);
    const last = c.records[c.records.length - 1] as SignedRecord;
    const want = `"sig":"${last.sig}"`;
    while (!text.includes(want)) text += dec.decode((await reader.read()).value);
    ctl.abort();
    expect(text).toContain(want);
  });

  it('one process works a push queue at a time; the lease passes on when its holder stops renewing it', async () => {
    const other = new PostgresStore(url, { pollMs: 0 });
    try {
      expect(db.lease('push http://peer.test', 'p1', 60_000)).toBe(true);
      expect(other.lease('push http://peer.test', 'p2', 60_000)).toBe(false);
      expect(db.lease('push http://peer.test', 'p1', 1)).toBe(true); // renewed, to expire at once
      // p1 died (it renews no more): p2 takes the queue once the lease ran out by the database's clock.
      await eventually(() => other.lease('push http://peer.test', 'p2', 60_000));
      expect(db.lease('push http://peer.test', 'p1', 60_000)).toBe(false);
    } finally {
      other.close();
    }
  });

  it('kill -9 of one process while clients push through both: nothing acknowledged is lost, chains intact, the survivor serves', async () => {
    // Every county's records so far (its inception first), through either process.
    for (const [i, c] of counties.entries()) expect((await post(`${(i % 2 ? a : b).url}/v1/records`, c.records)).status).toBe(200);
    const acked = new Set<string>();
    let killed = false;
    const perClient = 60;
    const clients = counties.map(async (c, ci) => {
      for (let i = 0; i < perClient; i += 3) {
        const batch = [0, 1, 2].map((k) => c.sign('need.posted', needBody({ quantity: 1 + i + k })));
        // Like a reverse proxy: half the clients start on the process that gets killed, and move on when it is gone.
        for (let attempt = 0; ; attempt++) {
          const target = ci % 2 === 0 && !killed ? a : b;
          let res: Response;
          try {
            res = await post(`${target.url}/v1/records`, batch);
          } catch {
            if (attempt > 50) throw new Error('no process answers');
            continue;
          }
          if (res.status !== 200) {
            // 503 while the killed process's transaction is rolled back: the batch is sent again.
            if (attempt > 50) throw new Error(`HTTP ${res.status}`);
            continue;
          }
          const body = (await res.json()) as { acks: { id: string; status: string }[] };
          for (const ack of body.acks) if (ack.status === 'accepted' || ack.status === 'duplicate') acked.add(ack.id);
          break;
        }
        if (ci === 0 && i === 27) {
          await kill9(a.child);
          killed = true;
        }
      }
    });
    // Operator writes through the survivor meanwhile.
    const ops = (async () => {
      for (let i = 0; i < 5; i++) expect((await post(`${b.url}/v1/needs`, needBody({ quantity: 500 + i }), b.token)).status).toBe(201);
    })();
    await Promise.all([...clients, ops]);
    expect(killed).toBe(true);
    expect(acked.size).toBe(counties.length * perClient);
    const lost = [...acked].filter((id) => !db.hasRecord(id));
    expect(lost).toEqual([]);
    for (const c of counties) expect(chainIntact(db, c.id).gaps).toEqual([]);
    expect(chainIntact(db, hubId).gaps).toEqual([]);
    expect(db.forks()).toEqual([]);
    // The survivor's resolver equals a replay of the database.
    await sameStateAs(db, [hubId], [b]);
    // A process started again on the same database serves the same state.
    a = await startOn(dirs[0]?.dir as string, url);
    await sameState();
  });

  it('a PostgreSQL restart under load: E_STORAGE 503 while it is down, writes resume after, nothing lost', async () => {
    const c = counties[1] as TestHub;
    pg.stop('fast');
    const down = await post(`${b.url}/v1/records`, [c.sign('need.posted', needBody({ quantity: 9 }))]);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { code: string }).code).toBe('E_STORAGE');
    const op = await post(`${a.url}/v1/needs`, needBody({ quantity: 9 }), a.token);
    expect(op.status).toBe(503);
    expect(((await op.json()) as { code: string }).code).toBe('E_STORAGE');
    pg.start();
    // The refused record is sent again once the server is back (the first request after it may still meet the old connection).
    await eventually(async () => (await post(`${b.url}/v1/records`, c.records.slice(-1))).status === 200);
    await eventually(async () => (await post(`${a.url}/v1/needs`, needBody({ quantity: 10 }), a.token)).status === 201);
    db.close();
    db = new PostgresStore(url, { pollMs: 0 });
    expect(db.hasRecord(recordId(c.records[c.records.length - 1] as SignedRecord))).toBe(true);
    expect(chainIntact(db, c.id).gaps).toEqual([]);
    expect(chainIntact(db, hubId).gaps).toEqual([]);
    expect(db.forks()).toEqual([]);
    await sameState();
  });
});

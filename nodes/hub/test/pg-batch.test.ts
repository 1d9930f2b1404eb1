import { assumeVerified, recordId } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishConnection, libpq, PostgresStore } from '../src/store/postgres.js';
import { needBody, post, startNode, TestHub } from './helpers.js';
import { storeBackends } from './pg.js';

// The PostgreSQL store's write path (issue 16, bench national): a transaction's record rows go in
// one INSERT, under ords given in order under the write lock; the lock can be tried without waiting.
const pg = storeBackends().find((b) => b.name === 'postgres');
if (!pg) throw new Error('no PostgreSQL backend');

describe.skipIf(!pg.available)('PostgreSQL store: one INSERT a transaction, ords given under the write lock', () => {
  let url: string;
  const open: PostgresStore[] = [];
  const store = () => {
    const s = new PostgresStore(url, { pollMs: 0 });
    open.push(s);
    return s;
  };
  beforeAll(async () => {
    await pg.setup();
    url = pg.storeUrl() as string;
  });
  afterAll(() => {
    for (const s of open) s.close();
    pg.teardown();
  });

  async function hub(n: number) {
    const h = await TestHub.make();
    for (let i = 1; i < n; i++) h.sign('need.posted', needBody({ quantity: i }));
    const inc = h.records[0] as { body: { signingKey: string; encryptionKey: string; recoveryCommitment: string } };
    const keys = { signingKey: inc.body.signingKey, encryptionKey: inc.body.encryptionKey, recoveryCommitment: inc.body.recoveryCommitment };
    const append = (s: PostgresStore, i: number) => {
      const r = h.records[i] as (typeof h.records)[0];
      return s.appendRecord(assumeVerified(r, recordId(r)), keys, { source: 'test', recovery: false, now: 1 });
    };
    return { h, append, id: (i: number) => recordId(h.records[i] as (typeof h.records)[0]) };
  }

  it('reads its own unsent rows inside the transaction, and gives a rolled-back savepoint’s ords again: no gap', async () => {
    const s = store();
    const { h, append, id } = await hub(4);
    const start = s.maxOrd();
    const ords = s.transaction(() => {
      const a = [append(s, 0), append(s, 1)];
      // Any statement sends the rows first: the reads see them.
      expect(s.hasRecord(id(1))).toBe(true);
      expect(s.recordById(id(1))?.ord).toBe(a[1]);
      expect(s.since(start, 10).map((r) => r.id)).toEqual([id(0), id(1)]);
      expect(() =>
        s.transaction(() => {
          append(s, 2);
          throw new Error('inner');
        }),
      ).toThrow('inner');
      a.push(append(s, 2), append(s, 3));
      return a;
    });
    expect(ords).toEqual([start + 1, start + 2, start + 3, start + 4]);
    expect(s.since(start, 10).map((r) => [r.ord, r.id])).toEqual(ords.map((o, i) => [o, id(i)]));
    expect(s.chainView(h.id)?.head.seq).toBe(3);
    // A failed transaction's rows never reach the database; the next one gives their ords again.
    const { append: other, id: otherId } = await hub(2);
    expect(() =>
      s.transaction(() => {
        other(s, 0);
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(s.hasRecord(otherId(0))).toBe(false);
    expect(other(s, 0)).toBe(start + 5);
  });

  it('stores each record text of one INSERT exactly as given: quotes, backslashes, escapes, non-ASCII (the texts go joined by U+001F)', async () => {
    const s = store();
    const h = await TestHub.make();
    const names = ['引号 "quoted" \\ back\\slash', 'line\nbreak\ttab \u0001 \u2028 \ud83d\ude91', '', 'a,b{c}"NULL"'];
    for (const name of names) h.sign('need.posted', needBody({ requester: { name: name || 'x', kind: 'hospital', region: '420902' } }));
    const inc = h.records[0] as { body: { signingKey: string; encryptionKey: string; recoveryCommitment: string } };
    const keys = { signingKey: inc.body.signingKey, encryptionKey: inc.body.encryptionKey, recoveryCommitment: inc.body.recoveryCommitment };
    // Texts as a pushed batch may carry them: compact JSON, escapes as JSON.stringify writes them or not.
    const texts = h.records.map((r, i) => (i === 2 ? JSON.stringify(r).replace('\\n', '\\u000a') : JSON.stringify(r)));
    s.transaction(() => {
      h.records.forEach((r, i) => {
        s.appendRecord(assumeVerified(r, recordId(r)), keys, { source: 'src "1" \\ \n', recovery: false, now: 1, json: texts[i] as string });
      });
    });
    h.records.forEach((r, i) => {
      expect(s.recordById(recordId(r))?.json).toBe(texts[i]);
    });
    expect(s.since(0, 1000).find((r) => r.id === recordId(h.records[1] as (typeof h.records)[0]))?.source).toBe('src "1" \\ \n');
    // A text holding U+001F raw (never a JSON text) is refused before anything is sent.
    const bad = h.records[1] as (typeof h.records)[0];
    const { append } = await hub(1);
    expect(() =>
      s.transaction(() => {
        append(s, 0);
        s.appendOffChain(assumeVerified(bad, 'x'.repeat(43)), { source: 'test', now: 1, json: '{"a":"\u001f"}' } as never);
      }),
    ).toThrow('U+001F');
  });

  it('refuses a record row stored without its ord (a process of an older version): no number out of order', () => {
    const pq = new (libpq())();
    try {
      pq.connectSync(url);
      pq.exec("INSERT INTO records (id, hub, seq, type, source, received_ms, json) VALUES ('x', 'h', 0, 'hub.inception', 'test', 1, '{}')");
      expect(pq.resultErrorFields()?.sqlState).toBe('23502'); // not_null_violation on ord
    } finally {
      finishConnection(pq);
    }
  });

  it('tryBegin: false while another process holds the write lock, true once it is free; the next transaction runs under it', async () => {
    const s = store();
    const { append, id } = await hub(1);
    const other = new (libpq())();
    try {
      other.connectSync(url);
      other.exec(`BEGIN; SELECT pg_advisory_xact_lock(${0x5348_0001})`);
      expect(other.resultStatus()).toBe('PGRES_TUPLES_OK');
      expect(s.tryBegin()).toBe(false);
      // Not left inside a transaction: a read outside one still answers.
      expect(s.hasRecord(id(0))).toBe(false);
      other.exec('ROLLBACK');
      expect(s.tryBegin()).toBe(true);
      const ord = s.transaction(() => append(s, 0));
      expect(s.recordById(id(0))?.ord).toBe(ord);
      // Its COMMIT released the lock.
      other.exec(`BEGIN; SELECT pg_try_advisory_xact_lock(${0x5348_0001}) AS ok`);
      expect(other.getvalue(0, 0)).toBe('t');
      other.exec('ROLLBACK');
    } finally {
      finishConnection(other);
    }
  });

  it('maxOrd outside a transaction is the last ord handed to onForeign: nothing reads past what its resolver was given', async () => {
    const a = store();
    const b = store();
    const seen: [number, number][] = [];
    a.onForeign((from, to) => seen.push([from, to]));
    const before = a.maxOrd();
    const { append } = await hub(2);
    const ord = b.transaction(() => {
      append(b, 0);
      return append(b, 1);
    });
    // No turn of the event loop in between: its NOTIFY is not read yet.
    expect(a.maxOrd()).toBe(before);
    // The NOTIFY sent with the commit's last statement brings it (no poll here: pollMs 0).
    for (let i = 0; seen.length === 0 && i < 1000; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([[before, ord]]);
    expect(a.maxOrd()).toBe(ord);
  });

  it('a push waits for the write lock another process holds without blocking the node: it serves meanwhile, and stores the batch once the lock is free', async () => {
    const { node, url, token } = await startNode(
      { name: '锁等待枢纽', level: 'province', region: '420000' },
      { overrides: { store: pg.storeUrl() as string } },
    );
    const other = new (libpq())();
    try {
      const county = await TestHub.make();
      expect((await post(`${url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, token)).status).toBe(201);
      for (let i = 1; i < 40; i++) county.sign('need.posted', needBody({ quantity: i }));
      expect(node.ingestor.lockWaits).toBe(0);
      other.connectSync((node.store as PostgresStore).url);
      other.exec(`BEGIN; SELECT pg_advisory_xact_lock(${0x5348_0001})`);
      expect(other.resultStatus()).toBe('PGRES_TUPLES_OK');
      let answered = false;
      const pushed = post(`${url}/v1/records`, county.records).then(async (r) => {
        answered = true;
        return { status: r.status, body: (await r.json()) as { summary: { accepted: number } } };
      });
      for (let i = 0; node.ingestor.lockWaits === 0 && i < 2000; i++) await new Promise((r) => setTimeout(r, 5));
      expect(node.ingestor.lockWaits).toBeGreaterThan(0);
      // Waiting for the lock, the node still answers (a synchronous wait would hold its event loop).
      const heads = (await (await fetch(`${url}/v1/heads`)).json()) as { heads: Record<string, number> };
      expect(heads.heads[county.id]).toBeUndefined();
      expect(answered).toBe(false);
      other.exec('ROLLBACK');
      const res = await pushed;
      expect(res.status).toBe(200);
      expect(res.body.summary.accepted).toBe(40);
      expect(node.store.chainView(county.id)?.head.seq).toBe(39);
    } finally {
      finishConnection(other);
      await node.close();
    }
  });
});

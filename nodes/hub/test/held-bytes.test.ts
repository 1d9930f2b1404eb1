// The holding area under hostile load (issue 11 point 2): record size limits (spec/encoding.md §4),
// the area bounded in bytes per sender and in all, a stranger's records held only with a
// verifiable inception chain, and the purge (spec/node.md §3.1, §3.3). Real node on loopback,
// real libsodium, worker threads on.
import { request } from 'node:http';
import { type BodyOf, ed25519Sign, MAX_SIGNED_BYTES, recordId, type SignedRecord, seal, signedBytes, toBase64url, type UnsignedRecord } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as heldCommand } from '../src/commands/held.js';
import { needBody, post, startNode, TestHub } from './helpers.js';

type Ack = { index: number; status: string; code?: string; message?: string; issues?: { path: unknown[] }[] };
type Node = Awaited<ReturnType<typeof startNode>>;

/** POSTs JSON from a chosen loopback address (the node keys the holding shares on it). */
function postFrom(localAddress: string, url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}
const acksOf = (r: { json: Record<string, unknown> }) => (r.json as { acks: Ack[] }).acks;

/** Signs the hub's next record without signRecord's checks (so it may break the size limit). */
function rawNext(h: TestHub, body: BodyOf<'need.posted'>, extra: Partial<SignedRecord> = {}): SignedRecord {
  const prev = h.records[h.records.length - 1] as SignedRecord;
  const u = {
    v: 1,
    type: 'need.posted',
    hub: h.id,
    seq: prev.seq + 1,
    prev: recordId(prev),
    hlc: { ms: prev.hlc.ms + 1, c: 0 },
    body,
    ...extra,
  } as unknown as UnsignedRecord;
  const { sealed: _s, ...signed } = u as unknown as SignedRecord;
  const sig = toBase64url(ed25519Sign(signedBytes(signed as unknown as UnsignedRecord), h.hub.keys.signing.secretKey));
  return { ...u, sig } as unknown as SignedRecord;
}

/** The hub's next need with a sealed part of about `bytes` bytes of payload, validly sealed and signed. */
function sealedNeed(h: TestHub, bytes: number, quantity: number): SignedRecord {
  const { sealed, sealedHash } = seal({ rows: 'y'.repeat(bytes) }, [{ hub: h.id, encryptionKey: toBase64url(h.hub.keys.encryption.publicKey) }]);
  const r = rawNext(h, needBody({ quantity }), { sealed, sealedHash });
  h.records.push(r);
  return r;
}

/** The holding area as GET /v1/held reports it, read in process (the routes are tested in 'purge'). */
const heldIn = (n: Node) => {
  const senders = n.node.store.heldSummary();
  return { records: senders.reduce((x, s) => x + s.records, 0), bytes: senders.reduce((x, s) => x + s.bytes, 0), senders };
};

const heldOf = async (n: Node) =>
  (await (await fetch(`${n.url}/v1/held`, { headers: { authorization: `Bearer ${n.token}` } })).json()) as {
    records: number;
    bytes: number;
    senders: { sender: string; records: number; bytes: number }[];
  };

describe('record size limits at the node (spec/encoding.md §4)', () => {
  let n: Node;
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 2 });
  });
  afterAll(async () => {
    await n.node.close();
  });

  it('a record over 65,536 signed bytes is refused with E_SCHEMA (path $), alone and in a batch of 20 read by the worker threads', async () => {
    const county = await TestHub.make();
    expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    expect((await post(`${n.url}/v1/records`, county.records[0])).status).toBe(201);
    const big = rawNext(county, needBody({ ext: { 'org.example.pad': 'x'.repeat(MAX_SIGNED_BYTES) } }));
    expect(signedBytes(big).length).toBeGreaterThan(MAX_SIGNED_BYTES);
    const alone = await post(`${n.url}/v1/records`, big);
    expect(alone.status).toBe(400);
    expect(await alone.json()).toMatchObject({ code: 'E_SCHEMA', detail: expect.stringMatching(/more than the 65536 allowed/) });
    // Worker path: 19 good records of another county, the oversized one in the middle.
    const other = await TestHub.make();
    expect((await post(`${n.url}/v1/admissions`, { child: other.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    for (let i = 0; i < 18; i++) other.sign('need.posted', needBody({ quantity: i + 1 }));
    const batch = [...other.records.slice(0, 10), big, ...other.records.slice(10)];
    expect(batch.length).toBe(20);
    const res = await postFrom('127.0.0.1', `${n.url}/v1/records`, batch);
    expect(res.status).toBe(200);
    const acks = acksOf(res);
    expect(acks[10]).toMatchObject({ status: 'rejected', code: 'E_SCHEMA' });
    expect(acks[10]?.issues?.[0]?.path).toEqual([]);
    expect(acks.filter((a) => a.status === 'accepted').length).toBe(19);
    expect(n.node.store.hasRecord(recordId(big))).toBe(false);
    expect(n.node.store.heads()[county.id]).toBe(0);
  });

  it('a sealed part that does not match its sealedHash is E_SEALED, hashed natively, alone and in the worker threads; a matching one is stored', async () => {
    const county = await TestHub.make();
    expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    for (let i = 0; i < 17; i++) county.sign('need.posted', needBody({ quantity: i + 2 }));
    const good = sealedNeed(county, 190_000, 1);
    const ct = good.sealed?.ct as string;
    const bad = { ...good, sealed: { ...good.sealed, ct: (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1) } } as SignedRecord;
    expect((await post(`${n.url}/v1/records`, county.records.slice(0, 18))).status).toBe(200);
    expect(n.node.store.heads()[county.id]).toBe(17);
    // Alone: the main thread's path.
    const alone = await post(`${n.url}/v1/records`, bad);
    expect(alone.status).toBe(422);
    expect(await alone.json()).toMatchObject({ code: 'E_SEALED' });
    // The worker threads' path: 20 records, the bad copy among them.
    const batch = [...county.records.slice(0, 18), bad, good];
    expect(batch.length).toBe(20);
    const acks = acksOf(await postFrom('127.0.0.1', `${n.url}/v1/records`, batch));
    expect(acks[18]).toMatchObject({ status: 'rejected', code: 'E_SEALED' });
    expect(acks[19]).toMatchObject({ status: 'accepted' });
    expect(n.node.store.heads()[county.id]).toBe(18);
  });

  it('junk records with 1 MB sealed parts are refused (E_SCHEMA at $.sealed.ct), nothing of them held', async () => {
    const junk = await TestHub.make();
    const records = [junk.records[0] as SignedRecord];
    for (let i = 0; i < 8; i++) records.push(sealedNeed(junk, 1_000_000, i + 1));
    const before = heldIn(n);
    for (let i = 0; i < records.length; i += 4) {
      // Each request from its own address: 4 MB of refused records use up one client's unstored-bytes burst (spec/node.md §7).
      const res = await postFrom(`127.0.0.${20 + i / 4}`, `${n.url}/v1/records`, records.slice(i, i + 4));
      expect(res.status).toBe(200);
      for (const a of acksOf(res)) {
        if (i + a.index === 0) expect(a).toMatchObject({ status: 'held', code: 'E_NOT_ADMITTED' });
        else {
          expect(a).toMatchObject({ status: 'rejected', code: 'E_SCHEMA' });
          expect(a.issues?.[0]?.path).toEqual(['sealed', 'ct']);
        }
      }
    }
    const after = heldIn(n);
    expect(after.records - before.records).toBe(1);
    expect(after.bytes - before.bytes).toBeLessThan(2_000);
  });
});

describe('bytes a second of records the node does not store (spec/node.md §7 Limits)', () => {
  let n: Node;
  const limits = { unstoredBytesPerSecond: 2_000, unstoredBytesBurst: 40_000, unstoredBytesTotalPerSecond: 2_000, unstoredBytesTotalBurst: 100_000 };
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 2, overrides: { limits } });
  });
  afterAll(async () => {
    await n.node.close();
  });

  it('a client whose pushes the node could not store waits (429 E_RATE_LIMITED); stored records, operators and other clients pass', async () => {
    const junk = await TestHub.make();
    for (let i = 0; i < 40; i++) junk.sign('need.posted', needBody({ quantity: i + 1, ext: { 'org.example.pad': 'x'.repeat(1500) } }));
    // Without its inception: every record is refused (E_GAP), ~2 KB each, ~80 KB in all, over the client's burst.
    const first = await postFrom('127.0.0.41', `${n.url}/v1/records`, junk.records.slice(1));
    expect(first.status).toBe(200);
    expect(acksOf(first).every((a) => a.status === 'rejected')).toBe(true);
    const again = await postFrom('127.0.0.41', `${n.url}/v1/records`, junk.records.slice(1, 2));
    expect(again.status).toBe(429);
    expect(again.json).toMatchObject({ code: 'E_RATE_LIMITED' });
    // A trusted hub's records from another address are stored and cost nothing.
    const county = await TestHub.make();
    expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    for (let i = 0; i < 30; i++) county.sign('need.posted', needBody({ quantity: i + 1, ext: { 'org.example.pad': 'y'.repeat(1500) } }));
    const stored = await postFrom('127.0.0.42', `${n.url}/v1/records`, county.records);
    expect(stored.status).toBe(200);
    expect(acksOf(stored).every((a) => a.status === 'accepted')).toBe(true);
    expect((await postFrom('127.0.0.42', `${n.url}/v1/records`, county.records.slice(0, 5))).status).toBe(200);
    // The operator is never charged, even for refused records.
    expect((await post(`${n.url}/v1/records`, junk.records.slice(1, 10), n.token)).status).toBe(200);
    // A third client's refused records empty the bucket all clients share: a fourth then waits too.
    const other = await TestHub.make();
    for (let i = 0; i < 20; i++) other.sign('need.posted', needBody({ quantity: i + 1, ext: { 'org.example.pad': 'z'.repeat(1500) } }));
    expect((await postFrom('127.0.0.43', `${n.url}/v1/records`, other.records.slice(1))).status).toBe(200);
    const fourth = await postFrom('127.0.0.44', `${n.url}/v1/records`, other.records.slice(1, 2));
    expect(fourth.status).toBe(429);
    expect((fourth.json as { detail: string }).detail).toContain('from all clients');
  });
});

describe('the holding area in bytes (spec/node.md §3.1)', () => {
  let n: Node;
  const limits = { maxHeld: 1000, maxHeldPerSource: 100, maxHeldBytes: 1_500_000, maxHeldBytesPerSource: 700_000 };
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 2, overrides: { limits } });
  });
  afterAll(async () => {
    await n.node.close();
  });

  /** A stranger with its inception and `k` needs carrying 190 KB sealed parts (each ~254 KB of stored text). */
  async function stranger(k: number): Promise<TestHub> {
    const h = await TestHub.make();
    for (let i = 0; i < k; i++) sealedNeed(h, 190_000, i + 1);
    return h;
  }

  it("caps a sender's held bytes (E_RATE_LIMITED), then the whole area's (E_GAP / E_NOT_ADMITTED, full)", async () => {
    const a = await stranger(5);
    const first = await postFrom('127.0.0.7', `${n.url}/v1/records`, a.records);
    const acks = acksOf(first);
    expect(acks.map((x) => x.status)).toEqual(['held', 'held', 'held', 'rejected', 'rejected', 'rejected']);
    expect(acks[3]).toMatchObject({ code: 'E_RATE_LIMITED', message: expect.stringMatching(/would take more than 700000 bytes/) });
    // The records after the refused one no longer continue a held chain.
    expect(acks[4]).toMatchObject({ code: 'E_GAP', message: expect.stringMatching(/no verifiable inception chain/) });
    let held = heldIn(n);
    const mine = held.senders.find((s) => s.sender === 'addr:127.0.0.7');
    expect(mine?.records).toBe(3);
    expect(mine?.bytes).toBeLessThanOrEqual(limits.maxHeldBytesPerSource);
    expect(mine?.bytes).toBeGreaterThan(500_000);

    // A second sender has its own share; a third fills the area.
    const b = await stranger(2);
    expect(acksOf(await postFrom('127.0.0.8', `${n.url}/v1/records`, b.records)).map((x) => x.status)).toEqual(['held', 'held', 'held']);
    const c = await stranger(2);
    const third = acksOf(await postFrom('127.0.0.9', `${n.url}/v1/records`, c.records));
    expect(third[0]).toMatchObject({ status: 'held', code: 'E_NOT_ADMITTED' });
    expect(third.slice(1).some((x) => x.status === 'rejected' && x.code === 'E_GAP' && /holding area is full \(1500000 bytes\)/.test(x.message ?? ''))).toBe(
      true,
    );
    held = heldIn(n);
    expect(held.bytes).toBeLessThanOrEqual(limits.maxHeldBytes);
    expect(n.node.store.heldCount()).toBe(held.records);
  });
});

describe('strangers: held only with a verifiable inception chain (spec/node.md §3.1)', () => {
  let n: Node;
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 2 });
  });
  afterAll(async () => {
    await n.node.close();
  });

  it("refuses a stranger's record without its inception, holds it with it, refuses what does not continue the held chain", async () => {
    const s = await TestHub.make();
    const r1 = s.sign('need.posted', needBody({ quantity: 1 }));
    const r2 = s.sign('need.posted', needBody({ quantity: 2 }));
    const without = await post(`${n.url}/v1/records`, [r1]);
    const ack = ((await without.json()) as { acks: Ack[] }).acks[0];
    expect(ack).toMatchObject({ status: 'rejected', code: 'E_GAP', message: expect.stringMatching(/not held: no verifiable inception chain/) });
    expect(n.node.store.heldCount()).toBe(0);
    // The inception and seq 2 without seq 1: seq 2 continues nothing held.
    const gap = ((await (await post(`${n.url}/v1/records`, [s.records[0], r2])).json()) as { acks: Ack[] }).acks;
    expect(gap.map((x) => [x.status, x.code])).toEqual([
      ['held', 'E_NOT_ADMITTED'],
      ['rejected', 'E_GAP'],
    ]);
    // A forged seq 1 (signed by another key) does not continue it either.
    const thief = await TestHub.make();
    const forged = { ...r1, body: { ...r1.body, quantity: 1000 } } as SignedRecord;
    const u = { ...forged } as Partial<SignedRecord>;
    delete u.sig;
    forged.sig = toBase64url(ed25519Sign(signedBytes(u as UnsignedRecord), thief.hub.keys.signing.secretKey));
    const f = ((await (await post(`${n.url}/v1/records`, [forged])).json()) as { acks: Ack[] }).acks[0];
    expect(f).toMatchObject({ status: 'rejected', code: 'E_GAP', message: expect.stringMatching(/does not continue the verified inception chain .*E_SIG/) });
    // In order from the inception: held; again: still held, nothing doubled.
    const inOrder = ((await (await post(`${n.url}/v1/records`, [r1, r2])).json()) as { acks: Ack[] }).acks;
    expect(inOrder.map((x) => [x.status, x.code])).toEqual([
      ['held', 'E_GAP'],
      ['held', 'E_GAP'],
    ]);
    expect((await post(`${n.url}/v1/records`, s.records)).status).toBe(200);
    expect(n.node.store.heldCount()).toBe(3);
    expect(n.node.store.hasRecord(recordId(forged))).toBe(false);
  });

  it('a new county pushes its inception, profile and needs before its admission (20 records, worker threads): held, then stored when admitted', async () => {
    const county = await TestHub.make();
    county.sign('hub.profile', { name: { zh: '孝南区枢纽' }, level: 'county', region: '420902', endpoints: [] } as BodyOf<'hub.profile'>);
    for (let i = 0; i < 18; i++) county.sign('need.posted', needBody({ quantity: 10 + i }));
    const res = await postFrom('127.0.0.11', `${n.url}/v1/records`, county.records);
    const acks = acksOf(res);
    expect(acks.length).toBe(20);
    expect(acks[0]).toMatchObject({ status: 'held', code: 'E_NOT_ADMITTED' });
    expect(acks.slice(1).every((a) => a.status === 'held')).toBe(true);
    expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    expect(n.node.store.heads()[county.id]).toBe(19);
    expect(n.node.store.heldFor(county.id, 0)).toEqual([]);
  });
});

describe('catch-up of a hub this node does not hold (spec/node.md §9.3)', () => {
  it("pulls a county's log from its inception: held as a verified chain, stored once the county is admitted", async () => {
    const a = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 2 });
    const b = await startNode({ name: '湖北省枢纽（备）', level: 'province', region: '420000' }, { threads: 2 });
    try {
      const county = await TestHub.make();
      for (let i = 0; i < 24; i++) county.sign('need.posted', needBody({ quantity: i + 1 }));
      expect((await post(`${a.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, a.token)).status).toBe(201);
      expect(((await (await post(`${a.url}/v1/records`, county.records)).json()) as { summary: { accepted: number } }).summary.accepted).toBe(25);
      // b does not admit the county (yet): the pulled log is held, the whole chain, nothing refused.
      await b.node.federation.pullFrom(a.url);
      expect(b.node.store.heads()[county.id]).toBeUndefined();
      expect(b.node.store.heldSummary().find((s) => s.sender === a.url)?.records).toBeGreaterThanOrEqual(25);
      expect(b.node.store.heldFor(county.id, 24).length).toBe(1);
      expect((await post(`${b.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, b.token)).status).toBe(201);
      expect(b.node.store.heads()[county.id]).toBe(24);
      expect(b.node.store.heldFor(county.id, 24)).toEqual([]);
    } finally {
      await a.node.close();
      await b.node.close();
    }
  });
});

describe('purge (spec/node.md §3.3)', () => {
  let n: Node;
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 2 });
  });
  afterAll(async () => {
    await n.node.close();
  });
  const del = (query: string, token = n.token) =>
    fetch(`${n.url}/v1/held?${query}`, { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('GET /v1/held sums per sender; DELETE /v1/held by hub, sender and all; shuniu held purge on the data directory', async () => {
    const [a, b, c, d] = [await TestHub.make(), await TestHub.make(), await TestHub.make(), await TestHub.make()];
    for (const h of [a, b, c, d]) for (let i = 0; i < 3; i++) h.sign('need.posted', needBody({ quantity: i + 1 }));
    await postFrom('127.0.0.21', `${n.url}/v1/records`, [...a.records, ...b.records]);
    await postFrom('127.0.0.22', `${n.url}/v1/records`, c.records);
    await postFrom('127.0.0.23', `${n.url}/v1/records`, d.records);
    const held = await heldOf(n);
    expect(held.records).toBe(16);
    expect(held.senders.map((s) => [s.sender, s.records])).toEqual(
      expect.arrayContaining([
        ['addr:127.0.0.21', 8],
        ['addr:127.0.0.22', 4],
        ['addr:127.0.0.23', 4],
      ]),
    );
    expect(held.bytes).toBe(held.senders.reduce((x, s) => x + s.bytes, 0));

    expect((await del('all=true', '')).status).toBe(401);
    expect((await del('')).status).toBe(400);
    const byHub = (await (await del(`hub=${a.id}`)).json()) as { purged: { records: number; bytes: number } };
    expect(byHub.purged.records).toBe(4);
    expect(byHub.purged.bytes).toBeGreaterThan(0);
    expect(n.node.store.heldFor(a.id, 0)).toEqual([]);
    expect(n.node.store.heldFor(b.id, 0).length).toBe(1);
    const bySender = (await (await del('sender=addr:127.0.0.22')).json()) as { purged: { records: number } };
    expect(bySender.purged.records).toBe(4);
    expect(n.node.store.heldCount()).toBe(8);
    // Nothing held for longer than an hour yet.
    expect(((await (await del('olderThan=1h')).json()) as { purged: { records: number } }).purged.records).toBe(0);
    // The CLI on the data directory, beside the running node.
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await heldCommand(['purge', '--dir', n.dir, '--hub', d.id])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(n.node.store.heldCount()).toBe(4);
    expect(((await (await del('all=true')).json()) as { purged: { records: number } }).purged.records).toBe(4);
    expect(n.node.store.heldCount()).toBe(0);
    expect((await heldOf(n)).bytes).toBe(0);
  });
});

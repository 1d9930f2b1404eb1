import { get as httpGet } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Author, type BodyOf, recordId, type SignedRecord } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenAuth } from '../../nodes/hub/src/auth.js';
import { acksOf, checkAnswer, figure, needBody, post, type Snapshot, sleep, snapshot, startNode, TestHub } from './lib/harness.js';

type Running = Awaited<ReturnType<typeof startNode>>;
let p: Running;
let xiaogan: TestHub;
let xiaonan: TestHub;
let hanchuan: TestHub;
let foundation: TestHub;

const push = async (records: unknown) => checkAnswer(await post(`${p.url}/v1/records`, records));
const state = (name: string) => p.node.ingestor.engine.collection(name) as Record<string, unknown>[];
const byId = (name: string, id: string) => state(name).find((x) => x.id === id);

/** Pushes and expects every ack accepted. */
async function store(...records: SignedRecord[]): Promise<void> {
  const c = await push(records);
  expect(c.faults).toEqual([]);
  expect(acksOf(c).map((a) => a.status)).toEqual(records.map(() => 'accepted'));
}

/** The refusal rules and an untouched node: same records, held, forks and state hash. */
async function refused(res: Response, code: string, status: number, before: Snapshot): Promise<void> {
  const c = await checkAnswer(res);
  expect(c.faults).toEqual([]);
  expect(c.problem).toMatchObject({ code, status });
  expect(snapshot(p.node)).toEqual(before);
}

const MASKS = { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' };
const BOX = { name: 'box', base: 'piece', size: 50 };
const offerBody = (): BodyOf<'offer.posted'> => ({
  kind: 'goods',
  item: MASKS,
  quantity: 2200,
  unit: BOX,
  valueFen: 55_000_000,
  donor: { name: '壹基金', kind: 'foundation' },
  intent: { regions: ['42'] },
  region: '420900',
});

beforeAll(async () => {
  p = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { threads: 0 });
  xiaogan = await TestHub.make();
  xiaonan = await TestHub.make();
  hanchuan = await TestHub.make();
  foundation = await TestHub.make();
  for (const [h, level, region] of [
    [xiaogan, 'city', '420900'],
    [xiaonan, 'county', '420902'],
    [hanchuan, 'county', '420984'],
    [foundation, 'national', '440300'],
  ] as const) {
    expect((await post(`${p.url}/v1/admissions`, { child: h.id, level, region }, p.token)).status).toBe(201);
    await store(...h.records);
  }
});
afterAll(async () => {
  await p.node.close();
});

/** GET `url` from a given local loopback address; resolves to the status. */
function statusFrom(localAddress: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { localAddress }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

describe('attacks on records: refused with their code, state untouched', () => {
  it('a forged signature is E_SIG', async () => {
    const r = xiaonan.sign('need.posted', needBody());
    xiaonan.records.pop();
    xiaonan.author.head = { ...xiaonan.author.head, seq: r.seq - 1, id: r.prev as string };
    const forged = { ...r, body: { ...r.body, quantity: 201 } };
    await refused(await post(`${p.url}/v1/records`, forged), 'E_SIG', 422, snapshot(p.node));
    // A signature copied from another record, and one made by another hub's key.
    const other = new Author({ hub: xiaonan.id, secretKey: hanchuan.hub.keys.signing.secretKey, head: { ...xiaonan.author.head }, wall: () => Date.now() });
    await refused(await post(`${p.url}/v1/records`, other.sign('need.posted', needBody()).record), 'E_SIG', 422, snapshot(p.node));
    await refused(await post(`${p.url}/v1/records`, { ...r, sig: xiaonan.records[0]?.sig }), 'E_SIG', 422, snapshot(p.node));
  });

  it('a replayed record is a duplicate and changes nothing', async () => {
    const r = xiaonan.sign('need.posted', needBody());
    await store(r);
    const before = snapshot(p.node);
    for (let i = 0; i < 3; i++) {
      const res = await post(`${p.url}/v1/records`, r);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { ack: { status: string } }).ack.status).toBe('duplicate');
    }
    const batch = await push([r, r, ...xiaonan.records]);
    expect(acksOf(batch).every((a) => a.status === 'duplicate')).toBe(true);
    expect(snapshot(p.node)).toEqual(before);
  });

  it('a record of a hub no root admitted is held (E_NOT_ADMITTED), never applied', async () => {
    const stranger = await TestHub.make();
    const need = stranger.sign('need.posted', needBody({ quantity: 999 }));
    const before = snapshot(p.node);
    const c = await push(stranger.records);
    expect(acksOf(c).map((a) => `${a.status} ${a.code}`)).toEqual(['held E_NOT_ADMITTED', 'held E_GAP']);
    const after = snapshot(p.node);
    expect({ ...after, held: before.held }).toEqual(before);
    expect(p.node.store.heads()[stranger.id]).toBeUndefined();
    expect(byId('needs', recordId(need))).toBeUndefined();
    // An admission signed by the stranger itself, or by another stranger, opens nothing.
    const friend = await TestHub.make();
    friend.sign('hub.admitted', { child: stranger.id, level: 'county', region: '420902' });
    await push(friend.records);
    expect(p.node.store.heads()[stranger.id]).toBeUndefined();
    expect(p.node.ingestor.engine.stateHash()).toBe(before.hash);
  });

  it('a receipt signed by a hub that is not the shipment receiver is an unauthorised conflict; the shipment stays in transit', async () => {
    const need = xiaonan.sign('need.posted', needBody());
    const offer = foundation.sign('offer.posted', offerBody());
    const { record: needRec } = { record: need };
    await store(need, offer);
    const needId = acksOfId(needRec);
    const offerId = acksOfId(offer);
    const alloc = foundation.sign('allocation', { offer: offerId, need: needId, quantity: 200 });
    const handoff = foundation.sign('custody.handoff', {
      shipment: 'SH-0124',
      from: foundation.id,
      to: xiaonan.id,
      lines: [{ item: MASKS, quantity: 200, unit: BOX }],
      expectedArrival: '2030-01-26T08:00:00Z',
      allocations: [acksOfId(alloc)],
    });
    await store(alloc, handoff);
    const shipmentBefore = byId('shipments', acksOfId(handoff));
    expect(shipmentBefore).toMatchObject({ status: 'in_transit', to: xiaonan.id });
    const receipt = hanchuan.sign('custody.receipt', {
      handoff: acksOfId(handoff),
      lines: [{ line: 0, accepted: 200, rejected: 0, missing: 0 }],
      received: new Date(Date.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    await store(receipt);
    expect(byId('shipments', acksOfId(handoff))).toEqual(shipmentBefore);
    const conflict = state('conflicts').find((c) => c.id === `${acksOfId(receipt)}/unauthorised`);
    expect(conflict).toMatchObject({ rule: 'unauthorised', detail: { expected: xiaonan.id } });
  });

  it("an allocation of someone else's offer is an unauthorised conflict; the offer is unchanged", async () => {
    const need = hanchuan.sign('need.posted', needBody({ region: '420984', requester: { name: '汉川市人民医院', kind: 'hospital' } }));
    const offer = foundation.sign('offer.posted', offerBody());
    await store(need, offer);
    const offerBefore = byId('offers', acksOfId(offer));
    const theft = xiaogan.sign('allocation', { offer: acksOfId(offer), need: acksOfId(need), quantity: 2200 });
    await store(theft);
    expect(byId('offers', acksOfId(offer))).toEqual(offerBefore);
    expect(byId('allocations', acksOfId(theft))).toBeUndefined();
    expect(state('conflicts').find((c) => c.id === `${acksOfId(theft)}/unauthorised`)).toMatchObject({ rule: 'unauthorised' });
  });

  it('a forked hub: the second record is E_FORK, both are kept as proof (forks table, /v1/status)', async () => {
    const thief = new Author({ hub: hanchuan.id, secretKey: hanchuan.hub.keys.signing.secretKey, head: { ...hanchuan.author.head }, wall: () => Date.now() });
    const a = hanchuan.sign('need.posted', needBody({ quantity: 1 }));
    const b = thief.sign('need.posted', needBody({ quantity: 2 })).record;
    await store(a);
    const before = snapshot(p.node);
    const c = await checkAnswer(await post(`${p.url}/v1/records`, b));
    expect(c.problem).toMatchObject({ code: 'E_FORK', status: 409 });
    const forks = p.node.store.forks();
    expect(forks).toContainEqual({ hub: hanchuan.id, seq: a.seq, existing: acksOfId(a), other: acksOfId(b) });
    expect(((await (await fetch(`${p.url}/v1/status`)).json()) as { forks: number }).forks).toBe(before.forks + 1);
    // Kept beside the chain as proof (and forwarded), never a chain head.
    expect(snapshot(p.node).records).toBe(before.records + 1);
    expect(p.node.store.chainView(hanchuan.id)?.idAt(a.seq)).toBe(acksOfId(a));
    // spec/resolution.md §1: a hub with two records at one seq is `forked` and a fork conflict lists both.
    const hubState = state('hubs').find((h) => h.id === hanchuan.id || h.hub === hanchuan.id);
    expect(hubState?.status).toBe('forked');
    const conflict = state('conflicts').find((x) => x.rule === 'fork' && (x.hubs as string[]).includes(hanchuan.id));
    expect(conflict?.records).toEqual([acksOfId(a), acksOfId(b)].sort());
    figure('fork', { hubStatus: hubState?.status, conflict: conflict !== undefined });
  });
});

const acksOfId = (r: SignedRecord) => recordId(r);

describe('attacks on the node', () => {
  it('an oversized body is E_TOO_LARGE, with or without a Content-Length', async () => {
    const small = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, { threads: 0, overrides: { limits: { bodyBytes: 64 * 1024 } } });
    try {
      const before = snapshot(small.node);
      const big = JSON.stringify([{ pad: 'x'.repeat(200_000) }]);
      const r1 = await checkAnswer(await post(`${small.url}/v1/records`, big));
      expect(r1.problem).toMatchObject({ code: 'E_TOO_LARGE', status: 413 });
      // Chunked: no length up front, so the limit must hold while reading.
      const chunks = new ReadableStream<Uint8Array>({
        start(ctl) {
          for (let i = 0; i < 40; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(8192)));
          ctl.close();
        },
      });
      const r2 = await checkAnswer(
        await fetch(`${small.url}/v1/records`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: chunks,
          duplex: 'half',
        } as RequestInit),
      );
      expect(r2.problem).toMatchObject({ code: 'E_TOO_LARGE', status: 413 });
      expect(snapshot(small.node)).toEqual(before);
    } finally {
      await small.node.close();
    }
  });

  it('expired, wrong-scope, wrong-issuer and tampered tokens are refused (E_AUTH, E_FORBIDDEN)', async () => {
    const before = snapshot(p.node);
    const expired = await p.node.auth.issue('operator', -60);
    await refused(await post(`${p.url}/v1/needs`, needBody(), expired), 'E_AUTH', 401, before);
    const subscriber = await p.node.auth.issue('subscriber', 600);
    await refused(await post(`${p.url}/v1/needs`, needBody(), subscriber), 'E_FORBIDDEN', 403, before);
    const stranger = await TestHub.make();
    const otherIssuer = await new TokenAuth(stranger.id, new Uint8Array(32).fill(7)).issue('operator', 600);
    await refused(await post(`${p.url}/v1/needs`, needBody(), otherIssuer), 'E_AUTH', 401, before);
    // Same key, another audience: a token this node issued for itself cannot be replayed with another hub id.
    const sameKeyOtherHub = await new TokenAuth(stranger.id, (p.node.auth as unknown as { key: never }).key).issue('operator', 600);
    await refused(await post(`${p.url}/v1/needs`, needBody(), sameKeyOtherHub), 'E_AUTH', 401, before);
    const good = await p.node.auth.issue('subscriber', 600);
    const [h, payload, s] = good.split('.') as [string, string, string];
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: 'operator' })).toString('base64url');
    await refused(await post(`${p.url}/v1/needs`, needBody(), `${h}.${raised}.${s}`), 'E_AUTH', 401, before);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${raised}.`;
    await refused(await post(`${p.url}/v1/needs`, needBody(), none), 'E_AUTH', 401, before);
  });

  it('slow clients holding SSE connections open do not stop pushes, reads or shutdown', async () => {
    const n = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, { threads: 0, overrides: { limits: { ratePerSecond: 0 } } });
    const { port } = new URL(n.url);
    const sockets: Socket[] = [];
    try {
      // Clients that send the request and then never read: the server's writes pile up in their sockets.
      for (let i = 0; i < 60; i++) {
        const s = connect(Number(port), '127.0.0.1');
        s.on('error', () => {});
        s.write(`GET /v1/feed/live?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
        s.pause();
        sockets.push(s);
      }
      await sleep(200);
      const rss0 = process.memoryUsage().rss;
      const hub = await TestHub.make();
      expect((await post(`${n.url}/v1/admissions`, { child: hub.id, level: 'org', region: '420902' }, n.token)).status).toBe(201);
      for (let i = 0; i < 300; i++)
        hub.sign('need.posted', needBody({ quantity: 1 + i, requester: { name: `医院 ${i} ${'长'.repeat(180)}`, kind: 'hospital' } }));
      for (let i = 0; i < hub.records.length; i += 100) {
        const c = await checkAnswer(await post(`${n.url}/v1/records`, hub.records.slice(i, i + 100)));
        expect(c.faults).toEqual([]);
        expect(acksOf(c).every((a) => a.status === 'accepted')).toBe(true);
      }
      const feed = (await (await fetch(`${n.url}/v1/feed?after=0&limit=5000`)).json()) as { records: unknown[] };
      expect(feed.records.length).toBeGreaterThanOrEqual(hub.records.length);
      figure('slow-sse', { held_open: sockets.length, records: hub.records.length, rss_growth_mb: Math.round((process.memoryUsage().rss - rss0) / 1e6) });
    } finally {
      // close() must end the streams even though their clients never read.
      await n.node.close();
      for (const s of sockets) s.destroy();
    }
  });

  it('a peer flooding past its rate limit gets E_RATE_LIMITED with Retry-After; other peers are still served', async () => {
    const n = await startNode(
      { name: '孝感市枢纽', level: 'city', region: '420900' },
      { threads: 0, overrides: { limits: { ratePerSecond: 1, rateBurst: 10 } } },
    );
    try {
      const before = snapshot(n.node);
      const codes: Record<number, number> = {};
      let retryAfter: string | null = null;
      for (let i = 0; i < 200; i++) {
        const res = await post(`${n.url}/v1/records`, '[]', undefined, { 'shuniu-peer': 'http://127.0.0.1:1/flood' });
        const c = await checkAnswer(res);
        expect(c.faults).toEqual([]);
        codes[res.status] = (codes[res.status] ?? 0) + 1;
        if (res.status === 429) {
          expect(c.problem?.code).toBe('E_RATE_LIMITED');
          retryAfter = res.headers.get('retry-after');
        }
      }
      expect(codes[429]).toBeGreaterThanOrEqual(150);
      expect(retryAfter).toMatch(/^\d+$/);
      // The node limits by remote address (a header anyone can set is no
      // identity): another peer is another address, here 127.0.0.2.
      expect(await statusFrom('127.0.0.2', `${n.url}/v1/heads`)).toBe(200);
      expect(await statusFrom('127.0.0.1', `${n.url}/v1/heads`)).toBe(429);
      expect(snapshot(n.node)).toEqual(before);
      figure('flood', { requests: 200, statuses: codes });
    } finally {
      await n.node.close();
    }
  });
});

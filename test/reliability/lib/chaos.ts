// Partitions and SSE load: in-process nodes on loopback.
import type { HubLevel } from '@shuniu/protocol';
import type { OpenOptions } from '../../../nodes/hub/src/node.js';
import type { Transport } from '../../../nodes/hub/src/runtime.js';
import { figure, needBody, post, prng, reopen, sleep, startNode, TestHub } from './harness.js';

type Running = Awaited<ReturnType<typeof startNode>>;

/**
 * Cut links: each node is opened with a transport of its own (runtime.ts)
 * that knows the node's URL; a request between two nodes whose link is cut
 * fails as a refused connection would, any other goes out with the real
 * fetch over loopback. The nodes' own code runs unchanged.
 */
const cut = new Set<string>();
function linkCutter(self: () => string): Transport {
  return async (url, init) => {
    if (cut.has(`${new URL(self()).origin}|${new URL(url).origin}`)) throw new TypeError('fetch failed (link cut)');
    return fetch(url, init);
  };
}
const link = (a: string, b: string) => [`${new URL(a).origin}|${new URL(b).origin}`, `${new URL(b).origin}|${new URL(a).origin}`];

const FAST: OpenOptions = {
  threads: 0,
  overrides: {
    limits: { ratePerSecond: 0 },
    federation: { pullIntervalMs: 300, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 3000, parkAfter: 1000 },
  },
};

interface Member {
  n: Running;
  name: string;
  parent?: Member;
  up: boolean;
  port: number;
  /** Its options, with its own link-cutting transport: the same at every restart (same port, same URL). */
  opts: OpenOptions;
}

async function hashes(ms: Member[]): Promise<{ hash: string; heads: string }[]> {
  return ms.map((m) => ({ hash: m.n.node.ingestor.engine.stateHash(), heads: JSON.stringify(Object.entries(m.n.node.store.heads()).sort()) }));
}

/**
 * A province, `cities` prefectures with `perCity` counties each and a
 * foundation following the province. For `chaosMs`, links are cut and
 * healed and nodes stopped and restarted at random while county operators
 * keep posting; then everything heals and the time until every node has the
 * same heads and state hash is measured.
 */
export async function runPartitions(o: { cities: number; perCity: number; chaosMs: number; seed: number }) {
  const rand = prng(o.seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const members: Member[] = [];
  const add = async (name: string, level: HubLevel, region: string, parent?: Member, follow?: Member) => {
    const self = { url: '' };
    const opts: OpenOptions = { ...FAST, runtime: { transport: linkCutter(() => self.url) } };
    const n = await startNode({ name, level, region, ...(parent ? { parent: parent.n.url } : {}), ...(follow ? { follow: [follow.n.url] } : {}) }, opts);
    self.url = n.url;
    const m: Member = { n, name, up: true, port: Number(new URL(n.url).port), opts, ...(parent ? { parent } : {}) };
    const admitter = parent ?? follow;
    if (admitter) {
      const res = await post(`${admitter.n.url}/v1/admissions`, { child: n.node.hubId, level, region, url: n.url }, admitter.n.token);
      if (res.status !== 201) throw new Error(`admission ${res.status}`);
    }
    members.push(m);
    return m;
  };
  const province = await add('湖北省枢纽', 'province', '420000');
  const cityCodes = ['420900', '421100', '420600', '420100', '420500', '421000', '420200'];
  const counties: Member[] = [];
  for (let c = 0; c < o.cities; c++) {
    const city = await add(`市 ${c}`, 'city', cityCodes[c % cityCodes.length] as string, province);
    for (let k = 0; k < o.perCity; k++)
      counties.push(await add(`县 ${c}-${k}`, 'county', `${(cityCodes[c % cityCodes.length] as string).slice(0, 4)}${String(k + 2).padStart(2, '0')}`, city));
  }
  const foundation = await add('壹基金', 'national', '440300', undefined, province);
  // An outside hub pushing its records to a random county, too.
  const outside = await TestHub.make();
  await post(`${province.n.url}/v1/admissions`, { child: outside.id, level: 'org', region: '420902' }, province.n.token);

  let posts = 0;
  let postFailures = 0;
  let cuts = 0;
  let stops = 0;
  const end = Date.now() + o.chaosMs;
  while (Date.now() < end) {
    const r = rand();
    const live = members.filter((m) => m.up);
    if (r < 0.15) {
      const m = pick(members.filter((x) => x.parent));
      for (const l of link(m.n.url, (m.parent as Member).n.url)) cut.add(l);
      cuts++;
    } else if (r < 0.3 && cut.size > 0) {
      const first = [...cut][0] as string;
      cut.delete(first);
      const [a, b] = first.split('|') as [string, string];
      cut.delete(`${b}|${a}`);
    } else if (r < 0.38 && members.filter((m) => !m.up).length < 2) {
      const m = pick(members.filter((x) => x.up && x !== province));
      m.up = false;
      await m.n.node.close();
      stops++;
    } else if (r < 0.46) {
      const m = members.find((x) => !x.up);
      if (m) {
        m.n = await reopen(m.n.dir, m.opts, m.port);
        m.up = true;
      }
    } else {
      const c = pick(counties.filter((x) => x.up));
      if (c) {
        try {
          const res = await post(`${c.n.url}/v1/needs`, needBody({ quantity: 1 + posts, region: c.n.node.config.region }), c.n.token);
          if (res.status === 201) posts++;
          else postFailures++;
        } catch {
          postFailures++;
        }
      }
      if (rand() < 0.2) {
        const target = pick(live);
        outside.sign('need.posted', needBody({ quantity: 1 + posts }));
        await post(`${target.n.url}/v1/records`, outside.records).catch(() => undefined);
      }
    }
    await sleep(25 + Math.floor(rand() * 50));
  }

  // Heal: every link back, every node up.
  cut.clear();
  for (const m of members)
    if (!m.up) {
      m.n = await reopen(m.n.dir, m.opts, m.port);
      m.up = true;
    }
  // The outside hub's full chain reaches at least one node.
  await post(`${province.n.url}/v1/records`, outside.records);
  const t0 = Date.now();
  let converged = false;
  let seconds = Number.NaN;
  for (let i = 0; i < 1200 && !converged; i++) {
    const hs = await hashes(members);
    converged = new Set(hs.map((h) => h.hash)).size === 1 && new Set(hs.map((h) => h.heads)).size === 1;
    if (converged) seconds = (Date.now() - t0) / 1000;
    else await sleep(100);
  }
  const final = await hashes(members);
  const stats = {
    nodes: members.length,
    posts,
    postFailures,
    cuts,
    stops,
    converged,
    secondsToConverge: seconds,
    distinctHashes: new Set(final.map((h) => h.hash)).size,
    foundationRecords: foundation.n.node.store.maxOrd(),
  };
  figure('partitions', stats);
  for (const m of members) await m.n.node.close();
  return stats;
}

/**
 * `subscribers` SSE clients on one node while `pushers` hubs push for
 * `ms`; each client drops its connection once at a random moment and
 * resumes with Last-Event-ID. Every client must see every record once.
 */
export async function runSseLoad(o: { subscribers: number; pushers: number; ms: number; seed: number }) {
  const rand = prng(o.seed);
  // Every subscriber connects from 127.0.0.1: lift the per-client stream cap (8 by default, spec/node.md §5.1).
  const n = await startNode(
    { name: '湖北省枢纽', level: 'province', region: '420000' },
    { threads: 0, overrides: { limits: { ratePerSecond: 0, streamsPerClient: 1000 } } },
  );
  const hubs: TestHub[] = [];
  for (let i = 0; i < o.pushers; i++) {
    const h = await TestHub.make();
    await post(`${n.url}/v1/admissions`, { child: h.id, level: 'county', region: '420902' }, n.token);
    hubs.push(h);
  }
  const start = n.node.store.maxOrd();
  let stop = false;
  const seen: number[][] = Array.from({ length: o.subscribers }, () => []);
  let reconnects = 0;

  const subscribe = async (k: number) => {
    let last = start;
    let dropAt = Date.now() + Math.floor(rand() * o.ms);
    for (let attempt = 0; attempt < 100; attempt++) {
      const ctl = new AbortController();
      try {
        const res = await fetch(`${n.url}/v1/feed/live`, { headers: { 'last-event-id': String(last) }, signal: ctl.signal });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          if (Date.now() > dropAt) {
            dropAt = Number.POSITIVE_INFINITY;
            reconnects++;
            ctl.abort();
            break;
          }
          if (stop && last >= finalOrd) {
            ctl.abort();
            return;
          }
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const id = /^id: ?(\d+)$/m.exec(ev);
            if (id && ev.includes('event: record')) {
              const ord = Number(id[1]);
              (seen[k] as number[]).push(ord);
              last = ord;
            }
          }
        }
      } catch {
        // aborted by us (drop) or by the node: resume from the last id seen
      }
      if (stop && last >= finalOrd) return;
    }
  };
  let finalOrd = Number.POSITIVE_INFINITY;
  const subs = Array.from({ length: o.subscribers }, (_, k) => subscribe(k));
  await sleep(500);

  let pushed = 0;
  let pushErrors = 0;
  const pushUntil = Date.now() + o.ms;
  await Promise.all(
    hubs.map(async (h) => {
      let from = 0;
      while (Date.now() < pushUntil) {
        for (let i = 0; i < 20; i++) h.sign('need.posted', needBody({ quantity: 1 + (pushed % 900) }));
        try {
          const res = await post(`${n.url}/v1/records`, h.records.slice(from));
          if (res.status === 200) {
            from = h.records.length;
            pushed += 20;
          }
          await res.arrayBuffer();
        } catch {
          // A reset connection: the batch is sent again (duplicates are acknowledged as such).
          pushErrors++;
        }
      }
    }),
  );
  // finalOrd is fixed before `stop`: a client stops only once it has seen
  // every event up to it. Clients waiting on a quiet stream wake with one more
  // commit, beyond finalOrd and so not counted.
  finalOrd = n.node.store.maxOrd();
  stop = true;
  await post(`${n.url}/v1/needs`, needBody(), n.token);
  await Promise.race([Promise.all(subs), sleep(60_000)]);
  const expected = finalOrd - start;
  let lost = 0;
  let repeated = 0;
  let outOfOrder = 0;
  for (const s of seen) {
    const set = new Set(s);
    repeated += s.length - set.size;
    for (let ord = start + 1; ord <= finalOrd; ord++) if (!set.has(ord)) lost++;
    for (let i = 1; i < s.length; i++) if ((s[i] as number) <= (s[i - 1] as number)) outOfOrder++;
  }
  const stats = { subscribers: o.subscribers, seconds: o.ms / 1000, pushed, pushErrors, events: expected, reconnects, lost, repeated, outOfOrder };
  figure('sse-load', stats);
  await n.node.close();
  return stats;
}

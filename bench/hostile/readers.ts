// Heavy readers (issue 11 points 3 and 4), as attacks of bench/hostile.ts:
// - filteredStreams: 150 anonymous live feeds opened at `after=0` with a filter that matches
//   nothing (region=11, the records are 420902), over 20,000 records, spread over 19 loopback
//   addresses so that every one of them is admitted (8 per client): what is measured is the
//   node's reading, not its refusals; refused or closed streams are opened again after 1 s.
// - stateReaders: 16 anonymous readers walking /v1/state/needs page by page (limit 5000, following
//   `next`; a node without pages answers all 60,000 at once) in a loop, over 60,000 needs, each
//   from its own loopback address (127.0.0.10-25: 16 clients, none sharing the operator's).
// Both load their records before the phase's clock starts (`prepare`): a county admitted by the
// node's operator pushes signed need.posted records, 500 a request.
import { request } from 'node:http';
import { Author, type BodyOf, createHub, ready, type SignedRecord } from '@shuniu/protocol';

/** The running node (bench/hostile.ts Target). */
export interface ReaderTarget {
  url: string;
  token: string;
}

const need = (i: number): BodyOf<'need.posted'> => ({
  item: { code: 'PPE.MASK.MEDICAL', name: '医用外科口罩' },
  quantity: 100 + (i % 500),
  unit: { name: 'box', base: 'piece', size: 50 },
  urgency: i % 3 === 0 ? 'critical' : 'high',
  neededBy: '2030-01-30T00:00:00Z',
  region: '420902',
  beneficiaries: { group: 'medical_staff', count: 300 },
  requester: { name: `孝南区第${i}医院`, kind: 'hospital', region: '420902' },
});

/** Admits a county hub on the node and pushes `n` of its needs (500 a request). */
export async function loadNeeds(t: ReaderTarget, n: number, log: (m: string) => void = () => {}): Promise<void> {
  await ready();
  let clock = Date.now() - 3_600_000;
  const hub = createHub({ created: new Date(clock).toISOString(), hlc: { ms: clock, c: 0 } });
  const author = Author.fromNewHub(hub, () => ++clock);
  const admit = await fetch(`${t.url}/v1/admissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
    body: JSON.stringify({ child: hub.id, level: 'county', region: '420902' }),
  });
  if (admit.status !== 201) throw new Error(`admission: ${admit.status} ${await admit.text()}`);
  let batch: SignedRecord[] = [hub.inception];
  const push = async () => {
    const r = await fetch(`${t.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    if (r.status !== 200) throw new Error(`push: ${r.status} ${(await r.text()).slice(0, 200)}`);
    await r.arrayBuffer();
    batch = [];
  };
  for (let i = 0; i < n; i++) {
    batch.push(author.sign('need.posted', need(i)).record);
    if (batch.length === 500) await push();
    if (i % 10_000 === 9_999) log(`  loaded ${i + 1} needs`);
  }
  if (batch.length > 0) await push();
}

/** One live feed stream held open until `signal`; reopened 1 s after a refusal or a close. */
async function holdStream(
  base: string,
  query: string,
  from: string,
  signal: AbortSignal,
  counts: { opened: number; refused: number; events: number },
): Promise<void> {
  const u = new URL(`${base}/v1/feed/live${query}`);
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname + u.search, localAddress: from, headers: { accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode === 200) counts.opened++;
          else counts.refused++;
          res.on('data', (d: Buffer) => {
            if (res.statusCode === 200) counts.events += d.toString().split('\n\n').length - 1;
          });
          res.on('end', resolve);
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        },
      );
      req.on('error', () => resolve());
      const stop = () => req.destroy();
      signal.addEventListener('abort', stop, { once: true });
      req.end();
    });
    if (!signal.aborted) await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface ReaderAttack {
  prepare: (t: ReaderTarget, log?: (m: string) => void) => Promise<void>;
  during: (t: ReaderTarget, signal: AbortSignal) => Promise<void>;
  after: () => Record<string, number>;
  close: () => Promise<void>;
}

/** 150 streams (`?after=0&region=11`) over 20,000 records. */
export function filteredStreams(streams = 150, records = 20_000): ReaderAttack {
  const counts = { opened: 0, refused: 0, events: 0 };
  return {
    prepare: (t, log) => loadNeeds(t, records, log),
    during: async (t, signal) => {
      await Promise.all(Array.from({ length: streams }, (_, i) => holdStream(t.url, '?after=0&region=11', `127.0.0.${10 + (i % 19)}`, signal, counts)));
    },
    after: () => ({ filtered_streams_opened: counts.opened, filtered_streams_refused: counts.refused }),
    close: async () => {},
  };
}

/**
 * The readers' loop, run in a worker thread so that the bench's own operator loop is not slowed
 * by reading. Reader i reads from 127.0.0.(10 + i): each is a client of its own, as 16 people
 * would be, and none shares the operator's address (the rate limit counts per address). A 429
 * (a cap on state responses, spec/node.md §6) is retried after its Retry-After (at most 1 s).
 */
const READERS_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const http = require('node:http');
const { url, readers } = workerData;
const u = new URL(url);
let stop = false;
let pages = 0, bytes = 0, notModified = 0, refused = 0, failed = 0;
parentPort.on('message', () => { stop = true; });
const get = (path, from) => new Promise((resolve, reject) => {
  const req = http.get({ host: u.hostname, port: u.port, path, localAddress: from }, (res) => {
    const parts = [];
    res.on('data', (d) => parts.push(d));
    res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, buf: Buffer.concat(parts) }));
    res.on('error', reject);
  });
  req.on('error', reject);
});
(async () => {
  await Promise.all(Array.from({ length: readers }, async (_, n) => {
    const from = '127.0.0.' + (10 + n);
    while (!stop) {
      let after = '';
      for (let i = 0; i < 100 && !stop; i++) {
        try {
          const r = await get('/v1/state/needs?limit=5000' + (after ? '&after=' + encodeURIComponent(after) : ''), from);
          if (r.status === 429) {
            refused++;
            await new Promise((res) => setTimeout(res, Math.min(1000, 1000 * Number(r.headers['retry-after'] || 1))));
            i--;
            continue;
          }
          if (r.status === 304) notModified++;
          else if (r.status !== 200) { failed++; await new Promise((res) => setTimeout(res, 100)); break; }
          bytes += r.buf.length;
          pages++;
          const m = /"next":("[^"]*"|null)/.exec(r.buf.subarray(-300).toString());
          if (!m || m[1] === 'null') break;
          after = JSON.parse(m[1]);
        } catch { break; }
      }
    }
  }));
  parentPort.postMessage({ pages, bytes, notModified, refused, failed });
})();
`;

/** 16 readers paging through /v1/state/needs (limit 5000, following `next`) over 60,000 needs. */
export function stateReaders(readers = 16, needs = 60_000): ReaderAttack {
  let got = { pages: 0, bytes: 0, notModified: 0, refused: 0, failed: 0 };
  return {
    prepare: (t, log) => loadNeeds(t, needs, log),
    during: async (t, signal) => {
      const { Worker } = await import('node:worker_threads');
      const w = new Worker(READERS_WORKER, { eval: true, workerData: { url: t.url, readers } });
      const done = new Promise<void>((resolve) =>
        w.once('message', (m: typeof got) => {
          got = m;
          resolve();
        }),
      );
      signal.addEventListener('abort', () => w.postMessage('stop'), { once: true });
      await done;
      await w.terminate();
    },
    after: () => ({
      state_pages_read: got.pages,
      state_mb_read: Math.round(got.bytes / 2 ** 20),
      state_not_modified: got.notModified,
      state_refused: got.refused,
    }),
    close: async () => {},
  };
}

// `pnpm bench ingest`: verified records/s through POST /v1/records into SQLite, against the bare
// single-core Ed25519 verification rate (libsodium, as the node uses it) measured in the same
// run, just before and just after the ingest (the figure is their mean; both are reported).
//
// The client is kept cheap because it shares the 2 cores with the node: bodies are serialised
// before the clock starts, 4 connections each push one hub's chain in order, 500 records a batch
// (8 hubs × 6,250 = 50,000 records: long enough that worker start-up and JIT warm-up do not weigh),
// and read only the summary. Its remaining cost (fetch/undici: writing 300 kB bodies, reading acks)
// is inside the figure.
//
// Where a record's CPU goes (node --cpu-prof, 20,000 records; wall-clock samples on a shared,
// loaded machine, so only the proportions are firm):
//   before (commit 085d20b, everything but Ed25519 on the main thread), main thread per record
//   ~270 µs: strict parse of the body 32, parseRecord (zod, clone, I-JSON check) 82, signed bytes
//   (JCS) 44, SHA-256 id 17, then the transaction ~97 (INSERT 27, chain view and id queries 15,
//   verifyRecord re-hashing 15, resolver apply, held lookups) — more than one Ed25519 check, so
//   the main thread was the bottleneck (ratio ~0.52).
//   after (ingest-worker.ts), main thread per record ~55 µs: transaction 47 (INSERT + hub row
//   29, COMMIT fsync ~12 amortised but off-CPU, resolver apply 2.5, checkChain 1), native JSON.parse
//   of the record text + expected key ~6, array scan 2.5; each worker per record: Ed25519 ~125 µs
//   CPU, and ~90 µs of reading it: parseIJson 26, parseRecord 58 (assertIJson 19, zod 23, cloneJson
//   19), signedBytes 25 (assertIJson again, JCS), SHA-256 12. Reading a record in the worker now
//   costs ~70% of verifying it, and the two cores also carry the main thread and the client.
//   after the cheaper read path (commit 065f7b5): reading is 30-38 µs CPU (read_us_per_record):
//   parseIJson ~7 (one path stack, ordinary objects), zod ~5, no clone, JCS without re-checks ~8,
//   UTF-8 ~1, node:crypto SHA-256 ~2. CPU of the whole process per ingested record (all threads,
//   client included) 255-290 µs against 316 before, measured back to back on the same loaded
//   machine; Ed25519 is ~130 of it, the main thread ~55 (INSERT ~17 incl. JSON.stringify, hub row
//   upsert ~3), the rest HTTP, the client and messages to the workers. A ratio of 1.0 needs the
//   whole process at or under ~2 Ed25519 checks of CPU per record with both cores busy all the time.
//   2026-11-22, cpu_us_per_record and per-thread CPU (/proc schedstat) now printed, because on this
//   shared machine the wall-clock ratio moved from 0.52 to 1.00 between back-to-back runs of the same
//   code (another benchmark took a core; the bare rate, one thread, barely notices). Same code,
//   before: 249-260 µs CPU per record (main 44, workers 99 + 90, V8 GC/compiler threads ~15). Then:
//   the main thread stores the record text the worker scanned when it is exactly JSON.stringify of
//   its parse (store path 13.5 → 9.8 µs in a micro-benchmark), the hubs row is written once per hub
//   per transaction, the worker makes the signed bytes with JSON.stringify when members are already
//   in JCS order (12 → 5.7 µs; records from this protocol's signers always are), chunks go to the
//   least-loaded worker. After: 224-241 µs CPU per record (main 37-43, workers ~85 + ~85, Ed25519
//   ~125-140 of it), ratio 1.05-1.27 on runs where the machine was not taken by someone else. What
//   is left of reading is the protocol's (parseIJson ~4, zod ~5 µs) and, on the main thread, the
//   native JSON.parse (~5), INSERT (~10), HTTP and the client (~10), resolver apply (~2.5).
//   Tried without a measurable gain: a deeper pull pipeline (3 pages ahead, and the next hub's first
//   page during the last of this one); worker event-loop utilisation stayed ~0.8 in catchup.
//   2026-11-22, later: records INSERTs bind by position (~1 µs a record in a micro-benchmark), the
//   workers hash ids with crypto.hash straight to base64url (~2 µs less than a Hash object and
//   toBase64url) and decode each signing key once. Back to back, --no-restart, a neighbour taking
//   part of a core (waits for a core ~100-120 µs a record): before 198 and 226 µs CPU per record,
//   after 204 and 204, i.e. within this machine's noise; `pnpm bench ingest` then: 195 µs (main 34,
//   workers 74 + 73), read_us_per_record 19.7, ratio 1.182. Not done: reading POST bodies from the
//   IncomingMessage instead of hono's Request.text() (webstreams), which must keep the body limit
//   and drainUnread semantics.
import { createHash } from 'node:crypto';
import { parseRecord, ready, recordJson, signedBytesOfParsed } from '@shuniu/protocol';
import { admitAll, bareVerifyRate, rootNode, signChains, threadCpu, threadCpuPerRecord } from './hubnet.js';
import { progress, quick, report } from './report.js';

await ready();
// Group commit and migration 003 (no records_type index), 2026-11-22, load ~1.5: 7,198 → 7,445-7,471
// records/s; the bare rate moved between 7,087 and 8,031 within those runs, so the ratio read 0.93-1.01.
// Figures since then: see the end of the header comment.
const HUBS = 8;
const PER_HUB = quick ? 500 : 6250;
const BATCH = 500;
const PARALLEL = 4;
const BARE = quick ? 2000 : 10_000;

progress(`signing ${HUBS * PER_HUB} records`);
const chains = signChains(HUBS, PER_HUB, (n) => progress(`  signed ${n}`));

const { node, url, cleanup } = await rootNode('基准省枢纽');
await admitAll(node, chains);

// Each hub's chain goes in order, in batches; PARALLEL hubs at a time, as several peers would push.
const bodies = chains.map((c) => {
  const out: string[] = [];
  for (let i = 0; i < c.records.length; i += BATCH)
    out.push(
      `[${c.records
        .slice(i, i + BATCH)
        .map(recordJson)
        .join(',')}]`,
    );
  return out;
});
const before = bareVerifyRate(chains, BARE);
progress(`bare Ed25519 verify, one core, before: ${before.toFixed(0)}/s`);
let accepted = 0;
const c0 = process.cpuUsage();
const th0 = threadCpu();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    for (let h = next++; h < bodies.length; h = next++) {
      for (const body of bodies[h] as string[]) {
        const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const j = (await res.json()) as { summary: { accepted: number } };
        accepted += j.summary.accepted;
      }
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const threads = threadCpuPerRecord(th0, threadCpu(), HUBS * PER_HUB);
const after = bareVerifyRate(chains, BARE);
progress(`bare Ed25519 verify, one core, after: ${after.toFixed(0)}/s`);
const verify = (before + after) / 2;
// What a worker spends reading one record before its Ed25519 check (ingest-worker.ts fast path:
// strict parse, schema, signed bytes, SHA-256), in CPU time on this thread, so that the figure
// holds on a loaded machine; compare it with 1e6 / verify_per_s_1core.
const texts = chains.flatMap((c) => c.records.slice(0, 1000).map(recordJson));
const readUs = (() => {
  for (const t of texts)
    createHash('sha256')
      .update(signedBytesOfParsed(parseRecord(t)))
      .digest();
  const c0 = process.cpuUsage();
  for (const t of texts)
    createHash('sha256')
      .update(signedBytesOfParsed(parseRecord(t)))
      .digest();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / texts.length;
})();
progress(`reading a record in a worker: ${readUs.toFixed(1)} µs CPU (one Ed25519 check: ${(1e6 / verify).toFixed(0)} µs)`);
const total = HUBS * PER_HUB;
if (accepted !== total) throw new Error(`accepted ${accepted} of ${total}`);
const ingest = total / seconds;
// CPU of the whole process (every thread, the client included) per ingested record: what the
// ratio comes to when both cores are free for this process, and steadier than it on a loaded machine.
const cpuUs = (cpu.user + cpu.system) / total;
progress(
  `ingested ${total} in ${seconds.toFixed(2)} s: ${ingest.toFixed(0)}/s, ${cpuUs.toFixed(0)} µs CPU per record (by thread: ${threads}); timings ${JSON.stringify(node.ingestor.timings)}`,
);
await cleanup();
report('ingest', {
  ingest_per_s: Math.round(ingest),
  verify_per_s_1core: Math.round(verify),
  ratio: Number((ingest / verify).toFixed(3)),
  verify_per_s_1core_before: Math.round(before),
  verify_per_s_1core_after: Math.round(after),
  read_us_per_record: Number(readUs.toFixed(1)),
  cpu_us_per_record: Math.round(cpuUs),
});

// `pnpm bench catchup`: a fresh node pulls 100,000 records from a peer (heads exchange, then
// each hub's missing range in pages), against the bare single-core Ed25519 rate in the same run,
// measured just before and just after the pull (the figure is their mean; both are reported).
//
// Both nodes run in this process on the machine's 2 cores: the source serves pages (one SQL
// query and a string join per page) on the same main thread that commits them on the target.
// Each page's text goes to the ingest workers as soon as it arrives (ingest-worker.ts: I-JSON
// parse, schema, signed bytes, SHA-256 id, Ed25519), so page N+1 is read while page N commits.
//
// Then a checkpoint is written by its worker (issue 11 point 6: snapshot_write_s_100k, the main
// thread's longest stall meanwhile checkpoint_main_block_ms_100k, and for comparison the
// main-thread JSON.stringify the node ran before, checkpoint_main_stringify_s_100k_before), and
// the target's data directory is reopened (HubNode.open + first state hash), once from that
// checkpoint file (Resolver.fromJSON, no re-derivation): restart_s_100k, snapshot_mb_100k; once
// by replaying the records table: restart_replay_s_100k. --no-restart skips this. History: with the resolver before commit
// 05cd98d (one duplicate_need conflict per pair of duplicate candidates) this workload (10 hubs of
// needs for one item in four regions, requesters repeating every 97 needs) made the first state
// hash and the snapshot grow with the square of the records (10,000: replay 6-12 s, snapshot
// 113 MB; 20,000: replay 36 s, snapshot 448 MB written in 24 s), so 100,000 never finished. Since
// then (load ~2, idle machine): 10,000 restart 0.23 s from the snapshot, 0.59 s by replay;
// 100,000: 1.74-1.91 s and 4.44-7.82 s, snapshot of 57.6 MB written in 2.32-3.85 s.
// 2026-11-22: the target's push queue to the source (a followed peer) read every pulled record back
// after each commit only to drop it as the source's own (~7 µs a record of SQLite rows on the main
// thread); the query now skips them (Store.outbound). With the cheaper ingest path (bench/ingest.ts)
// and chunks to the least-loaded worker (the two workers' CPU per record had been 103 and 74):
// 215-242 µs CPU per pulled record, ratio 0.98-1.10 on calm runs (0.72-0.96 before, same machine).
// 2026-11-22, later (commits cad4683..0ffc45c): the source is seeded with the records' canonical
// text (see below; the workers had been paying the protocol's JCS for every pulled record, a bench
// artefact); the log route has SQLite join a page's stored texts (group_concat, read as a UTF-8
// blob) and sends those bytes, where it built a row object and a JS string per record, joined
// them and re-encoded the page (the serving side's main thread, ~5 µs a record); records INSERTs
// bind by position (~1 µs); the workers hash ids with crypto.hash straight to base64url and decode
// each signing key once. Back to back on the same machine (a neighbour using part of a core,
// waits for a core 67-92 µs a record), --no-restart: before 200 and 204 µs CPU per pulled
// record (main 34-36), after 184 and 185 (main 29-30); `pnpm bench catchup` then: 182 µs (main 29,
// workers 79 + 66), ratio 1.174. The per-commit peer cursor write (Federation.drain → updatePeer)
// is one per page of 1,000 records: its fsync is off-CPU and its CPU well under 1 µs a record,
// so it was left as is. Left on the main thread (profile proportions): INSERT ~12-15 µs, native
// JSON.parse of each record ~5, UTF-8 decode of the page by undici ~2.5 (pages holding any
// non-ASCII text decode at ~3× the ASCII rate), resolver apply ~2.5, verifyRecord ~2, page split ~2.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { assumeVerified, ready, recordId, recordJson } from '@shuniu/protocol';
import { CHECKPOINT_FILE } from '../nodes/hub/src/checkpoint-file.js';
import { HubNode, initDataDir } from '../nodes/hub/src/node.js';
import { admitAll, bareVerifyRate, openNode, rootNode, signChains, threadCpu, threadCpuPerRecord } from './hubnet.js';
import { progress, quick, report } from './report.js';

await ready();
const HUBS = 10;
const PER_HUB = quick ? 1000 : 10_000;
const BARE = quick ? 2000 : 10_000;

progress(`signing ${HUBS * PER_HUB} records`);
const chains = signChains(HUBS, PER_HUB, (n) => progress(`  signed ${n}`));

// The source peer is seeded straight into its store (setup, not measured), with the text a node
// holds for records it received from this protocol's signers: their canonical JSON (recordJson),
// stored as it came (ingest keeps a compact text as is). Before 2026-11-22 the seed stored
// JSON.stringify of the signer's objects, whose members are not in JCS order, so every pulled
// record missed the JSON.stringify path for the signed bytes (now in the protocol's jcsOfIJson;
// then the worker's signedBytesOfRead) and paid the full JCS (~15 µs of worker CPU a record) instead.
const source = await rootNode('源省枢纽');
await admitAll(source.node, chains);
source.node.store.transaction(() => {
  for (const c of chains) {
    const inc = c.records[0] as { body: { signingKey: string; encryptionKey: string; recoveryCommitment: string } };
    const keys = { signingKey: inc.body.signingKey, encryptionKey: inc.body.encryptionKey, recoveryCommitment: inc.body.recoveryCommitment };
    for (const r of c.records)
      source.node.store.appendRecord(assumeVerified(r, recordId(r)), keys, { source: 'bench', recovery: false, now: Date.now(), json: recordJson(r) });
  }
});
progress(`source holds ${source.node.store.maxOrd()} records`);

const dir = mkdtempSync(join(tmpdir(), 'shuniu-bench-'));
await initDataDir({ dir, name: '新节点', level: 'city', region: '420900', port: 0, follow: [source.url] });
const target = await openNode(dir);
const before = bareVerifyRate(chains, BARE);
progress(`bare Ed25519 verify, one core, before: ${before.toFixed(0)}/s`);
const c0 = process.cpuUsage();
const th0 = threadCpu();
const t0 = performance.now();
const { accepted } = await target.node.federation.pullFrom(source.url);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const threads = threadCpuPerRecord(th0, threadCpu(), HUBS * PER_HUB);
const after = bareVerifyRate(chains, BARE);
progress(`bare Ed25519 verify, one core, after: ${after.toFixed(0)}/s`);
const verify = (before + after) / 2;
const total = HUBS * PER_HUB;
const held = target.node.store.heads();
const got = chains.reduce((n, c) => n + (held[c.id] ?? -1) + 1, 0);
if (got !== total) throw new Error(`caught up ${got} of ${total} records`);
const rate = accepted / seconds;
// CPU of the whole process (both nodes, every thread) per pulled record, as in bench/ingest.ts.
const cpuUs = (cpu.user + cpu.system) / total;
progress(
  `pulled ${accepted} records in ${seconds.toFixed(2)} s: ${rate.toFixed(0)}/s, ${cpuUs.toFixed(0)} µs CPU per record (by thread: ${threads}); timings ${JSON.stringify(target.node.ingestor.timings)}`,
);
const pullMetrics = {
  catchup_per_s: Math.round(rate),
  verify_per_s_1core: Math.round(verify),
  ratio: Number((rate / verify).toFixed(3)),
  verify_per_s_1core_before: Math.round(before),
  verify_per_s_1core_after: Math.round(after),
  cpu_us_per_record: Math.round(cpuUs),
};
const restart = !process.argv.includes('--no-restart');
if (!restart) {
  await target.cleanup();
  await source.cleanup();
  report('catchup', pullMetrics);
  process.exit(0);
}

// The snapshot, with no cap on its size. Since issue 11 point 6 a worker writes it (the node's
// main thread only starts it): timed are its wall time and the main thread's longest stall
// meanwhile (event-loop delay, sampled every 10 ms). For comparison, what the main thread spent
// before on the same state: JSON.stringify of the resolver's snapshot, which it ran inside the
// commit that triggered a checkpoint (the row's write came on top).
const hash = target.node.ingestor.engine.stateHash();
(target.node.config as { checkpointMaxRecords: number }).checkpointMaxRecords = 0;
const ts = performance.now();
JSON.stringify(target.node.ingestor.engine.toJSON());
const mainStringify = (performance.now() - ts) / 1000;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const tw = performance.now();
await target.node.checkpoint(); // joins one the pull started, if any (else writes the full one)
await target.node.checkpoint(); // then up to the last record
const snapshotWrite = (performance.now() - tw) / 1000;
loop.disable();
const mainBlockMs = loop.max / 1e6;
progress(
  `checkpoint by its worker: ${snapshotWrite.toFixed(2)} s, main thread's longest stall ${mainBlockMs.toFixed(1)} ms (stringify on the main thread, as before: ${mainStringify.toFixed(2)} s)`,
);
await target.node.close();
await source.cleanup();

// Restart, with the snapshot and by replay, on the same directory.
async function open(maxRecords: number) {
  const t = performance.now();
  const node = await HubNode.open(dir, { log: () => {}, overrides: { federation: { pullIntervalMs: 0 }, checkpointMaxRecords: maxRecords } });
  const h = node.ingestor.engine.stateHash();
  return { node, hash: h, s: (performance.now() - t) / 1000 };
}
const snap = await open(0);
const snapshotMb = statSync(join(dir, CHECKPOINT_FILE)).size / 1e6;
progress(`restart with the snapshot: ${snap.s.toFixed(2)} s (snapshot of ${snapshotMb.toFixed(1)} MB written in ${snapshotWrite.toFixed(2)} s)`);
if (snap.hash !== hash) throw new Error('restart changed the state hash');
await snap.node.close();
rmSync(join(dir, CHECKPOINT_FILE));
const replay = await open(1);
progress(`restart by replaying ${replay.node.store.maxOrd()} records: ${replay.s.toFixed(2)} s`);
if (replay.hash !== hash) throw new Error('restart changed the state hash');
await replay.node.close();
rmSync(dir, { recursive: true, force: true });

report('catchup', {
  ...pullMetrics,
  restart_s_100k: Number(snap.s.toFixed(2)),
  restart_replay_s_100k: Number(replay.s.toFixed(2)),
  snapshot_write_s_100k: Number(snapshotWrite.toFixed(2)),
  checkpoint_main_block_ms_100k: Number(mainBlockMs.toFixed(1)),
  checkpoint_main_stringify_s_100k_before: Number(mainStringify.toFixed(2)),
  snapshot_mb_100k: Number(snapshotMb.toFixed(1)),
});

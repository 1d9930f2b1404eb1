// `pnpm bench resolve [--quick] [--sizes=100000,...] [--apply-only] [--purejs]`:
// applies 10k, 100k and 1M generated records to a fresh Resolver each and
// computes the state hash (the resolved state is what nodes compare). The
// resolver hashes with the SHA-256 the reference hub node gives it, Node's
// native crypto.hash('sha256', text) (nodes/hub/src/state.ts): the headline
// records_per_s_* figures use it. records_per_s_1m_purejs is a second 1M run
// with the package's default pure-TypeScript SHA-256 (what a browser gets;
// same digests, same state hash); --purejs makes every run use it.
// records/s = n / (time of every apply() + one stateHash()); that time is
// also reported split into apply (filing), derive (stats(), which flushes)
// and the state hash proper. Records are well formed but unsigned (fake sig,
// precomputed ids): the resolver never verifies, so this measures resolution
// alone. Generation runs in batches with the clock stopped, so neither its
// time nor (mostly) its memory is counted. A 10k warm-up on a throwaway
// resolver comes first (JIT). GC: the heap is collected before each size (the
// previous size's garbage is not this one's cost); the collections a run
// causes fall where they fall and are part of its figure, as in a node. The machine is shared: the
// progress lines give CPU times next to wall times, and cpu_s_* (user CPU of
// every thread, GC helpers included) and loadavg_start/_end go in the metrics. Reference measured in the
// same run on the same records (generated again after the resolver's timing, so
// that the reference map does not hold every record alive while the resolver
// is timed): Map.set(id, record) into a bare Map. At the largest size it also measures state() materialisation and the
// snapshot: toJSON() + JSON.stringify (what the hub node stores) and
// JSON.parse + Resolver.fromJSON + stateHash() (a restart), against
// replaying every record (replay_s = the main run's time, without the record
// parsing and schema checks a node's replay from its store adds).
// records_per_s_1m_without_hash: the same 1M run's apply + derive only.
//
// History at 1M (records/s, this 2-core machine, wall clock of a shared machine):
// 37,500-54,900 with a map per index and JSON.stringify of every view (before
// 2026-11-22); the four large views and conflicts through hand-written JCS
// templates and crypto.hash straight from the text: state hash 6.5 -> 4.0 s;
// one node per id with references instead of id-keyed maps, stage queues with
// bits instead of Sets: derive 12.8 -> 7.6 s; then exact-size arrays, one
// literal per view, an allocation's handoffs as a short list and shared record
// objects in views (606 -> 511 bytes per record derived): GC pauses 4.5 -> 2.3 s;
// numeric sort of bucket entries. 90,400-105,900 across runs since; GC is a
// fifth to a third of the time at 1M and varies most between runs.

import { hash } from 'node:crypto';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BodyOf, RecordType, SignedRecord, Verified } from '@shuniu/protocol';
import { assumeVerified } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { progress, quick, report } from './report.js';

/**
 * A full collection before each size, so that one size's garbage is not
 * collected during the next one's timing (each run's own collections stay in
 * its figure). node exposes gc() only with --expose-gc; the flag set at run
 * time takes effect for a new context, which hands its gc() over.
 */
const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

/** Time spent in garbage collection pauses (main thread), from the runtime's own gc entries. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
const settle = (): Promise<void> => new Promise((res) => setTimeout(res, 50));

const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
/** A random 43-character base64url id whose last character is canonical for 32 bytes. */
function fakeId(): string {
  const c = new Array<number>(43);
  for (let i = 0; i < 42; i++) c[i] = A.charCodeAt((rnd() * 64) | 0);
  c[42] = 'AEIMQUYcgkosw048'.charCodeAt((rnd() * 16) | 0);
  // One flat string, as JSON.parse gives a node (not a rope of 43 pieces).
  return String.fromCharCode(...c);
}
const SIG = `${'x'.repeat(85)}A`;
const T0 = Date.UTC(2020, 0, 24, 8);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface GenHub {
  id: string;
  seq: number;
  prev: string | null;
  ms: number;
}

const ITEMS = ['PPE.MASK.N95', 'PPE.MASK.SURGICAL', 'PPE.GOWN', 'MED.GLOVE', 'FOOD.VEG', 'FOOD.RICE', 'MED.THERMOMETER', 'DAILY.DISINFECTANT'].map((code) => ({
  code,
  name: code,
}));
const UNIT = { name: 'box', base: 'piece', size: 50 };
const BENEF = { group: 'medical_staff' as const, count: 300 };
const DONOR = { name: '壹基金', kind: 'foundation' as const };
const INTENT = { regions: ['42'] };
const CARRIER = { name: '包车', kind: 'chartered_truck' as const };

/**
 * Generates `n` records: a hub tree (province root, cities, counties,
 * foundations) then cycles of need → offer → allocation → acceptance →
 * handoff → receipt → delivery. Batches come out of `next()` so that the
 * bench can stop the clock while it generates and never holds all records.
 */
function generator(n: number): { roots: string[]; next: (batch: number) => Verified[] } {
  let out: Verified[] = [];
  let emitted = 0;
  let clock = T0;
  const mk = <T extends RecordType>(h: GenHub, type: T, body: BodyOf<T>): string => {
    const id = fakeId();
    clock += 1000;
    h.ms = clock;
    const record = { v: 1, type, hub: h.id, seq: h.seq, prev: h.prev, hlc: { ms: clock, c: 0 }, body, sig: SIG } as unknown as SignedRecord;
    out.push(assumeVerified(record, id));
    h.seq++;
    h.prev = id;
    return id;
  };
  const newHub = (): GenHub => {
    const h: GenHub = { id: fakeId(), seq: 0, prev: null, ms: clock };
    mk(h, 'hub.inception', { signingKey: fakeId(), encryptionKey: fakeId(), recoveryCommitment: fakeId(), created: iso(T0) });
    return h;
  };
  const root = newHub();
  mk(root, 'hub.profile', { name: { zh: '湖北枢纽' }, level: 'province', region: '420000', endpoints: [] });
  const cities = Array.from({ length: 16 }, () => newHub());
  for (const c of cities) mk(root, 'hub.admitted', { child: c.id, level: 'city', region: '420900' });
  const counties = Array.from({ length: 100 }, () => newHub());
  counties.forEach((c, i) => {
    mk(cities[i % cities.length] as GenHub, 'hub.admitted', { child: c.id, level: 'county', region: '420902' });
  });
  const founds = Array.from({ length: 20 }, () => newHub());
  for (const f of founds) mk(root, 'hub.admitted', { child: f.id, level: 'org', region: '420000' });

  const pick = <T>(xs: T[]): T => xs[(rnd() * xs.length) | 0] as T;
  let k = 0;
  let lastNeed: string | undefined;
  const cycle = (): void => {
    k++;
    const county = pick(counties);
    const found = pick(founds);
    const item = pick(ITEMS);
    const need = mk(county, 'need.posted', {
      item,
      quantity: 100,
      unit: UNIT,
      urgency: 'high',
      neededBy: iso(T0 + ((k % 60) + 5) * 86_400_000),
      region: '420902',
      beneficiaries: BENEF,
      requester: { name: `医院 ${k % 5000}`, kind: 'hospital' },
    });
    const offer = mk(found, 'offer.posted', {
      kind: 'goods',
      item,
      quantity: 150,
      unit: UNIT,
      valueFen: 1_000_000,
      donor: DONOR,
      intent: INTENT,
      region: '420900',
    });
    const alloc = mk(found, 'allocation', { offer, need, quantity: 5000 });
    // Every fourth offer is also promised to the previous need: over-allocation and over-fulfilment.
    if (lastNeed && k % 4 === 0) mk(found, 'allocation', { offer, need: lastNeed, quantity: 5000 });
    lastNeed = need;
    mk(county, 'allocation.accepted', { allocation: alloc });
    const handoff = mk(found, 'custody.handoff', {
      shipment: `SH-${k}`,
      from: found.id,
      to: county.id,
      lines: [{ item, quantity: 100, unit: UNIT }],
      carrier: CARRIER,
      expectedArrival: iso(clock + 2 * 86_400_000),
      allocations: [alloc],
    });
    mk(county, 'custody.receipt', { handoff, lines: [{ line: 0, accepted: 98, rejected: 0, missing: 2 }], received: iso(clock + 86_400_000) });
    mk(county, 'custody.delivered', {
      need,
      handoffs: [handoff],
      lines: [{ item, quantity: 90, unit: UNIT }],
      recipient: { name: `医院 ${k % 5000}`, kind: 'hospital' },
      peopleServed: 300,
      delivered: iso(clock + 86_400_000),
    });
    if (k % 3 === 0) mk(county, 'need.updated', { need, quantity: 120 });
  };
  return {
    roots: [root.id],
    next(batch: number): Verified[] {
      while (out.length < batch && emitted + out.length < n) cycle();
      const take = Math.min(batch, n - emitted, out.length);
      const b = out.slice(0, take);
      out = out.slice(take);
      emitted += take;
      return b;
    },
  };
}

const BATCH = 10_000;
/** The hub node's hasher (nodes/hub/src/state.ts): node:crypto straight from the text. */
const nativeSha256Text = (t: string): string => hash('sha256', t, 'base64url');
const pureOnly = process.argv.includes('--purejs');
const mb = (b: number): number => Math.round(b / 1048576);

interface Run {
  n: number;
  ms: number;
  applyMs: number;
  deriveMs: number;
  hashMs: number;
  mapMs: number;
  gcMs: number;
  rssMb: number;
  /** The process's peak RSS when the run's state hash was done (before the reference pass, which holds its own copy of the records). */
  peakMb: number;
  r: Resolver;
  roots: string[];
  hash: string;
  stats: Record<string, number>;
  /** The generator's seed before this run: a later run from it generates the same records. */
  seed0: number;
  /** User CPU of apply + derive + hash, every thread of the process (so GC helpers too): less sensitive to a shared machine than wall time. */
  cpuMs: number;
}

/**
 * One fresh Resolver: times every apply() and one stateHash(); generation
 * (between batches) is outside the timed region. The bare-Map reference gets
 * the same batches.
 */
function run(n: number, pure = pureOnly): Run {
  const seed0 = seed;
  const gen = generator(n);
  const r = new Resolver({ roots: gen.roots, sha256Text: pure ? undefined : nativeSha256Text });
  let applyMs = 0;
  let applyCpu = 0;
  for (let b = gen.next(BATCH); b.length > 0; b = gen.next(BATCH)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < b.length; i++) r.apply(b[i] as Verified);
    applyCpu += process.cpuUsage(c0).user;
    applyMs += performance.now() - t0;
  }
  // stateHash() = derive the touched objects (apply() only files records) +
  // hash them; stats() runs the derivation alone first so both are reported.
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const stats = r.stats();
  const t3 = performance.now();
  const c3 = process.cpuUsage();
  const hash = r.stateHash();
  const t4 = performance.now();
  const deriveMs = t3 - t2;
  const hashMs = t4 - t3;
  const cpu = { apply: applyCpu / 1000, derive: process.cpuUsage(c2).user / 1000 - process.cpuUsage(c3).user / 1000, hash: process.cpuUsage(c3).user / 1000 };
  const ms = applyMs + deriveMs + hashMs;
  const rssMb = mb(process.memoryUsage().rss);
  const peakMb = mb(process.resourceUsage().maxRSS * 1024);
  // The reference, on the same records generated again (the generator's seed
  // ends where the main pass left it): a bare Map.set of each. Not during the
  // resolver's timing, so that its map does not keep every record alive then.
  const seedAfter = seed;
  seed = seed0;
  const again = generator(n);
  const m = new Map<string, Verified>();
  let mapMs = 0;
  for (let b = again.next(BATCH); b.length > 0; b = again.next(BATCH)) {
    const t1 = performance.now();
    for (let i = 0; i < b.length; i++) {
      const v = b[i] as Verified;
      m.set(v.id, v);
    }
    mapMs += performance.now() - t1;
  }
  m.clear();
  if (seed !== seedAfter) throw new Error('the reference pass generated other records');
  progress(
    `${n} records (${pure ? 'pure-TS' : 'native'} SHA-256): apply ${applyMs.toFixed(0)} ms + derive ${deriveMs.toFixed(0)} ms + state hash ${hashMs.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)} records/s (cpu ${cpu.apply.toFixed(0)} + ${cpu.derive.toFixed(0)} + ${cpu.hash.toFixed(0)} ms; bare Map.set ${mapMs.toFixed(0)} ms); rss ${rssMb} MB; ${JSON.stringify(stats)}`,
  );
  return { n, ms, applyMs, deriveMs, hashMs, mapMs, gcMs: 0, rssMb, peakMb, r, roots: gen.roots, hash, stats, seed0, cpuMs: cpu.apply + cpu.derive + cpu.hash };
}

const load0 = loadavg()[0] as number;
const sizeArg = process.argv.find((a) => a.startsWith('--sizes='));
const sizes = sizeArg ? sizeArg.slice(8).split(',').map(Number) : quick ? [1_000, 10_000, 100_000] : [10_000, 100_000, 1_000_000];
// Warm-up (JIT), on a throwaway resolver and records the runs never see.
{
  const w = generator(10_000);
  const recs = w.next(10_000);
  for (const sha256Text of [nativeSha256Text, undefined]) {
    const r = new Resolver({ roots: w.roots, sha256Text });
    for (const v of recs) r.apply(v);
    r.stateHash();
  }
  progress('warmed up on 10000 records');
}
const runs: Run[] = [];
for (const n of sizes) {
  gc();
  await settle();
  const gc0 = gcMs;
  const x = run(n);
  await settle();
  x.gcMs = gcMs - gc0;
  progress(`  of which GC pauses ${x.gcMs.toFixed(0)} ms (includes the bare-Map reference's)`);
  runs.push(x);
  if (n !== sizes[sizes.length - 1]) x.r = undefined as unknown as Resolver;
}
const big = runs[runs.length - 1] as Run;
const peakRss = big.peakMb;

// --apply-only (iteration, profiling): skips state() and the snapshot round trip.
if (process.argv.includes('--apply-only')) {
  const x = runs.map((r) => ({
    n: r.n,
    records_per_s: Math.round((r.n / r.ms) * 1000),
    apply_ms: Math.round(r.applyMs),
    derive_ms: Math.round(r.deriveMs),
    hash_ms: Math.round(r.hashMs),
  }));
  process.stdout.write(`${JSON.stringify({ bench: 'resolve', runs: x, peak_rss_mb: peakRss })}\n`);
  process.exit(0);
}

// state() materialisation (the full plain-JSON state), once.
let t = performance.now();
big.r.state();
const stateMs = performance.now() - t;
progress(`state(): ${stateMs.toFixed(0)} ms`);

// Snapshot round trip, as the hub node does it.
t = performance.now();
let text: string | undefined = JSON.stringify(big.r.toJSON());
const snapMs = performance.now() - t;
const snapshotMb = mb(text.length);
big.r = undefined as unknown as Resolver;
gc();
t = performance.now();
let restored: Resolver | undefined = Resolver.fromJSON(JSON.parse(text), { roots: big.roots, sha256Text: pureOnly ? undefined : nativeSha256Text });
const restoredHash = restored.stateHash();
const restoreMs = performance.now() - t;
// Both dropped before the next run.
text = undefined;
restored = undefined;
progress(
  `snapshot: toJSON+stringify ${snapMs.toFixed(0)} ms, ${snapshotMb} MB; parse+fromJSON+stateHash ${restoreMs.toFixed(0)} ms (replay: ${big.ms.toFixed(0)} ms); hash ${restoredHash === big.hash ? 'equal' : 'DIFFERENT'}`,
);
if (restoredHash !== big.hash) throw new Error('restored state hash differs');

// The same largest size again with the pure-TypeScript SHA-256 (the package default), on a fresh resolver.
let pureRun: Run | undefined;
if (!pureOnly) {
  gc();
  await settle();
  const gc0 = gcMs;
  seed = big.seed0; // the same records as the native run
  pureRun = run(big.n, true);
  pureRun.r = undefined as unknown as Resolver;
  await settle();
  pureRun.gcMs = gcMs - gc0;
  progress(`  of which GC pauses ${pureRun.gcMs.toFixed(0)} ms; state hash ${pureRun.hash === big.hash ? 'equal' : 'DIFFERENT'} to the native run's`);
  if (pureRun.hash !== big.hash) throw new Error('pure-TS and native state hashes differ');
}

const metric = (i: number): Run => runs[Math.min(i, runs.length - 1)] as Run;
const [a, b, c] = [metric(0), metric(1), metric(2)];
const metrics = {
  records_per_s_10k: Math.round((a.n / a.ms) * 1000),
  records_per_s_100k: Math.round((b.n / b.ms) * 1000),
  records_per_s_1m: Math.round((c.n / c.ms) * 1000),
  // The same 1M run without the state hash (apply + derive only): what applying costs when nobody asks for the hash.
  records_per_s_1m_without_hash: Math.round((c.n / (c.applyMs + c.deriveMs)) * 1000),
  records_per_s_1m_purejs: pureRun ? Math.round((pureRun.n / pureRun.ms) * 1000) : Math.round((c.n / c.ms) * 1000),
  state_hash_ms_1m_purejs: pureRun ? Math.round(pureRun.hashMs) : Math.round(c.hashMs),
  peak_rss_mb_1m: peakRss,
  time_ratio_1m_over_100k: Number((c.ms / b.ms).toFixed(2)),
  apply_s_1m: Number((c.applyMs / 1000).toFixed(2)),
  derive_s_1m: Number((c.deriveMs / 1000).toFixed(2)),
  gc_pause_s_1m: Number((c.gcMs / 1000).toFixed(2)),
  state_hash_ms_1m: Math.round(c.hashMs),
  state_ms_1m: Math.round(stateMs),
  conflicts_1m: c.stats.conflicts ?? 0,
  map_set_per_s_1m: Math.round((c.n / c.mapMs) * 1000),
  ratio_map_over_resolve_1m: Number((c.ms / c.mapMs).toFixed(1)),
  snapshot_mb_1m: snapshotMb,
  snapshot_s_1m: Number((snapMs / 1000).toFixed(2)),
  snapshot_restore_s_1m: Number((restoreMs / 1000).toFixed(2)),
  replay_s_1m: Number((c.ms / 1000).toFixed(2)),
  cpu_s_100k: Number((b.cpuMs / 1000).toFixed(2)),
  cpu_s_1m: Number((c.cpuMs / 1000).toFixed(2)),
  cpu_s_1m_purejs: pureRun ? Number((pureRun.cpuMs / 1000).toFixed(2)) : Number((c.cpuMs / 1000).toFixed(2)),
  // The 2 cores are shared: the 1-minute load average when the runs started and when they ended.
  loadavg_start: Number(load0.toFixed(2)),
  loadavg_end: Number((loadavg()[0] as number).toFixed(2)),
};
// Ad-hoc sizes are for iteration: printed, not written to bench/results.
if (sizeArg) process.stdout.write(`${JSON.stringify({ bench: 'resolve', metrics })}\n`);
else report('resolve', metrics);

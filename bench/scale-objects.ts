// Resident memory of the resolver alone, letting finished objects go or not (docs/scale-memory.md, step 3 as
// built): the first N records of `pnpm bench scale --quick`'s cached history (run that once first; the
// node's own admissions are not in it, so its cities and foundations are taken as roots), applied in
// process without signature checks, the state hash every 1,000 records and, with `letgo`, Resolver.letGo()
// after it into the node's SQLite object store (a temporary database). Prints one JSON line: time, state
// hash (equal in both modes), heap after a full GC, peak RSS (both before the restart below), nodes stored and
// their text size; then the restart: the snapshot a restart reads (keep: the whole state, Resolver.toJSON; letting
// go: the open state over the store, Resolver.openSnapshot), its size, and the time to take it and restore from it.
// --trace counts the loads of objects that left memory by call site (Resolver.traceLoads).
//   npx tsx --expose-gc --conditions=@shuniu/source bench/scale-objects.ts 200000 keep|letgo
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { assumeVerified, parseRecord, ready, recordId } from '@shuniu/protocol';
import { MapObjectStore, Resolver } from '@shuniu/resolve';
import { SqliteObjectStore } from '../nodes/hub/src/store/finished.js';
import { SqliteStore } from '../nodes/hub/src/store/sqlite.js';

await ready();
const N = Number(process.argv[2] ?? 200000);
const mode = process.argv[3] ?? 'keep';
const base = join(tmpdir(), 'shuniu-scale-v1-1000000');
const meta = JSON.parse(readFileSync(`${base}.meta.json`, 'utf8'));
const roots = [...meta.cities.map((c: { id: string }) => c.id), ...meta.foundations];
for (const ext of ['', '-wal', '-shm']) rmSync(join(tmpdir(), `shuniu-scale-objects.db${ext}`), { force: true });
const db = new SqliteStore(join(tmpdir(), 'shuniu-scale-objects.db')).db;
const sq = new SqliteObjectStore(db);
const store = mode === 'letgo-map' ? new MapObjectStore() : sq;
const r = new Resolver(mode !== 'keep' ? { roots, objects: store } : { roots });
const trace = process.argv.includes('--trace');
if (trace) {
  Error.stackTraceLimit = 20;
  r.traceLoads();
}
let n = 0;
const t0 = performance.now();
let lastBack = 0;
for (const f of ['a', 'b']) {
  const lines = createInterface({ input: createReadStream(`${base}.${f}.ndjson`, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    const rec = parseRecord(line);
    r.apply(assumeVerified(rec, recordId(rec)));
    n++;
    if (n % 1000 === 0) {
      r.stateHash();
      if (mode !== 'keep') r.letGo();
    }
    if (n % 10000 === 0) {
      const c = r.objectCounts();
      console.error(
        `${n} ${((performance.now() - t0) / 1000).toFixed(1)}s out ${c.out} back ${c.back} (+${c.back - lastBack}) stored ${(db.prepare('SELECT count(*) AS n FROM finished').get() as { n: number }).n} rss ${Math.round(process.memoryUsage().rss / 1e6)} heap ${Math.round(process.memoryUsage().heapUsed / 1e6)}/${Math.round(process.memoryUsage().heapTotal / 1e6)} ext ${Math.round(process.memoryUsage().external / 1e6)}`,
      );
      lastBack = c.back;
    }
    if (n >= (N / 2) * (f === 'a' ? 1 : 2)) break;
  }
  lines.close();
}
const hash = r.stateHash();
if (trace) for (const [site, k] of r.loadSites().slice(0, 40)) console.error(`${k}\t${site}`);
if (mode !== 'keep') r.letGo();
(globalThis as { gc?: () => void }).gc?.();
const storeMb = (db.prepare('SELECT coalesce(sum(length(node) + coalesce(length(view), 0)), 0) AS n FROM finished').get() as { n: number }).n / 1e6;
const heap = process.memoryUsage();
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const s = Math.round((performance.now() - t0) / 1000);
const cpuS = Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1e6);
// Restart: the snapshot a restart reads (letting go: the open state over the store, Resolver.openSnapshot; keeping
// everything: the whole state, toJSON) through JSON text, and the restore from it, with the state hash checked.
const snapT0 = performance.now();
const snapText = JSON.stringify(mode === 'keep' ? r.toJSON() : r.openSnapshot());
const snapS = (performance.now() - snapT0) / 1000;
const restoreT0 = performance.now();
const restored = Resolver.fromJSON(JSON.parse(snapText), mode === 'keep' ? { roots } : { roots, objects: store });
if (restored.stateHash() !== hash) throw new Error('the restored state hash differs');
const restart = {
  snapshot_mb: Math.round(snapText.length / 1e6),
  snapshot_s: Number(snapS.toFixed(1)),
  restore_s: Number(((performance.now() - restoreT0) / 1000).toFixed(1)),
};
console.log(
  JSON.stringify({
    mode,
    records: n,
    s,
    cpu_s: cpuS,
    hash,
    heap_mb: Math.round(heap.heapUsed / 1e6),
    store_text_mb: Math.round(storeMb),
    stats: r.stats(),
    restart,
    objects: r.objectCounts(),
    resident: r.residentByType(),
    stored: (db.prepare('SELECT count(*) AS n FROM finished').get() as { n: number }).n,
    peak_rss_mb: peakRssMb,
    rss_mb: Math.round(heap.rss / 1e6),
  }),
);

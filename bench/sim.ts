// `pnpm bench sim [--quick]` (issue 15): the deterministic network simulator (test/sim).
//
// seeds_per_min_10_nodes: whole simulator runs (setup, 30 steps of workload and faults, final heal
// and drain, invariants) of 10 real nodes, per minute of wall time, one process. The first run
// also sets up the 10-node template every run starts from (test/sim/lib/sim.ts, once per shape
// and process), so it is counted in the figure.
// national_*: a national-shaped network — a national root, 34 provinces, their cities and 3
// foundations as full nodes; county hubs hosted by their city's process (they sign and push to
// it). Every node stores every record, so the whole shape (300 cities, 2,800 counties) does not
// fit one process on this machine: the run is scaled down to 3 cities a province and 3 counties a
// city (140 nodes, 446 hubs; national_nodes, national_hubs say so; about 4 minutes and 1.7 GB). national_converge_s is virtual seconds from the final heal to every node agreeing;
// messages_per_record is requests sent between nodes (pushes, heads, log pages) per stored record;
// national_rss_mb the process's resident memory at the end.
import { runNational, runSim } from '../test/sim/lib/sim.js';
import { progress, quick, report } from './report.js';

const seeds = quick ? 2 : 6;
const t0 = performance.now();
let failed = 0;
for (let k = 0; k < seeds; k++) {
  const r = await runSim({ seed: 5000 + k, nodes: 10, steps: 30 });
  if (r.failures.length > 0) failed++;
  progress(`seed ${5000 + k}: ${r.stats.messages} messages, ${r.stats.records} records, ${r.failures.length} failures, trace ${r.traceHash.slice(0, 16)}`);
}
const seedsPerMin = seeds / ((performance.now() - t0) / 60_000);

const shape = quick
  ? { provinces: 4, citiesPerProvince: 1, countiesPerCity: 2, foundations: 1 }
  : { provinces: 34, citiesPerProvince: 3, countiesPerCity: 3, foundations: 3 };
const n = await runNational({ seed: 1, steps: quick ? 30 : 100, shape, log: progress });
progress(`national: ${JSON.stringify({ ...n, failures: n.failures.slice(0, 5) })}`);

report('sim', {
  seeds_per_min_10_nodes: Math.round(seedsPerMin * 10) / 10,
  seed_failures: failed,
  national_nodes: n.nodes,
  national_hubs: n.hubs,
  national_records: n.records,
  national_converge_s: n.convergeS,
  messages_per_record: Math.round((n.messages / Math.max(1, n.records)) * 10) / 10,
  national_rss_mb: n.rssMb,
  national_wall_s: Math.round(n.wallS),
  national_failures: n.failures.length,
});

// `pnpm sim --seed S --nodes N --steps K [--trace]`: one simulator run (test/sim/lib/sim.ts),
// replayed exactly from its seed. Prints the failures, then the trace hash as the last line.
import { parseArgs } from 'node:util';
import { runSim } from './lib/sim.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    nodes: { type: 'string', default: '8' },
    steps: { type: 'string', default: '200' },
    trace: { type: 'boolean', default: false },
  },
});
const seed = Number(values.seed);
const nodes = Number(values.nodes);
const steps = Number(values.steps);
if (!Number.isInteger(seed) || !Number.isInteger(nodes) || nodes < 1 || !Number.isInteger(steps) || steps < 0) {
  process.stderr.write('usage: pnpm sim --seed <int> --nodes <n ≥ 1> --steps <k ≥ 0> [--trace]\n');
  process.exit(2);
}
const t0 = performance.now();
const r = await runSim({ seed, nodes, steps, keepTrace: values.trace });
if (values.trace) for (const l of r.trace) process.stdout.write(`${l}\n`);
process.stderr.write(`${JSON.stringify({ seed, nodes, steps, ...r.stats, failures: r.failures.length, ms: Math.round(performance.now() - t0) })}\n`);
for (const f of r.failures) process.stderr.write(`FAIL ${f}\n`);
process.stdout.write(`trace ${r.traceHash}\n`);
process.exit(r.failures.length > 0 ? 1 : 0);

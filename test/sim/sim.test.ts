// The deterministic network simulator (issue 15): many seeds of 5–12 real nodes over a simulated
// network; the same seed replays the same trace; failing seeds kept in seeds/ are replayed forever.
// SHUNIU_LONG=1 runs the long tier (more seeds, more steps).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runNational, runSim, type SimOptions } from './lib/sim.js';

const LONG = process.env.SHUNIU_LONG === '1';
// 88 seeds in CI (11 of each size): 96 seeds took 100 s on this 2-core machine at load 6.5-7 (61.6 s
// of CPU; the file 121 s), so 88 keep the file under about 2 minutes when the machine is shared
// (docs/simulator.md); SHUNIU_SIM_SEEDS=n runs n.
const SEEDS = Number(process.env.SHUNIU_SIM_SEEDS ?? '') || (LONG ? 500 : 88);
const STEPS = LONG ? 120 : 30;

interface SeedFile extends Omit<SimOptions, 'keepTrace' | 'baseDir'> {
  found: string;
  fix: string;
  open?: boolean;
}

const seedDir = new URL('./seeds/', import.meta.url);
const seedFiles = readdirSync(seedDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: f, ...(JSON.parse(readFileSync(new URL(f, seedDir), 'utf8')) as SeedFile) }));

const explain = (r: Awaited<ReturnType<typeof runSim>>) =>
  `seed ${r.seed} (${r.nodes} nodes, ${r.steps} steps): replay with \`pnpm sim --seed ${r.seed} --nodes ${r.nodes} --steps ${r.steps}\`\n${r.failures.join('\n')}`;

describe('the simulator replays a run from its seed', () => {
  it('two runs of the same seed give the same trace hash; another seed another', async () => {
    const a = await runSim({ seed: 7, nodes: 6, steps: 25 });
    const b = await runSim({ seed: 7, nodes: 6, steps: 25 });
    const c = await runSim({ seed: 8, nodes: 6, steps: 25 });
    expect(a.failures, explain(a)).toEqual([]);
    expect(a.traceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.traceHash).toBe(a.traceHash);
    expect(c.traceHash).not.toBe(a.traceHash);
    // The run did exercise the network: messages, faults, and records everywhere.
    expect(a.stats.messages).toBeGreaterThan(50);
    expect(a.stats.acked).toBeGreaterThan(0);
  }, 120_000);
});

describe('saved seeds (test/sim/seeds): each a failure the simulator found, replayed forever', () => {
  for (const s of seedFiles.filter((x) => !x.open))
    it(`${s.file}: no invariant broken`, async () => {
      const r = await runSim({
        seed: s.seed,
        nodes: s.nodes,
        steps: s.steps,
        ...(s.faults ? { faults: s.faults } : {}),
        ...(s.pullOnlyFollower ? { pullOnlyFollower: true } : {}),
      });
      expect(r.failures, explain(r)).toEqual([]);
    }, 120_000);
  // Open findings: the run still breaks an invariant. When this test fails, the bug is fixed: drop `open` from the file.
  for (const s of seedFiles.filter((x) => x.open))
    it(`${s.file}: still breaks an invariant (open finding)`, async () => {
      const r = await runSim({
        seed: s.seed,
        nodes: s.nodes,
        steps: s.steps,
        ...(s.faults ? { faults: s.faults } : {}),
        ...(s.pullOnlyFollower ? { pullOnlyFollower: true } : {}),
      });
      expect(r.failures.length).toBeGreaterThan(0);
    }, 180_000);
});

describe(`${SEEDS} seeds of 5–12 nodes, ${STEPS} steps each`, () => {
  it(
    'every run converges and keeps every invariant',
    async () => {
      const failed: string[] = [];
      for (let k = 0; k < SEEDS; k++) {
        const seed = 1000 + k;
        const r = await runSim({ seed, nodes: 5 + (k % 8), steps: STEPS });
        if (r.failures.length > 0) failed.push(explain(r));
      }
      expect(failed).toEqual([]);
    },
    LONG ? 24 * 3600_000 : 600_000,
  );
});

describe.runIf(LONG)('the long tier: a national-shaped network', () => {
  it('34 provinces with their cities and foundations, county hubs on their cities: converges, every invariant kept', async () => {
    const r = await runNational({ seed: 1, steps: 200, shape: { provinces: 34, citiesPerProvince: 1, countiesPerCity: 2, foundations: 3 } });
    process.stderr.write(`[sim] national ${JSON.stringify({ ...r, failures: r.failures.length })}\n`);
    expect(r.failures).toEqual([]);
    expect(r.convergeS).toBeGreaterThanOrEqual(0);
  }, 3600_000);
});

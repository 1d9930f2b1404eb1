import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzNode, runFuzz } from '../lib/fuzz.js';
import { figure } from '../lib/harness.js';

let n: Awaited<ReturnType<typeof fuzzNode>>;
beforeAll(async () => {
  n = await fuzzNode();
});
afterAll(async () => {
  await n.node.close();
});

describe('bad input at volume', () => {
  it('100,000 generated inputs: no 5xx, every refusal a spec code, nothing stored', async () => {
    const seed = Number(process.env.SHUNIU_FUZZ_SEED ?? 20200124);
    const runs = Number(process.env.SHUNIU_FUZZ_RUNS ?? 100_000);
    const stats = await runFuzz(n.node, n.url, { runs, seed, socket: 2000, bin: 2000 });
    figure('fuzz-long', { seed, ...stats, faults: stats.faults.length });
    expect(stats.faults.slice(0, 20)).toEqual([]);
    expect(stats.inputs).toBeGreaterThanOrEqual(runs);
    expect(stats.after.records).toBe(stats.before.records);
    expect(stats.after.hash).toBe(stats.before.hash);
    expect(stats.after.forks).toBe(stats.before.forks);
    expect(stats.after.held - stats.before.held).toBeLessThanOrEqual(stats.heldAcks);
  });
});

import { describe, expect, it } from 'vitest';
import { runPartitions, runSseLoad } from '../lib/chaos.js';

describe('partitions and load at network scale', () => {
  it('22 nodes (province, 5 cities, 15 counties, a foundation): 30 s of cuts and stops, then one state hash', async () => {
    const s = await runPartitions({ cities: 5, perCity: 3, chaosMs: 30_000, seed: Number(process.env.SHUNIU_CHAOS_SEED ?? 2260) });
    expect(s.nodes).toBeGreaterThanOrEqual(20);
    expect(s.converged).toBe(true);
    expect(s.distinctHashes).toBe(1);
  });

  it('200 SSE subscribers and 4 pushers for 60 s: nothing lost or repeated for any subscriber', async () => {
    const s = await runSseLoad({ subscribers: 200, pushers: 4, ms: 60_000, seed: 1 });
    expect(s.lost).toBe(0);
    expect(s.repeated).toBe(0);
    expect(s.outOfOrder).toBe(0);
  });
});

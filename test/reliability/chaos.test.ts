import { describe, expect, it } from 'vitest';
import { runPartitions, runSseLoad } from './lib/chaos.js';

describe('partitions and load (fast slices; 22 nodes and 200 subscribers × 60 s in test/reliability/long)', () => {
  it('8 nodes: links cut and nodes stopped at random while operators post; after healing all reach one state hash', async () => {
    const s = await runPartitions({ cities: 2, perCity: 2, chaosMs: 4000, seed: Number(process.env.SHUNIU_CHAOS_SEED ?? 2260) });
    expect(s.converged).toBe(true);
    expect(s.distinctHashes).toBe(1);
    expect(s.posts).toBeGreaterThan(0);
  }, 180_000);

  it('20 SSE subscribers and 3 pushers for 5 s, each subscriber dropping and resuming once: nothing lost or repeated', async () => {
    const s = await runSseLoad({ subscribers: 20, pushers: 3, ms: 5000, seed: 1 });
    expect(s.events).toBeGreaterThan(0);
    expect(s.lost).toBe(0);
    expect(s.repeated).toBe(0);
    expect(s.outOfOrder).toBe(0);
  }, 120_000);
});

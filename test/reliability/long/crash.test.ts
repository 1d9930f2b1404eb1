import { describe, expect, it } from 'vitest';
import { runCrash } from '../lib/crash.js';
import { figure } from '../lib/harness.js';

describe('crash safety, repeated', () => {
  it('20 kills -9 at random moments while 8 clients push 2,000 records each', async () => {
    const seed = Number(process.env.SHUNIU_CRASH_SEED ?? 7);
    const s = await runCrash({ kills: 20, hubs: 8, perHub: 2000, batch: 100, seed });
    figure('crash-long', { seed, ...s, missing: s.missing.length, broken: s.broken.length });
    expect(s.integrity).toBe('ok');
    expect(s.missing).toEqual([]);
    expect(s.broken).toEqual([]);
    expect(s.acked).toBe(s.pushed);
    expect(s.storedHash).toBe(s.replayHash);
  });
});

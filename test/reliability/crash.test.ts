import { describe, expect, it } from 'vitest';
import { runCrash } from './lib/crash.js';
import { figure } from './lib/harness.js';

describe('crash safety (fast slice; repeated kills in test/reliability/long)', () => {
  it('kill -9 at random moments while clients push: acknowledged records kept, chains intact, state = fresh replay', async () => {
    const seed = Number(process.env.SHUNIU_CRASH_SEED ?? 42);
    const s = await runCrash({ kills: 3, hubs: 4, perHub: 400, batch: 50, seed });
    figure('crash', { seed, ...s, missing: s.missing.length, broken: s.broken.length });
    expect(s.integrity).toBe('ok');
    expect(s.missing).toEqual([]);
    expect(s.broken).toEqual([]);
    expect(s.acked).toBe(s.pushed);
    expect(s.storedHash).toBe(s.replayHash);
  }, 180_000);
});

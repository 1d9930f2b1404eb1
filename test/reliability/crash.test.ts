import { describe, expect, it } from 'vitest';
import { PG_AVAILABLE, startPostgres } from '../../nodes/hub/test/pg.js';
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

describe.skipIf(!PG_AVAILABLE)('crash safety on PostgreSQL (spec/node.md §10.5)', () => {
  it('kill -9 at random moments while clients push: acknowledged records kept, chains intact, state = fresh replay', async () => {
    const seed = Number(process.env.SHUNIU_CRASH_SEED ?? 42);
    const pg = await startPostgres();
    try {
      const s = await runCrash({ kills: 3, hubs: 4, perHub: 300, batch: 50, seed, store: pg.database() });
      figure('crash-postgres', { seed, ...s, missing: s.missing.length, broken: s.broken.length });
      expect(s.integrity).toBe('n/a (PostgreSQL)');
      expect(s.missing).toEqual([]);
      expect(s.broken).toEqual([]);
      expect(s.acked).toBe(s.pushed);
      expect(s.storedHash).toBe(s.replayHash);
    } finally {
      pg.destroy();
    }
  }, 180_000);
});

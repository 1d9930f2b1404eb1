// The hybrid logical clock every author stamps its records with (spec/records.md: hlc, c ≤ 65535).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareHlc, HybridClock } from '../src/hlc.js';

describe('HybridClock', () => {
  it('follows wall time, counts within one millisecond, and never goes back when the wall does', () => {
    const c = new HybridClock();
    expect(c.next(1000)).toEqual({ ms: 1000, c: 0 });
    expect(c.next(1000)).toEqual({ ms: 1000, c: 1 });
    expect(c.next(999.7)).toEqual({ ms: 1000, c: 2 });
    expect(c.next(1001.9)).toEqual({ ms: 1001, c: 0 });
  });

  it('rolls over at c = 65535 to the next millisecond, c = 0 (the counter never passes its bound)', () => {
    const c = new HybridClock({ ms: 5000, c: 65534 });
    expect(c.next(5000)).toEqual({ ms: 5000, c: 65535 });
    expect(c.next(5000)).toEqual({ ms: 5001, c: 0 });
    expect(c.next(5000)).toEqual({ ms: 5001, c: 1 });
    const observed = new HybridClock();
    observed.observe({ ms: 7000, c: 65535 });
    expect(observed.next(6000)).toEqual({ ms: 7001, c: 0 });
  });

  it('moves past every timestamp it observes, and ignores older ones', () => {
    const c = new HybridClock({ ms: 100, c: 3 });
    c.observe({ ms: 50, c: 9 });
    expect(c.next(10)).toEqual({ ms: 100, c: 4 });
    c.observe({ ms: 200, c: 7 });
    expect(c.next(10)).toEqual({ ms: 200, c: 8 });
  });

  it('property: stamps strictly increase and stay within bounds under any walls and observations', () => {
    const step = fc.oneof(
      fc.record({ wall: fc.integer({ min: 0, max: 10_000 }) }),
      fc.record({ seen: fc.record({ ms: fc.integer({ min: 0, max: 10_000 }), c: fc.integer({ min: 0, max: 65535 }) }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const c = new HybridClock();
        let last = { ms: -1, c: 0 };
        for (const s of steps) {
          if ('seen' in s) {
            c.observe(s.seen);
            const n = c.next(0);
            expect(compareHlc(n, s.seen)).toBeGreaterThan(0);
            expect(compareHlc(n, last)).toBeGreaterThan(0);
            last = n;
          } else {
            const n = c.next(s.wall);
            expect(compareHlc(n, last)).toBeGreaterThan(0);
            expect(n.ms).toBeGreaterThanOrEqual(s.wall);
            last = n;
          }
          expect(last.c).toBeLessThanOrEqual(65535);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * Resolver.entry: one entry of a resolved map by id, as `state()` has it,
 * without walking the map (the node's intake tracking route, spec/node.md
 * §8.7, looks up one need per request).
 */
import { ready } from '@shuniu/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from '../src/index.js';
import { buildRecords, stepsArb } from './model/arbitrary.js';

beforeAll(ready);

describe('Resolver.entry', () => {
  it('gives what state() has for every need, offer and allocation id, and undefined for an id it does not hold', () => {
    let seen = 0;
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { roots, records } = buildRecords(steps);
        const r = new Resolver({ roots });
        for (const v of records) r.apply(v);
        const state = r.state();
        for (const name of ['needs', 'offers', 'allocations'] as const)
          for (const [id, value] of Object.entries(state[name])) {
            expect(r.entry(name, id)).toEqual(value);
            seen++;
          }
        expect(r.entry('needs', 'A'.repeat(43))).toBeUndefined();
      }),
      { numRuns: 30, seed: 18 },
    );
    expect(seen).toBeGreaterThan(0);
  });
});

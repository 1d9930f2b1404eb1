/**
 * Differential property test (issue 14 point 2): for generated record sets the
 * Resolver, fed the records in a random order with duplicates, computes the
 * same state and state hash as the reference model (./model.ts), which
 * recomputes everything from the set.
 *
 * CI runs a small number of cases; `SHUNIU_LONG=1` runs 1,000 (or
 * `SHUNIU_MODEL_RUNS=n`). A failing case is saved as
 * seeds/<seed>-<path>.json (fast-check seed and path, and the counterexample
 * itself) and replayed by every run after.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jcs, ready, type Verified } from '@shuniu/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from '../../src/index.js';
import { buildRecords, type Step, shuffled, stepsArb } from './arbitrary.js';
import { modelState, modelStateHash } from './model.js';

beforeAll(ready);

const seedsDir = join(dirname(fileURLToPath(import.meta.url)), 'seeds');
/** SHUNIU_MODEL_EVERY=1 compares after every record (slow; for hunting incremental bugs). */
const EVERY_STEP = process.env.SHUNIU_MODEL_EVERY === '1';
const RUNS = Number(process.env.SHUNIU_MODEL_RUNS ?? (process.env.SHUNIU_LONG === '1' ? 1000 : 60));

interface SavedSeed {
  seed: number;
  path: string;
  steps: Step[];
  perm: number[];
  note?: string;
}

/** Paths (map.key[.member]) where two states differ: the first line of a failure. */
function differences(a: Record<string, unknown>, b: Record<string, unknown>, prefix = '', out: string[] = []): string[] {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k];
    const y = b[k];
    if (x === y || (x !== undefined && y !== undefined && jcs(x) === jcs(y))) continue;
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && prefix.split('.').length < 4)
      differences(x as Record<string, unknown>, y as Record<string, unknown>, `${prefix}${k}.`, out);
    else out.push(`${prefix}${k}: resolver ${x === undefined ? 'absent' : jcs(x)} model ${y === undefined ? 'absent' : jcs(y)}`);
  }
  return out;
}

function same(r: Resolver, roots: string[], records: Iterable<Verified>): void {
  const got = r.state();
  const want = modelState(roots, records);
  const diff = differences(got as unknown as Record<string, unknown>, want as unknown as Record<string, unknown>);
  expect(diff.slice(0, 20), `${diff.length} differences`).toEqual([]);
  expect(got).toEqual(want);
  expect(r.stateHash()).toBe(modelStateHash(want));
}

/**
 * One case: the Resolver over the shuffled records with duplicates, the model
 * over the set; also part way (two cuts drawn from `perm`), so that the
 * incremental derivation is compared with a derivation from scratch of the
 * records applied so far.
 */
function check(steps: Step[], perm: number[]): void {
  const { roots, records } = buildRecords(steps);
  const order = shuffled<Verified>(records, perm);
  const cuts = new Set([(perm[0] ?? 0) % (order.length + 1), (perm[1] ?? 0) % (order.length + 1)]);
  const r = new Resolver({ roots });
  const applied = new Map<string, Verified>();
  order.forEach((v, i) => {
    if (cuts.has(i) || EVERY_STEP) same(r, roots, applied.values());
    r.apply(v);
    applied.set(v.id, v);
  });
  same(r, roots, records);
}

const property = fc.property(stepsArb, fc.array(fc.nat(), { maxLength: 300 }), (steps, perm) => check(steps, perm));

function saved(): { file: string; s: SavedSeed }[] {
  let files: string[] = [];
  try {
    files = readdirSync(seedsDir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((file) => ({ file, s: JSON.parse(readFileSync(join(seedsDir, file), 'utf8')) as SavedSeed }));
}

describe('the Resolver against the reference model (spec/resolution.md)', () => {
  for (const { file, s } of saved()) {
    it(`replays ${file}`, () => {
      check(s.steps, s.perm);
      fc.assert(property, { seed: s.seed, path: s.path, numRuns: 1, endOnFailure: true });
    });
  }

  it(
    `equal state and state hash for ${RUNS} generated record sets in random orders with duplicates`,
    () => {
      const result = fc.check(property, { numRuns: RUNS });
      if (result.failed && result.counterexample !== null) {
        const [steps, perm] = result.counterexample as [Step[], number[]];
        mkdirSync(seedsDir, { recursive: true });
        const file = join(seedsDir, `${result.seed}-${(result.counterexamplePath ?? '').replaceAll(':', '_')}.json`);
        const s: SavedSeed = { seed: result.seed, path: result.counterexamplePath ?? '', steps, perm };
        writeFileSync(file, `${JSON.stringify(s)}\n`);
      }
      expect(result.failed, `${fc.defaultReportMessage(result) ?? ''}\n${String(result.errorInstance)}`).toBe(false);
    },
    Math.max(60_000, RUNS * (EVERY_STEP ? 2_000 : 500)),
  );
});

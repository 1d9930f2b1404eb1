// The state's schemas (issue 13 point 5): the zod schemas of packages/resolve/src/schema.ts
// and the TypeScript types of types.ts are mutually assignable (checked by tsc), every state
// the resolver computes is valid under them and under the JSON Schemas generated from them
// (checked with Ajv), and spec/schemas/state/ holds exactly what the generator writes now.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assumeVerified, parseRecord, ready } from '@shuniu/protocol';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { schemaText } from '../../../spec/tools/gen-schemas.js';
import {
  type AllocationState,
  type BundleState,
  type Conflict,
  type HubState,
  type NeedState,
  type OfferState,
  type ResolvedState,
  Resolver,
  type ShipmentLineState,
  type ShipmentState,
} from '../src/index.js';
import {
  type allocationStateSchema,
  type bundleStateSchema,
  CONFLICT_RULES,
  conflictDetailSchemas,
  type conflictSchema,
  type hubStateSchema,
  type needStateSchema,
  type offerStateSchema,
  resolvedStateSchema,
  STATE_SCHEMA_BASE,
  type shipmentLineStateSchema,
  type shipmentStateSchema,
  stateJsonSchemas,
} from '../src/schema.js';
import { buildRecords, stepsArb } from './model/arbitrary.js';
import type { ResolutionVector } from './vectors.js';

// ---- compile time: a schema and its type cannot drift ----------------------------------

/** true when A and B are assignable to each other; a `false` argument fails `tsc -p tsconfig.tools.json`. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(ok: Same<A, B>): boolean => ok;
same<z.infer<typeof hubStateSchema>, HubState>(true);
same<z.infer<typeof needStateSchema>, NeedState>(true);
same<z.infer<typeof offerStateSchema>, OfferState>(true);
same<z.infer<typeof allocationStateSchema>, AllocationState>(true);
same<z.infer<typeof shipmentLineStateSchema>, ShipmentLineState>(true);
same<z.infer<typeof shipmentStateSchema>, ShipmentState>(true);
same<z.infer<typeof conflictSchema>, Conflict>(true);
same<z.infer<typeof resolvedStateSchema>, ResolvedState>(true);
same<z.infer<typeof bundleStateSchema>, BundleState>(true);
// The check has teeth both ways: a member the type has and the schema lacks, and one the schema has and the type lacks.
// @ts-expect-error the schema lacks `extra`
same<z.infer<typeof needStateSchema>, NeedState & { extra: number }>(true);
// @ts-expect-error the type lacks `available`
same<z.infer<typeof offerStateSchema>, Omit<OfferState, 'available'>>(true);

// ---- run time ----------------------------------------------------------------------------

const specDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'spec');
const stateDir = join(specDir, 'schemas', 'state');
const vectorDir = join(specDir, 'vectors', 'resolution');
const vectors = readdirSync(vectorDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: f, v: JSON.parse(readFileSync(join(vectorDir, f), 'utf8')) as ResolutionVector }));

/** Ajv (draft 2020-12) with every file of spec/schemas/state/ as written on disk. */
function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  for (const f of readdirSync(stateDir)) ajv.addSchema(JSON.parse(readFileSync(join(stateDir, f), 'utf8')) as object);
  return (file: string, x: unknown): string[] => {
    const check = ajv.getSchema(`${STATE_SCHEMA_BASE}${file}`);
    if (!check) throw new Error(`no schema ${file}`);
    return check(x) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };
}

/** Every way the state can be invalid: the zod schema, each conflict's detail by rule, and the JSON Schema state.json. */
function problems(state: unknown, check: ReturnType<typeof validator>): string[] {
  const out: string[] = [];
  const z = resolvedStateSchema.safeParse(state);
  if (!z.success) out.push(...z.error.issues.map((i) => `zod ${i.path.join('/')}: ${i.message}`));
  for (const c of Object.values((state as ResolvedState).conflicts)) {
    const d = conflictDetailSchemas[c.rule].safeParse(c.detail);
    if (!d.success) out.push(`detail of ${c.id}: ${d.error.message}`);
  }
  out.push(...check('state.json', state).map((e) => `state.json ${e}`));
  return out;
}

beforeAll(ready);

describe('spec/schemas/state (JSON Schemas of the resolved state, generated from packages/resolve/src/schema.ts)', () => {
  const fresh = stateJsonSchemas();

  it('holds exactly the files `pnpm schemas` writes now, byte for byte (none stale, none missing)', () => {
    expect(readdirSync(stateDir).sort()).toEqual(Object.keys(fresh).sort());
    for (const [file, schema] of Object.entries(fresh)) expect(readFileSync(join(stateDir, file), 'utf8'), file).toBe(schemaText(schema));
  });

  it('has an object schema for every collection the state routes serve, and one page schema each', () => {
    for (const f of ['hub', 'need', 'offer', 'allocation', 'shipment', 'conflict', 'held-item', 'pending-item', 'state', 'hash']) {
      expect(fresh).toHaveProperty([`${f}.json`]);
    }
    for (const c of ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending']) expect(fresh).toHaveProperty([`page.${c}.json`]);
  });

  it('describes every member of every object', () => {
    const bare: string[] = [];
    const walk = (s: unknown, at: string): void => {
      if (!s || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      for (const [k, p] of Object.entries((o.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof p.description !== 'string' && typeof p.$ref !== 'string' && at.split('/').length < 3) bare.push(`${at}/${k}`);
        walk(p, `${at}/${k}`);
      }
      if (o.items) walk(o.items, `${at}[]`);
      if (o.additionalProperties && typeof o.additionalProperties === 'object') walk(o.additionalProperties, `${at}{}`);
    };
    for (const [file, s] of Object.entries(fresh)) if (file !== 'state.json') walk(s, file);
    expect(bare).toEqual([]);
  });
});

describe('the resolved state is valid under its schemas', () => {
  const check = validator();

  it.each(vectors.map((x) => [x.file, x.v] as const))('%s: the expected state and the state the resolver computes', (_file, v) => {
    expect(problems(v.state, check)).toEqual([]);
    const r = new Resolver({ roots: v.roots });
    for (const e of v.records) r.apply(assumeVerified(parseRecord(e.record), e.id));
    expect(problems(r.state(), check)).toEqual([]);
  });

  it('random record sets (the differential test’s arbitrary): every state on the way, with every conflict rule among them', () => {
    const rules = new Set<string>();
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { roots, records } = buildRecords(steps);
        const r = new Resolver({ roots });
        for (const [i, x] of records.entries()) {
          r.apply(x);
          if (i % 16 === 15 || i === records.length - 1) {
            const s = r.state();
            for (const c of Object.values(s.conflicts)) rules.add(c.rule);
            expect(problems(s, check)).toEqual([]);
          }
        }
      }),
      { numRuns: 40, seed: 13 },
    );
    for (const v of vectors) for (const c of Object.values((v.v.state as ResolvedState).conflicts)) rules.add(c.rule);
    expect([...rules].sort()).toEqual([...CONFLICT_RULES].sort());
  });

  it('refuses what the state never holds (the schemas are closed and typed)', () => {
    const base = structuredClone(vectors.find((x) => x.file === 'authority.json')?.v.state) as ResolvedState;
    expect(problems(base, check)).toEqual([]);
    const bad = (edit: (s: ResolvedState) => void): string[] => {
      const s = structuredClone(base);
      edit(s);
      return check('state.json', s);
    };
    const first = <T>(m: Record<string, T>): T => Object.values(m)[0] as T;
    // A member added to an allocation (what issue 13 point 2 removed from the served allocations).
    expect(bad((s) => Object.assign(first(s.allocations), { region: '420902' }))).not.toEqual([]);
    // A quantity that is not a whole number of base units.
    expect(bad((s) => Object.assign(first(s.needs), { quantity: 2.5 }))).not.toEqual([]);
    // An offer without `available`.
    expect(bad((s) => delete (first(s.offers) as Partial<OfferState>).available)).not.toEqual([]);
    // A status no rule gives.
    expect(bad((s) => Object.assign(first(s.shipments), { status: 'lost' }))).not.toEqual([]);
    // A conflict whose detail lacks its rule's members.
    expect(bad((s) => Object.assign(first(s.conflicts), { detail: { expected: 1 } }))).not.toEqual([]);
    // A pending entry that is not a list of record ids.
    expect(bad((s) => Object.assign(s.pending, { [first(s.needs).id]: 'x' }))).not.toEqual([]);
  });
});

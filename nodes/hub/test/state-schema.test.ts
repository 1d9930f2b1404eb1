// The state served validates against the published JSON Schemas (issue 13 point 5, spec/node.md §6,
// spec/schemas/state/): real nodes, one per resolution vector plus a random record set with an
// item_mismatch, every page of every collection and the hash answer fetched over HTTP (as an operator
// and as an anonymous reader) and checked with Ajv against the files on disk.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRecords, stepsArb } from '../../../packages/resolve/test/model/arbitrary.js';
import { initDataDir } from '../src/node.js';
import { post, reopen, tempDir } from './helpers.js';

await ready();

const specDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'spec');
const stateDir = join(specDir, 'schemas', 'state');
const BASE = 'https://shuniu.org/spec/schemas/state/';
const COLLECTIONS = ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending'] as const;
const RULES = [
  'unauthorised',
  'over_allocation',
  'over_fulfilment',
  'item_mismatch',
  'duplicate_need',
  'receipt_mismatch',
  'delivered_beyond_received',
  'double_handoff',
  'fork',
  'admission_scope',
];

/** Ajv (draft 2020-12) with every file of spec/schemas/state/. */
function validator(): (file: string, x: unknown) => string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  for (const f of readdirSync(stateDir)) ajv.addSchema(JSON.parse(readFileSync(join(stateDir, f), 'utf8')) as object);
  return (file, x) => {
    const check = ajv.getSchema(`${BASE}${file}`);
    if (!check) throw new Error(`no schema ${file}`);
    return check(x) ? [] : (check.errors ?? []).map((e) => `${file}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };
}

interface Source {
  name: string;
  roots: string[];
  records: { id: string; record: unknown }[];
}

const vectorDir = join(specDir, 'vectors', 'resolution');
const sources: Source[] = readdirSync(vectorDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const v = JSON.parse(readFileSync(join(vectorDir, f), 'utf8')) as Source;
    return { name: f, roots: v.roots, records: v.records };
  });

/** The first of a fixed sample of the differential test's random record sets whose state has an item_mismatch (no vector has one). */
function withItemMismatch(): Source {
  for (const steps of fc.sample(stepsArb, { seed: 13, numRuns: 200 })) {
    const { roots, records } = buildRecords(steps);
    const r = new Resolver({ roots });
    for (const x of records) r.apply(x);
    if (Object.values(r.state().conflicts).some((c) => c.rule === 'item_mismatch')) {
      return { name: 'random set with an item_mismatch', roots, records: records.map((x) => ({ id: x.id, record: x.record })) };
    }
  }
  throw new Error('no item_mismatch in 200 random record sets');
}

/** Every page of a collection, read with limit 7 (so that most collections take several pages). */
async function pages(url: string, name: string, token?: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let after = '';
  for (let i = 0; i < 1000; i++) {
    const res = await fetch(`${url}/v1/state/${name}?limit=7${after ? `&after=${encodeURIComponent(after)}` : ''}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    expect(res.status, `${name} page`).toBe(200);
    const page = (await res.json()) as Record<string, unknown> & { next: string | null };
    out.push(page);
    if (page.next === null) return out;
    after = page.next;
  }
  throw new Error('too many pages');
}

describe('the state served validates against spec/schemas/state (issue 13 point 5)', () => {
  const check = validator();
  /** Items validated per collection and conflict rules seen, over every node. */
  const seen = new Map<string, number>();
  const rules = new Set<string>();
  afterAll(() => {
    // Every collection held something somewhere and every rule was served at least once.
    for (const c of COLLECTIONS) expect(seen.get(c) ?? 0, c).toBeGreaterThan(0);
    expect([...rules].sort()).toEqual([...RULES].sort());
  });

  const all = (): Source[] => [...sources, withItemMismatch()];
  it.each(all().map((s) => [s.name, s] as const))('%s: every page of every collection and /v1/state/hash', async (_name, src) => {
    const { dir, cleanup } = tempDir();
    await initDataDir({ dir, name: '湖北省枢纽', level: 'province', region: '420000', port: 0, roots: src.roots });
    const n = await reopen(dir);
    try {
      const res = await post(
        `${n.url}/v1/records`,
        src.records.map((e) => e.record),
      );
      expect(res.status).toBeLessThan(300);
      const errors: string[] = [];
      for (const c of COLLECTIONS) {
        const served = await pages(n.url, c, n.token);
        const keys = new Set<string>();
        for (const page of served) {
          errors.push(...check(`page.${c}.json`, page));
          for (const it of page[c] as Record<string, unknown>[]) {
            keys.add(it.id as string);
            if (c === 'conflicts') rules.add(it.rule as string);
          }
        }
        seen.set(c, (seen.get(c) ?? 0) + keys.size);
        // Anonymous readers (individual donors redacted in offers) get pages of the same shapes.
        for (const page of await pages(n.url, c)) errors.push(...check(`page.${c}.json`, page).map((e) => `anonymous ${e}`));
      }
      const hash = await (await fetch(`${n.url}/v1/state/hash`)).json();
      errors.push(...check('hash.json', hash));
      expect(errors).toEqual([]);
    } finally {
      await n.node.close();
      cleanup();
    }
  });

  it('the schemas refuse an answer that breaks them (the check can fail)', async () => {
    const { dir, cleanup } = tempDir();
    const src = sources.find((s) => s.name === 'authority.json') as Source;
    await initDataDir({ dir, name: '湖北省枢纽', level: 'province', region: '420000', port: 0, roots: src.roots });
    const n = await reopen(dir);
    try {
      await post(
        `${n.url}/v1/records`,
        src.records.map((e) => e.record),
      );
      const [page] = (await pages(n.url, 'allocations', n.token)) as [{ allocations: Record<string, unknown>[] }];
      expect(page.allocations.length).toBeGreaterThan(0);
      expect(check('page.allocations.json', page)).toEqual([]);
      // What the node served before issue 13 point 2: allocations with their need's region, urgency and beneficiaries.
      const widened = { ...page, allocations: page.allocations.map((a) => ({ ...a, region: '420902', urgency: 'critical' })) };
      expect(check('page.allocations.json', widened)).not.toEqual([]);
      // A page without its clock.
      const { clock: _, ...noClock } = page as unknown as Record<string, unknown>;
      expect(check('page.allocations.json', noClock)).not.toEqual([]);
    } finally {
      await n.node.close();
      cleanup();
    }
  });
});

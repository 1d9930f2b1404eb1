import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assumeVerified, checkSignature, jcs, jcsOfIJson, MemoryChains, parseRecord, ready, recordId, type Verified } from '@shuniu/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { scenarios } from '../../../spec/tools/resolution/scenarios.js';
import { lookupPointer, type ResolutionVector } from '../../../spec/tools/resolution/vectors.js';
import { type ResolvedState, Resolver } from '../src/index.js';
import { VIEW_JSON } from '../src/views-json.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'spec', 'vectors', 'resolution');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

beforeAll(ready);

function load(file: string): { v: ResolutionVector; verified: Verified[] } {
  const v = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ResolutionVector;
  const verified = v.records.map((e) => {
    const record = parseRecord(e.record);
    expect(recordId(record)).toBe(e.id);
    return assumeVerified(record, e.id);
  });
  return { v, verified };
}

function resolve(roots: string[], records: Verified[]): Resolver {
  const r = new Resolver({ roots });
  for (const x of records) r.apply(x);
  return r;
}

describe('resolution vectors (spec/vectors/resolution)', () => {
  it('has exactly one vector per scenario of spec/tools/resolution/scenarios.ts (none missing, none stale)', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(scenarios.map((sc) => sc.name).sort());
  });

  for (const file of files) {
    it(file, () => {
      const { v, verified } = load(file);
      // The records are real: every one verifies (or is a validly signed fork) in file order,
      // or continues the branch of a competing recovery the chain keeps as a fork proof
      // (spec/records.md §8 step 17): signed with the key that recovery announced.
      const chains = new MemoryChains();
      for (const x of verified) {
        const kind = chains.add(x.record).kind;
        if (kind === 'valid' || kind === 'fork') continue;
        const announced = chains.forks.flatMap((f) =>
          f.records.filter((r) => r.type === 'hub.keys.rotated').map((r) => (r.body as { signingKey: string }).signingKey),
        );
        expect(
          announced.some((k) => checkSignature(x.record, k)),
          x.id,
        ).toBe(true);
      }

      const r = resolve(v.roots, verified);
      expect(r.state()).toEqual(v.state);
      for (const name of ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending'] as const) {
        expect(resolve(v.roots, verified).collection(name), name).toEqual((v.state as ResolvedState)[name]);
      }
      // bundles: in the state only when there is one (spec/resolution.md §7.2); the collection is then {}.
      expect(r.collection('bundles'), 'bundles').toEqual((v.state as ResolvedState).bundles ?? {});
      expect(r.stateHash()).toBe(v.stateHash);
      for (const [pointer, want] of Object.entries(v.expect)) expect(lookupPointer(r.state(), pointer), pointer).toEqual(want === null ? undefined : want);

      // Every object serialises to its JCS text with its map's serialiser (the state hash relies on it).
      const st = r.state();
      for (const name of ['hubs', 'needs', 'offers', 'allocations', 'shipments', 'conflicts', 'held', 'pending'] as const) {
        const json = (VIEW_JSON[name] ?? jcsOfIJson) as (v: unknown) => string;
        for (const x of Object.values(st[name])) expect(json(x), name).toBe(jcs(x));
      }

      // Reversed, and interleaved with duplicates: same hash.
      expect(resolve(v.roots, [...verified].reverse()).stateHash()).toBe(v.stateHash);
      const dup = verified.flatMap((x, i) => (i % 2 === 0 ? [x, x] : [x]));
      expect(resolve(v.roots, [...dup.slice(dup.length >> 1), ...dup.slice(0, dup.length >> 1)]).stateHash()).toBe(v.stateHash);

      // Shuffled (a seeded order per vector): same hash.
      let seed = 1;
      for (const c of file) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
      for (let k = 0; k < 4; k++) {
        const xs = [...verified];
        for (let i = xs.length - 1; i > 0; i--) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          const j = seed % (i + 1);
          [xs[i], xs[j]] = [xs[j] as Verified, xs[i] as Verified];
        }
        expect(resolve(v.roots, xs).stateHash(), `shuffle ${k}`).toBe(v.stateHash);
      }

      // A snapshot restores the same state.
      const snap = JSON.parse(JSON.stringify(r.toJSON()));
      expect(Resolver.fromJSON(snap, { roots: v.roots }).stateHash()).toBe(v.stateHash);
      // A snapshot taken half-way continues incrementally to the same state.
      const half = resolve(v.roots, verified.slice(0, verified.length >> 1));
      const cont = Resolver.fromJSON(JSON.parse(JSON.stringify(half.toJSON())), { roots: v.roots });
      for (const x of verified.slice(verified.length >> 1)) cont.apply(x);
      expect(cont.stateHash(), 'restored half-way, then the rest').toBe(v.stateHash);
      expect(cont.admissionEdges()).toEqual(r.admissionEdges());
      // The records-only v1 snapshot of early versions is no longer read: refused, so the node replays its records.
      const v1 = { v: 1, roots: v.roots, stateHash: v.stateHash, records: verified.map((x) => ({ id: x.id, record: x.record })) };
      expect(() => Resolver.fromJSON(JSON.parse(JSON.stringify(v1)), { roots: v.roots })).toThrow(/not a resolver snapshot/);

      // A native SHA-256 (what the hub node passes) gives the same hash, from scratch, incrementally and restored.
      const native = (b: Uint8Array): Uint8Array => createHash('sha256').update(b).digest();
      const n = new Resolver({ roots: v.roots, sha256: native });
      for (const x of verified) {
        n.apply(x);
        const pure = new Resolver({ roots: v.roots });
        for (const y of verified.slice(0, n.size)) pure.apply(y);
        expect(n.stateHash()).toBe(pure.stateHash());
      }
      expect(n.stateHash()).toBe(v.stateHash);
      expect(Resolver.fromJSON(snap, { roots: v.roots, sha256: native }).stateHash()).toBe(v.stateHash);
    });
  }

  it('refuses bad options and snapshots with E_ARGUMENT', () => {
    expect(() => new Resolver({ roots: ['not-a-hub'] })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
    expect(() => new Resolver({ roots: [], sha256: 'sha256' as unknown as (b: Uint8Array) => Uint8Array })).toThrow(
      expect.objectContaining({ code: 'E_ARGUMENT' }),
    );
    const short = new Resolver({ roots: [], sha256: () => new Uint8Array(31) });
    expect(() => short.stateHash()).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
    expect(() => Resolver.fromJSON({ v: 2 }, { roots: [] })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
    expect(() => Resolver.fromJSON({ v: 1, records: [{ id: 'x' }] }, { roots: [] })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  });
});

// Snapshots have a format of their own (spec/resolution.md §9, issue 14 point 3): an explicit,
// versioned field list (packages/resolve/src/snapshot.ts), and a snapshot written by an earlier
// version still loads. test/fixtures/snapshot-f<format>-<vector>.json are snapshots written by the
// code of each format, of the records of spec/vectors/resolution/<vector>.json; each must restore to
// the vector's state and state hash, and keep resolving. A new format adds its fixtures with
//   SHUNIU_WRITE_SNAPSHOT_FIXTURES=1 npx vitest run packages/resolve/test/snapshot.test.ts
// (then run it again to check them) and keeps every older one loading (a reader in snapshot.ts), or this test fails.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assumeVerified, ready, type SignedRecord, type Verified } from '@shuniu/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResolutionVector } from '../../../spec/tools/resolution/vectors.js';
import { Resolver, type ResolverSnapshot } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const vectors = join(here, '..', '..', '..', 'spec', 'vectors', 'resolution');
/** Vectors whose records reach every kind of snapshot field: lots and custody groups, record-clock deadlines, duplicate clusters, contested recoveries, pending ids. */
const VECTORS = ['double-handoff', 'overdue-late', 'duplicate-need', 'recovery-vouched', 'pending'];

const vector = (name: string): ResolutionVector => JSON.parse(readFileSync(join(vectors, `${name}.json`), 'utf8')) as ResolutionVector;
const verified = (v: ResolutionVector): Verified[] => v.records.map((e) => assumeVerified(e.record as SignedRecord, e.id));
const formatOf = (s: ResolverSnapshot): string => s.layout.slice(0, s.layout.indexOf(':'));

beforeAll(async () => {
  await ready();
  if (process.env.SHUNIU_WRITE_SNAPSHOT_FIXTURES === '1') {
    for (const name of VECTORS) {
      const v = vector(name);
      const r = new Resolver({ roots: v.roots });
      for (const x of verified(v)) r.apply(x);
      const snap = r.toJSON();
      writeFileSync(join(fixtures, `snapshot-f${formatOf(snap)}-${name}.json`), `${JSON.stringify(snap)}\n`);
    }
  }
});

describe('resolver snapshots (spec/resolution.md §9)', () => {
  const files = readdirSync(fixtures).filter((f) => /^snapshot-f\d+-.+\.json$/.test(f));

  it('has fixtures of the current format and of format 6 (the last one read by reflection), for every vector', () => {
    const v = vector(VECTORS[0] as string);
    const r = new Resolver({ roots: v.roots });
    const current = formatOf(r.toJSON());
    for (const f of ['6', current]) for (const name of VECTORS) expect(files, `${f} ${name}`).toContain(`snapshot-f${f}-${name}.json`);
  });

  it('refuses a layout it does not know: another format, or the same format number with another field list', () => {
    const v = vector(VECTORS[0] as string);
    const r = new Resolver({ roots: v.roots });
    for (const x of verified(v)) r.apply(x);
    const snap = r.toJSON();
    expect(Resolver.fromJSON(JSON.parse(JSON.stringify(snap)), { roots: v.roots }).stateHash()).toBe(v.stateHash);
    for (const layout of [snap.layout.replace(/^\d+:/, '5:'), snap.layout.replace(/^\d+:/, '99:'), snap.layout.replace(',sched', ',schedule'), 'x']) {
      expect(() => Resolver.fromJSON({ ...snap, layout }, { roots: v.roots }), layout.slice(0, 20)).toThrow(/incompatible/);
    }
  });

  it.each(files)('%s restores to the state and hash of its records, and keeps resolving', (file) => {
    const name = (/^snapshot-f\d+-(.+)\.json$/.exec(file) as RegExpExecArray)[1] as string;
    const v = vector(name);
    const snap = JSON.parse(readFileSync(join(fixtures, file), 'utf8')) as ResolverSnapshot;
    const restored = Resolver.fromJSON(snap, { roots: v.roots });
    expect(restored.stateHash()).toBe(v.stateHash);
    expect(restored.size).toBe(v.records.length);
    const replayed = new Resolver({ roots: v.roots });
    for (const x of verified(v)) replayed.apply(x);
    expect(restored.state()).toEqual(replayed.state());
    // Restored from a snapshot of part of the records, the rest applied after: the same state as every record at once.
    const half = new Resolver({ roots: v.roots });
    const records = verified(v);
    for (const x of records.slice(0, records.length >> 1)) half.apply(x);
    const cont = Resolver.fromJSON(JSON.parse(JSON.stringify(half.toJSON())), { roots: v.roots });
    for (const x of records.slice(records.length >> 1)) cont.apply(x);
    expect(cont.stateHash()).toBe(v.stateHash);
    // And a snapshot of the restored resolver is one of the current format, equal to a fresh one's.
    expect(restored.toJSON()).toEqual(replayed.toJSON());
  });
});

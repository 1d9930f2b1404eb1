/**
 * Writes spec/vectors/resolution/<scenario>.json: real signed records (fixed
 * seeds, fixed clock), the resolved state and its hash, and the `expect`
 * checks each rule is about. Refuses to write a vector whose checks fail.
 *
 *   npx tsx --conditions=@shuniu/source spec/tools/gen-resolution-vectors.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { assumeVerified, jcs, ready } from '@shuniu/protocol';
import { Resolver } from '@shuniu/resolve';
import { scenarios } from './resolution/scenarios.js';
import { lookup, pointerOf, type ResolutionVector } from './resolution/vectors.js';
import { World } from './resolution/world.js';

await ready();
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'resolution');
mkdirSync(dir, { recursive: true });
let failed = 0;
for (const sc of scenarios) {
  const w = new World();
  const { roots, expect } = sc.build(w);
  const r = new Resolver({ roots });
  for (const e of w.records) r.apply(assumeVerified(e.record, e.id));
  // Objects of each map with members in sorted order (JCS), whatever order the resolver builds its views in.
  const state = Object.fromEntries(Object.entries(r.state()).map(([k, v]) => [k, v !== null && typeof v === 'object' ? JSON.parse(jcs(v)) : v])) as ReturnType<
    Resolver['state']
  >;
  const exp: Record<string, unknown> = {};
  for (const [path, want] of Object.entries(expect)) {
    const got = lookup(state, path);
    // Written as JSON Pointers (RFC 6901): keys such as conflict ids hold '/' and '.', which a pointer escapes.
    exp[pointerOf(state, path)] = want === undefined ? null : want;
    if (!isDeepStrictEqual(got, want)) {
      failed++;
      console.error(`${sc.name}: ${path}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
  }
  const v: ResolutionVector = { comment: sc.comment, tags: sc.tags, roots, records: w.records, expect: exp, stateHash: r.stateHash(), state };
  writeFileSync(join(dir, `${sc.name}.json`), `${JSON.stringify(v, null, 2)}\n`);
}
if (failed > 0) {
  console.error(`${failed} expectation(s) failed`);
  process.exit(1);
}
console.log(`wrote ${scenarios.length} vectors to ${dir}`);

/** Writes spec/vectors/{keys,records,invalid}.json. Run with `pnpm vectors`; the output is deterministic. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildVectors } from './vectors-lib.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors');
const v = await buildVectors();
for (const [name, value] of [
  ['keys.json', v.keys],
  ['records.json', v.records],
  ['invalid.json', v.invalid],
] as const) {
  writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
  process.stderr.write(`wrote spec/vectors/${name}\n`);
}

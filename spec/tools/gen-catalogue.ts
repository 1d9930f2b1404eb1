/** Writes spec/catalogue.json from packages/protocol/src/catalogue.ts (the one source). Run with `pnpm catalogue`. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogueDocument } from '../../packages/protocol/src/index.js';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'catalogue.json');
const doc = catalogueDocument();
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
process.stderr.write(`wrote ${doc.items.length} items to spec/catalogue.json\n`);

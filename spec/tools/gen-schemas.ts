/** Writes the JSON Schemas of every record type into spec/schemas/. Run with `pnpm schemas`. */
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemas } from '../../packages/protocol/src/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
const schemas = jsonSchemas();
// Schemas of removed types must not linger.
for (const f of readdirSync(dir)) if (f.endsWith('.json') && !(f in schemas)) unlinkSync(join(dir, f));
for (const [file, schema] of Object.entries(schemas)) writeFileSync(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
process.stderr.write(`wrote ${Object.keys(schemas).length} schemas to spec/schemas/\n`);

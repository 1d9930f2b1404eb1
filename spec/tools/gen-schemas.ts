/**
 * Writes the JSON Schemas of every record type into spec/schemas/ and those of
 * the resolved state and the state routes into spec/schemas/state/. Run with
 * `pnpm schemas`.
 */
import { mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemas } from '../../packages/protocol/src/index.js';
import { stateJsonSchemas } from '../../packages/resolve/src/schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

/** The text of a schema file (the tests compare the files with it). */
export const schemaText = (schema: unknown): string => `${JSON.stringify(schema, null, 2)}\n`;

function write(dir: string, schemas: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  // Schemas of removed types must not linger.
  for (const f of readdirSync(dir)) if (f.endsWith('.json') && !(f in schemas)) unlinkSync(join(dir, f));
  for (const [file, schema] of Object.entries(schemas)) writeFileSync(join(dir, file), schemaText(schema));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const records = jsonSchemas();
  write(root, records);
  const state = stateJsonSchemas();
  write(join(root, 'state'), state);
  process.stderr.write(`wrote ${Object.keys(records).length} schemas to spec/schemas/ and ${Object.keys(state).length} to spec/schemas/state/\n`);
}

import { z } from 'zod';
import { RECORD_TYPES, recordSchemas, sealedSchema, signedRecordSchema } from './schemas.js';

/** Base of the `$id` of every generated schema; the file name follows. */
export const JSON_SCHEMA_BASE = 'https://shuniu.org/spec/schemas/';

/**
 * JSON Schemas (draft 2020-12) of the wire formats, generated from the zod
 * schemas so they cannot disagree: `envelope.json` (any record, body left
 * open), `record.json` (any record, body checked by type), `sealed.json`, and
 * one `<type>.json` per record type. Refinements that JSON Schema cannot say
 * (need.updated changes something, rejected goods have a reason) are stated
 * in spec/records.md and in the `description`s.
 *
 * @example jsonSchemas()['need.posted.json'].properties.body
 */
export function jsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const gen = (file: string, title: string, schema: z.ZodType) => {
    const s = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
    const { $schema, ...rest } = s;
    out[file] = { $schema, $id: JSON_SCHEMA_BASE + file, title, ...rest };
  };
  const envelope = recordSchemas['hub.inception'].omit({ type: true, body: true }).extend({
    type: z.enum(RECORD_TYPES as [string, ...string[]]),
    body: z.record(z.string(), z.unknown()),
  });
  gen('envelope.json', 'Shuniu record envelope (body not checked)', envelope);
  gen('record.json', 'Shuniu signed record of any type', signedRecordSchema);
  gen('sealed.json', 'Shuniu sealed part', sealedSchema);
  for (const t of RECORD_TYPES) gen(`${t}.json`, `Shuniu ${t} record`, recordSchemas[t]);
  return out;
}

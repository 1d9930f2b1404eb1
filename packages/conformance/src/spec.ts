/**
 * What the suite reads from spec/: the vectors, the table of HTTP statuses by
 * verdict (spec/errors.md §2.1) and the JSON Schemas of the served state
 * (spec/schemas/state/). Nothing here is copied from a node: a change to the
 * spec changes what the suite expects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Wire } from './client.js';

/** spec/ of this repository (src/ and dist/ are both two levels below packages/). */
export const DEFAULT_SPEC_DIR = fileURLToPath(new URL('../../../spec/', import.meta.url));

export interface InvalidVector {
  index: number;
  comment: string;
  tags: string[];
  context: Record<string, Wire>[];
  record: string;
  error: string;
}

export interface StatusTable {
  /** Code → HTTP status of a single pushed record refused with it. */
  rejected: Map<string, number>;
  /** Codes whose record may instead be held, and the status of a held single record. */
  held: Set<string>;
  heldStatus: number;
  accepted: number;
  duplicate: number;
}

export function readJson(specDir: string, rel: string): Wire {
  return JSON.parse(readFileSync(join(specDir, rel), 'utf8'));
}

export function invalidVectors(specDir: string): InvalidVector[] {
  const f = readJson(specDir, 'vectors/invalid.json');
  return (f.vectors as Omit<InvalidVector, 'index'>[]).map((v, index) => ({ ...v, index, tags: v.tags ?? [] }));
}

export function recordVectors(specDir: string): { record: Record<string, Wire>; id: string }[] {
  return readJson(specDir, 'vectors/records.json').vectors;
}

/**
 * Reads the table "HTTP status by verdict" of spec/errors.md §2.1: rows
 * `| verdict | codes | single record | in a batch |`.
 */
export function statusTable(specDir: string): StatusTable {
  const md = readFileSync(join(specDir, 'errors.md'), 'utf8');
  const start = md.indexOf('### 2.1');
  if (start < 0) throw new Error('spec/errors.md has no §2.1 (HTTP status by verdict)');
  const section = md.slice(start).split(/\n## |\n### (?!2\.1)/)[0] ?? '';
  const t: StatusTable = { rejected: new Map(), held: new Set(), heldStatus: 0, accepted: 0, duplicate: 0 };
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // ['', verdict, codes, single, batch, '']
    if (cells.length < 5) continue;
    const verdict = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (!verdict) continue;
    const status = Number(/\b([1-5]\d\d)\b/.exec(cells[3] ?? '')?.[1]);
    if (!status) continue;
    const codes = [...(cells[2] ?? '').matchAll(/`(E_[A-Z_]+)`/g)].map((m) => m[1]!);
    if (verdict === 'accepted') t.accepted = status;
    else if (verdict === 'duplicate') t.duplicate = status;
    else if (verdict === 'held') {
      t.heldStatus = status;
      for (const c of codes) t.held.add(c);
    } else if (verdict === 'rejected' || verdict === 'blocked') {
      for (const c of codes) if (!t.rejected.has(c)) t.rejected.set(c, status);
    }
  }
  if (!t.accepted || !t.duplicate || !t.heldStatus || t.rejected.size < 10) throw new Error('could not read the table of spec/errors.md §2.1');
  return t;
}

/**
 * The JSON Schemas of spec/schemas/state/ (draft 2020-12, referring to each
 * other by `$id`) in one validator: `(file, value)` → the errors of `value`
 * against that file (at most 10), [] when it is valid.
 */
export function stateSchemas(specDir: string): (file: string, value: unknown) => string[] {
  const dir = join(specDir, 'schemas', 'state');
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const ids = new Map<string, string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { $id: string };
    ajv.addSchema(schema);
    ids.set(f, schema.$id);
  }
  return (file, value) => {
    const id = ids.get(file);
    if (id === undefined) throw new Error(`spec/schemas/state has no ${file}`);
    const validate = ajv.getSchema(id);
    if (!validate) throw new Error(`cannot compile spec/schemas/state/${file}`);
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, 10).map((e) => `${file}${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  };
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas, RECORD_TYPES } from '../src/index.js';
import { specDir } from './helpers.js';

describe('spec/schemas (JSON Schema generated from the zod schemas)', () => {
  const fresh = jsonSchemas();
  const dir = join(specDir, 'schemas');

  it('has exactly one file per generated schema (run `pnpm schemas` after a change)', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(Object.keys(fresh).sort());
    for (const t of RECORD_TYPES) expect(files).toContain(`${t}.json`);
    expect(files).toContain('envelope.json');
  });

  it.each(Object.keys(fresh))('%s matches the zod schema', (file) => {
    expect(JSON.parse(readFileSync(join(dir, file), 'utf8'))).toEqual(fresh[file]);
  });

  it('says that every object outside ext is closed', () => {
    const open: string[] = [];
    const walk = (s: unknown, path: string) => {
      if (s === null || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      if (o.type === 'object' && o.additionalProperties !== false && !path.endsWith('.ext') && !path.endsWith('envelope.json.body')) open.push(path);
      for (const [k, v] of Object.entries(o)) walk(v, k === 'properties' ? path : `${path}.${k}`);
    };
    for (const [file, s] of Object.entries(fresh)) walk(s, file);
    expect(open).toEqual([]);
  });
});

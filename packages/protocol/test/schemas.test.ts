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

describe('record types added in the v1 draft (issue 10)', async () => {
  const { bodySchemas, RECORD_TYPES: types } = await import('../src/index.js');
  const id = 'CMHO_ziLWOa8n5V6397viuZu1RLiZcj0U-_M20LuwpM';
  const ok = (t: keyof typeof bodySchemas, b: unknown) => bodySchemas[t].safeParse(b).success;

  it('lists 19 record types, hub.admission.revoked and sealed.erased among them', () => {
    expect(types).toHaveLength(19);
    expect(types).toContain('hub.admission.revoked');
    expect(types).toContain('sealed.erased');
  });

  it('hub.admission.revoked: {child, reason?, ext?}, closed', () => {
    expect(ok('hub.admission.revoked', { child: id })).toBe(true);
    expect(ok('hub.admission.revoked', { child: id, reason: '账号被盗', ext: { 'org.example': 1 } })).toBe(true);
    expect(ok('hub.admission.revoked', {})).toBe(false);
    expect(ok('hub.admission.revoked', { child: 'xiaonan' })).toBe(false);
    expect(ok('hub.admission.revoked', { child: id, reason: '' })).toBe(false);
    expect(ok('hub.admission.revoked', { child: id, reason: 'x'.repeat(2001) })).toBe(false);
    expect(ok('hub.admission.revoked', { child: id, level: 'county' })).toBe(false);
  });

  it('sealed.erased: {record, reason?, ext?}, closed', () => {
    expect(ok('sealed.erased', { record: id })).toBe(true);
    expect(ok('sealed.erased', { record: id, reason: '受助人要求删除' })).toBe(true);
    expect(ok('sealed.erased', {})).toBe(false);
    expect(ok('sealed.erased', { record: `${id}=` })).toBe(false);
    expect(ok('sealed.erased', { record: id, hubs: [] })).toBe(false);
  });

  it('donor.named is an optional boolean; attestation kind recovery_vouched exists', () => {
    const offer = {
      kind: 'funds',
      item: { code: 'FUNDS.CNY', name: '善款' },
      quantity: 1,
      unit: { name: 'donation', base: 'donation', size: 1 },
      valueFen: 100,
      intent: {},
      region: '420000',
    };
    expect(ok('offer.posted', { ...offer, donor: { name: '王女士', kind: 'individual', named: true } })).toBe(true);
    expect(ok('offer.posted', { ...offer, donor: { name: '王女士', kind: 'individual' } })).toBe(true);
    expect(ok('offer.posted', { ...offer, donor: { name: '王女士', kind: 'individual', named: 'yes' } })).toBe(false);
    expect(ok('attestation', { subject: id, kind: 'recovery_vouched', result: 'pass' })).toBe(true);
    expect(ok('attestation', { subject: id, kind: 'recovery_vouch', result: 'pass' })).toBe(false);
  });
});

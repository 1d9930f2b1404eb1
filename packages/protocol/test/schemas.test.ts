import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas, RECORD_TYPES, TIMESTAMP_PATTERN, timestamp, timestampMs } from '../src/index.js';
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

  it('lists 22 record types, hub.admission.revoked, sealed.erased and the bundle records among them', () => {
    expect(types).toHaveLength(22);
    expect(types).toEqual(expect.arrayContaining(['bundle.posted', 'bundle.updated', 'bundle.funded']));
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

  it('bundle.posted: title, region, 1…200 distinct needs, optional description, targetFen, campaign; closed', () => {
    const b = { title: '武昌社区团购群 12 个', region: '420106', needs: [id] };
    expect(ok('bundle.posted', b)).toBe(true);
    expect(ok('bundle.posted', { ...b, description: '社区志愿者汇总', targetFen: 5_000_000, campaign: 'wuhan-npi-2020' })).toBe(true);
    expect(ok('bundle.posted', { ...b, needs: [] })).toBe(false);
    expect(ok('bundle.posted', { ...b, needs: [id, id] })).toBe(false);
    expect(ok('bundle.posted', { ...b, needs: Array.from({ length: 201 }, () => id) })).toBe(false);
    expect(ok('bundle.posted', { ...b, targetFen: 1.5 })).toBe(false);
    expect(ok('bundle.posted', { ...b, progress: 3 })).toBe(false);
    expect(ok('bundle.posted', { title: 'x', needs: [id] })).toBe(false);
  });

  it('bundle.updated: names a bundle and changes at least one thing; bundle.funded: a pledge in fen', () => {
    expect(ok('bundle.updated', { bundle: id, add: [id] })).toBe(true);
    expect(ok('bundle.updated', { bundle: id, close: 'completed' })).toBe(true);
    expect(ok('bundle.updated', { bundle: id })).toBe(false);
    expect(ok('bundle.updated', { bundle: id, close: 'done' })).toBe(false);
    expect(ok('bundle.updated', { bundle: id, remove: [] })).toBe(false);
    expect(ok('bundle.funded', { bundle: id, amountFen: 0 })).toBe(true);
    expect(ok('bundle.funded', { bundle: id, amountFen: 100, note: '整体资助' })).toBe(true);
    expect(ok('bundle.funded', { bundle: id, amountFen: 100, donor: { name: '上海联合基金会', kind: 'foundation' } })).toBe(false);
    expect(ok('bundle.funded', { bundle: id })).toBe(false);
    expect(ok('bundle.funded', { bundle: id, amountFen: -1 })).toBe(false);
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

describe('timestamps are real calendar dates (issue 13 point 8, spec/encoding.md §5.4)', () => {
  const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const daysIn = (y: number, m: number) => [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');

  it('accepts exactly the days that exist, in every month of common, leap and century years', () => {
    const wrong: string[] = [];
    for (const y of [0, 4, 100, 1600, 1900, 1999, 2000, 2019, 2020, 2024, 2100, 2400, 9996, 9999]) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) {
          const t = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T12:00:00Z`;
          const exists = m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m);
          if (timestamp.safeParse(t).success !== exists) wrong.push(t);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('refuses a leap second, 24:00 and a date that Date.parse would roll over', () => {
    for (const t of ['2016-12-31T23:59:60Z', '2020-01-24T24:00:00Z', '2020-02-31T00:00:00Z', '2020-02-30T00:00:00.000Z'])
      expect(timestamp.safeParse(t).success, t).toBe(false);
    // V8 turns 2020-02-31 into 2 March: the schema, not Date.parse, decides, and timestampMs follows it.
    expect(Number.isNaN(Date.parse('2020-02-31T00:00:00Z'))).toBe(false);
    expect(timestampMs('2020-02-31T00:00:00Z')).toBeNaN();
    expect(timestampMs('2020-02-29T00:00:00Z')).toBe(Date.UTC(2020, 1, 29));
    expect(timestamp.safeParse('2020-02-29T23:59:59.999Z').success).toBe(true);
  });

  it('the pattern uses ASCII classes only (no \\d, \\w, \\s), so every regex engine reads it the same', () => {
    expect(TIMESTAMP_PATTERN.source).not.toMatch(/\\[dws]/);
    expect(TIMESTAMP_PATTERN.test('٢٠٢٠-01-24T08:00:00Z')).toBe(false);
    expect(TIMESTAMP_PATTERN.test('2020-01-24T08:00:00Z\n')).toBe(false);
  });
});

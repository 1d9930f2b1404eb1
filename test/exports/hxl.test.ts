// HXL exports (issue 19 point 1, spec/node.md §14.1): every hashtag and attribute they write is in the
// HXL standard's dictionary (test/fixtures/hxl, the HXL Core Schemas), the rows say what the state
// says, and nothing private leaves the node.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DONOR_NAME, PRIVATE_NAME, PRIVATE_PHONE, type Scenario, scenario } from './scenario.js';

const CLI = fileURLToPath(new URL('../../nodes/hub/dist/cli.js', import.meta.url));
const fixture = (f: string) => parse(readFileSync(fileURLToPath(new URL(`../fixtures/hxl/${f}`, import.meta.url)), 'utf8')) as string[][];

/** The dictionary: released (or beta) hashtags, and attributes with the hashtags each is listed for. */
const hashtags = new Set(
  fixture('hashtag.hxl.csv')
    .slice(1)
    .filter((r) => r[3] !== 'Rejected' && r[3] !== 'Deprecated')
    .map((r) => r[0] as string),
);
const attributes = new Map(
  fixture('attribute.hxl.csv')
    .slice(1)
    .filter((r) => r[3] !== 'Rejected' && r[3] !== 'Deprecated')
    .map((r) => [r[0] as string, new Set((r[4] as string).split(',').map((s) => s.trim()))]),
);

/** The HXL 1.1 rules for one tag spec: a hashtag of the dictionary or a custom #x_ one, attributes of the dictionary listed for it. */
function tagProblems(spec: string): string[] {
  const problems: string[] = [];
  if (!/^#[a-z][a-z0-9_]*(\s*\+[a-z][a-z0-9_]*)*$/.test(spec)) return [`${spec}: not HXL tag syntax`];
  const [tag, ...atts] = spec.split('+').map((s) => s.trim());
  const custom = /^#x_[a-z0-9_]+$/.test(tag as string);
  if (!custom && !hashtags.has(tag as string)) problems.push(`${spec}: ${tag} is not in the HXL dictionary`);
  for (const a of atts) {
    const forTags = attributes.get(`+${a}`);
    if (!forTags) problems.push(`${spec}: +${a} is not in the HXL dictionary`);
    else if (!custom && !forTags.has(tag as string)) problems.push(`${spec}: +${a} is not listed for ${tag}`);
  }
  if (new Set(atts).size !== atts.length) problems.push(`${spec}: an attribute repeats`);
  return problems;
}

function shuniu(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout: out, stderr: err }));
  });
}

let s: Scenario;
beforeAll(async () => {
  s = await scenario();
});
afterAll(async () => {
  await s?.p.node.close();
});

const KINDS = ['needs', 'offers', 'allocations', 'deliveries'] as const;
const get = (path: string, token?: string) => fetch(`${s.p.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('HXL exports', () => {
  it('the dictionary check refuses what the standard does not have (the test can fail)', () => {
    expect(hashtags.size).toBeGreaterThan(40);
    expect(tagProblems('#adm1+code')).toEqual([]);
    expect(tagProblems('#x_quantity')).toEqual([]);
    expect(tagProblems('#quantity')).toHaveLength(1);
    expect(tagProblems('#item+zh')).toHaveLength(1);
    expect(tagProblems('#date+code')).toHaveLength(1);
    expect(tagProblems('#delivery')).toHaveLength(1);
    expect(tagProblems('Item')).toHaveLength(1);
  });

  it.each(KINDS)('%s: CSV with HXL hashtags on row 2, every tag and attribute in the HXL dictionary', async (kind) => {
    const res = await get(`/v1/export/hxl/${kind}`, s.p.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parse(await res.text()) as string[][];
    const [headers, tags, ...data] = rows as [string[], string[], ...string[][]];
    expect(tags.length).toBe(headers.length);
    expect(tags.flatMap(tagProblems)).toEqual([]);
    expect(data.length).toBeGreaterThan(0);
    for (const r of data) expect(r.length).toBe(tags.length);
  });

  it('rows carry what the state says: who, what, where, how many, when, status', async () => {
    const table = async (kind: string) => {
      const [, tags, ...data] = parse(await (await get(`/v1/export/hxl/${kind}`, s.p.token)).text()) as string[][];
      return data.map((r) => Object.fromEntries((tags as string[]).map((t, i) => [t, r[i]])));
    };
    const needs = await table('needs');
    const need = needs.find((r) => r['#meta+id'] === s.need);
    expect(need).toMatchObject({
      '#org+code': s.c.id,
      '#org+name': '孝南区枢纽',
      '#loc+name': '孝南区人民医院',
      '#adm1+name': '湖北省',
      '#adm1+code': '420000',
      '#adm2+name': '孝感市',
      '#adm2+code': '420900',
      '#adm3+name': '孝南区',
      '#adm3+code': '420902',
      '#item+code': 'PPE.MASK.SURGICAL',
      '#x_unit': 'piece',
      '#x_quantity': '20000',
      '#x_allocated': '20000',
      '#x_received': '19950',
      '#x_delivered': '19950',
      '#severity+code': 'critical',
      '#targeted+ind': '300',
      '#date+end': '2020-01-30',
    });
    const offers = await table('offers');
    expect(offers.find((r) => r['#meta+id'] === s.offer)).toMatchObject({ '#org+funder+name': '爱心人士', '#value': '50000.00', '#currency+code': 'CNY' });
    const allocations = await table('allocations');
    expect(allocations).toEqual([expect.objectContaining({ '#meta+id': s.allocation, '#x_offer': s.offer, '#x_need': s.need, '#status+code': 'accepted' })]);
    const deliveries = await table('deliveries');
    expect(deliveries).toEqual([expect.objectContaining({ '#meta+id': s.delivery, '#x_quantity': '19950', '#reached+ind': '300', '#adm3+code': '420902' })]);
    // A region filter keeps its own: Wuhan (4201) has only the private need.
    const wuhan = (parse(await (await get('/v1/export/hxl/needs?region=420100', s.p.token)).text()) as string[][]).slice(2);
    expect(wuhan.map((r) => r[0])).toEqual([s.privateNeed]);
  });

  it('never sends a private field or an unnamed individual donor, even to an operator', async () => {
    for (const kind of KINDS) {
      const text = await (await get(`/v1/export/hxl/${kind}`, s.p.token)).text();
      expect(text).not.toContain(PRIVATE_PHONE);
      expect(text).not.toContain(PRIVATE_NAME);
      expect(text).not.toContain(DONOR_NAME);
      expect(text).not.toContain('sealed');
    }
    // The private need is exported, without its private part.
    expect(await (await get('/v1/export/hxl/needs', s.p.token)).text()).toContain(s.privateNeed);
  });

  it('shuniu export hxl KIND --url --token writes the CSV on stdout; bad input is a typed error', async () => {
    const r = await shuniu(['export', 'hxl', 'needs', '--url', s.p.url, '--token', s.p.token]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(await (await get('/v1/export/hxl/needs', s.p.token)).text());
    const bad = await shuniu(['export', 'hxl', 'people', '--url', s.p.url]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/E_ARGUMENT/);
    expect((await get('/v1/export/hxl/people', s.p.token)).status).toBe(404);
    const region = await get('/v1/export/hxl/needs?region=hubei', s.p.token);
    expect(region.status).toBe(400);
    expect(((await region.json()) as { code: string }).code).toBe('E_ARGUMENT');
  });
});

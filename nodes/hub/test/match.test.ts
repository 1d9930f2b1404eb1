import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Proposal } from '@shuniu/match';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { need as fixtureNeed, offer as fixtureOffer, state as fixtureState } from '../../../packages/match/test/fixtures.js';
import { displayWidth, run } from '../src/commands/match.js';
import { matchRoutes } from '../src/http/match-routes.js';
import { MatchService, stateSource } from '../src/match-service.js';

const REQUESTERS: Record<string, string> = { 'n-wuhan': '武汉市金银潭医院', 'n-huanggang': '黄冈市中心医院', 'n-xiangyang': '襄阳市中心医院' };
const need = (id: string, region: string, urgency: NeedState['urgency'], quantity: number) =>
  fixtureNeed({
    id,
    hub: 'h',
    region,
    urgency,
    quantity,
    beneficiaries: { group: 'medical_staff', count: 100 },
    requester: { name: REQUESTERS[id] ?? id, kind: 'hospital' },
  });
const offer = (id: string, quantity: number, intent: OfferState['intent'] = {}) =>
  fixtureOffer({ id, hub: 'h', quantity, intent, unit: { name: 'box', base: 'piece', size: 50 }, donor: { name: '湖北枢纽', kind: 'foundation' } });

const needs = [need('n-wuhan', '420112', 'critical', 30_000), need('n-huanggang', '421102', 'critical', 20_000), need('n-xiangyang', '420606', 'high', 10_000)];
const offers = [offer('o-masks', 25_000, { regions: ['4201', '4211', '4209', '4206'] }), offer('o-wuhan', 5_000, { regions: ['4201'] })];
// The hub that posted the offers, with its profile: proposals name it as the signer.
const hubs = {
  h: { id: 'h', profile: { name: { zh: '湖北省枢纽', en: 'Hubei hub' }, level: 'province', region: '420000' } },
} as unknown as ResolvedState['hubs'];
const state: ResolvedState = fixtureState(needs, offers, { hubs });

const service = new MatchService({ source: stateSource(state), version: () => 'v1', budgetMs: 60_000 });
afterAll(() => service.close());
const app = matchRoutes({ service, hubs: () => Object.values(state.hubs) });
const get = async (q: string) => {
  const res = await app.request(`/v1/match/proposals${q}`);
  return { status: res.status, body: (await res.json()) as { proposals: Proposal[]; count: number; clock: string; code?: string } };
};

describe('GET /v1/match/proposals', () => {
  it('serves the plan: critical needs share the masks, restricted supply goes to Wuhan', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body.clock).toBe('2020-01-24T12:00:00Z');
    const byNeed = Object.fromEntries(body.proposals.map((p) => [`${p.offer}>${p.need}`, p.quantity]));
    // 30,000 masks over 50,000 critical: both to 60 %; o-wuhan's 5,000 go to Wuhan first, the rest levels Huanggang up.
    expect(byNeed).toEqual({ 'o-wuhan>n-wuhan': 5000, 'o-masks>n-wuhan': 13_000, 'o-masks>n-huanggang': 12_000 });
    expect(body.count).toBe(3);
  });

  it('filters select from the same plan', async () => {
    const all = (await get('')).body.proposals;
    expect((await get('?region=4211')).body.proposals).toEqual(all.filter((p) => p.region.startsWith('4211')));
    expect((await get('?urgency=high,normal')).body.proposals).toEqual([]);
    expect((await get('?offer=o-wuhan')).body.proposals).toEqual(all.filter((p) => p.offer === 'o-wuhan'));
    expect((await get('?need=n-wuhan&need=n-huanggang&item=PPE.MASK.SURGICAL')).body.count).toBe(3);
  });

  it('refuses a bad filter with a problem document', async () => {
    const res = await app.request('/v1/match/proposals?region=42x&urgency=urgent');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const p = (await res.json()) as { code: string; issues: { path: (string | number)[] }[] };
    expect(p.code).toBe('E_ARGUMENT');
    expect(p.issues.map((i) => i.path[0]).sort()).toEqual(['region', 'urgency']);
  });
});

describe('shuniu match', () => {
  let dir: string;
  let out: string[];
  let server: ReturnType<typeof serve>;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shuniu-match-'));
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        url = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    server.close();
  });
  const capture = async (argv: string[]) => {
    out = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      return await run(argv);
    } finally {
      spy.mockRestore();
    }
  };

  it('prints the proposals of a state file as a table', async () => {
    expect(await capture(['--state', join(dir, 'state.json')])).toBe(0);
    const text = out.join('');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^urgency\s+requester\s+region\s+item\s+quantity\s+donor\s+signer\s+coverage\s+arrival\s+limited by$/);
    expect(lines).toHaveLength(5);
    expect(text).toContain('12000 piece');
    expect(text).toContain('0% → 60%');
    expect(lines[4]).toBe('3 proposals, 30000 base units');
  });

  it('names the requester, place, item, donor and signer, with no id or bare code, in aligned columns (issue 12 point 4)', async () => {
    expect(await capture(['--state', join(dir, 'state.json')])).toBe(0);
    const lines = out.join('').trimEnd().split('\n');
    const huanggang = lines.find((l) => l.includes('黄冈市中心医院')) as string;
    expect(huanggang).toMatch(/^critical\s+黄冈市中心医院\s+黄冈市黄州区\s+医用外科口罩\s+12000 piece\s+湖北枢纽\s+湖北省枢纽\s+0% → 60%/);
    expect(lines.find((l) => l.includes('武汉市金银潭医院'))).toContain('武汉市东西湖区');
    for (const id of ['n-wuhan', 'n-huanggang', 'o-masks', '421102', 'PPE.MASK']) expect(lines.join('\n')).not.toContain(id);
    // Columns line up on screen: the donor column starts at the same display column on every line (CJK characters are two wide).
    const at = (l: string, cell: string) => displayWidth(l.slice(0, l.indexOf(cell)));
    const rows = lines.slice(1, -1);
    expect(new Set(rows.map((l) => at(l, '湖北枢纽')))).toEqual(new Set([at(lines[0] as string, 'donor')]));
  });

  it('names the signer from the page of a running node (--url)', async () => {
    expect(await capture(['--url', url, '--region', '4211'])).toBe(0);
    const lines = out.join('').trimEnd().split('\n');
    expect(lines[1]).toMatch(/黄冈市中心医院.*湖北枢纽\s+湖北省枢纽/);
  });

  it('asks a running node with --url and the same filters', async () => {
    expect(await capture(['--url', url, '--region', '4201', '--json'])).toBe(0);
    const ps = JSON.parse(out.join('')) as Proposal[];
    expect(ps.map((p) => [p.offer, p.need, p.quantity])).toEqual([
      ['o-masks', 'n-wuhan', 13_000],
      ['o-wuhan', 'n-wuhan', 5000],
    ]);
  });

  it('needs exactly one source', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await capture([])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});

// `pnpm demo:shanghai`: the second story (issue 18 point 2), Shanghai 2022. Shanghai United Foundation (联劝)
// ran an 80-day campaign with 80 companies, 12 special funds, 28 charity partners and 6 communities: 27.21 M CNY
// raised, goods worth 30.88 M CNY, 419 communities and units supported, 1.73 M people reached (../shared/domain.md,
// seeds/). Here: the foundation's hub (a root for 310000) and three district hubs it admits (浦东新区, 徐汇区,
// 静安区), four nodes on loopback. The funds and companies' goods are offered at the foundation; the districts post
// their communities' and units' needs; the foundation ships to each district, which signs for the goods and hands
// them over; donors' live totals (money raised, goods value, units served, people reached) are computed after each
// step from the foundation's resolved state by the reports' one function, buildReport (spec/resolution.md §10).
// Xuhui bundles ten of its community groups' needs into one project, which the foundation funds as a whole (as
// Wuhan NPI passed community groups' needs to foundations, issue 18 point 5); the bundle's progress, derived by the
// resolver from its needs (spec/resolution.md §7.2), is printed as they are delivered.
// Keeps serving until Ctrl-C; with --exit stops once every node agrees and the totals are the campaign's (exit 0
// only then); --quick plays a tenth of the units, people and companies (the test). Ports 7430-7433 when free.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubNode, initDataDir } from '@shuniu/hub';
import { formatTimestamp } from '@shuniu/protocol';
import type { AllocationState, BundleState, NeedState, OfferState } from '@shuniu/resolve';
import { buildReport } from '../nodes/console/src/lib/reports.js';
import { call, type Running, until as untilEvery } from './lib.js';

const exitWhenDone = process.argv.includes('--exit');
const root = mkdtempSync(join(tmpdir(), 'shuniu-shanghai-'));
const say = (m: string) => process.stdout.write(`${m}\n`);
const CAMPAIGN = '2022 上海联劝抗疫行动';

/**
 * The campaign's published figures (Shanghai United Foundation, 2022). With --quick (the test), a tenth of the
 * units, people and companies, the same money and goods: the node signs ~1,300 records for the full story.
 */
const QUICK = process.argv.includes('--quick');
const TARGET = QUICK
  ? { moneyFen: 2_721_000_000, goodsFen: 3_088_000_000, units: 42, people: 173_000, funds: 12, companies: 8 }
  : { moneyFen: 2_721_000_000, goodsFen: 3_088_000_000, units: 419, people: 1_730_000, funds: 12, companies: 80 };

/** The campaign's waits: up to 2 minutes, asking every 250 ms. */
const until = (what: string, check: () => Promise<boolean>) => untilEvery(what, check, 120, 250);
const nodes: Running[] = [];
let started = 0;

async function start(label: string, o: { name: string; level: 'province' | 'county'; region: string; parent?: string }): Promise<Running> {
  const dir = join(root, label);
  await initDataDir({ dir, port: 0, ...o });
  const node = await HubNode.open(dir, {
    overrides: { federation: { pullIntervalMs: 500, backoffBaseMs: 200, backoffMaxMs: 2000 } },
    log: () => {},
  });
  const url = await node.listen(7430 + started++).catch(() => node.listen(0));
  const token = await node.auth.issue('operator', 8 * 3600);
  say(`${label.padEnd(9)} ${o.name} (${o.region}) at ${url}`);
  return { label, node, url, token };
}

async function state<T>(n: Running, what: 'needs' | 'offers' | 'allocations'): Promise<T[]> {
  const out: T[] = [];
  let cursor = '';
  for (;;) {
    const r = (await (await fetch(`${n.url}/v1/state/${what}?limit=5000${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`)).json()) as Record<
      string,
      unknown
    >;
    out.push(...(r[what] as T[]));
    if (typeof r.next !== 'string' || !r.next) return out;
    cursor = r.next;
  }
}
/** The bundle as the node's resolved state has it (GET /v1/state/bundles), or undefined. */
async function bundleAt(n: Running, id: string): Promise<BundleState | undefined> {
  const r = (await (await fetch(`${n.url}/v1/state/bundles`)).json()) as { bundles: BundleState[] };
  return r.bundles.find((b) => b.id === id);
}
const BUNDLE_FEN = 60_000_000;
async function showBundle(n: Running, id: string): Promise<BundleState> {
  const b = (await bundleAt(n, id)) as BundleState;
  const p = b.progress;
  say(
    `   bundle ${b.title}: ${p.needs} needs, ${b.status} (pledged ${yuan(b.fundedFen)} of ${yuan(b.targetFen ?? 0)}) · open ${p.open} · allocated ${p.allocated} · in transit ${p.inTransit} · delivered ${p.delivered}`,
  );
  return b;
}
const hash = async (n: Running) => ((await (await fetch(`${n.url}/v1/state/hash`)).json()) as { stateHash: string }).stateHash;

const yuan = (fen: number) => `¥${(fen / 100 / 1_000_000).toFixed(2)} M`;
/** The donors' live totals, from the foundation's resolved state, by buildReport (spec/resolution.md §10). */
async function totals(n: Running) {
  const [needs, offers, allocations] = await Promise.all([
    state<NeedState>(n, 'needs'),
    state<OfferState>(n, 'offers'),
    state<AllocationState>(n, 'allocations'),
  ]);
  const r = buildReport({ needs, offers, allocations });
  const row = r.byCampaign.find((x) => x.key === CAMPAIGN);
  return { ...r.totals, campaign: row };
}
async function live(label: string, n: Running) {
  const t = await totals(n);
  say(
    `   live totals (${label}): money raised ${yuan(t.moneyFen)} · goods ${yuan(t.goodsFen)} · units served ${t.units} · people reached ${t.people.toLocaleString('en')}`,
  );
  return t;
}

/** Runs the jobs at most `width` at a time, in order of start (the node signs each record as it comes). */
async function pool<T>(jobs: (() => Promise<T>)[], width = 8): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return out;
}

/** n whole numbers that sum to `total`, each about total/n, deterministic (no randomness: the figures are the campaign's). */
function split(total: number, n: number, wobble: number): number[] {
  const base = Math.floor(total / n);
  const out = Array.from({ length: n }, (_, i) => base + (((i * 7919) % (2 * wobble + 1)) - wobble));
  out[n - 1] = (out[n - 1] as number) + total - out.reduce((a, b) => a + b, 0);
  return out;
}

/** What locked-down communities and units asked for, by turns. */
const ITEMS = [
  { item: { code: 'FOOD.VEGETABLES', name: '新鲜蔬菜' }, unit: { name: 'kg', base: 'kg', size: 1 }, per: 400, purpose: 'food', group: 'general_public' },
  { item: { code: 'FOOD.RICE', name: '大米' }, unit: { name: 'bag', base: 'kg', size: 25 }, per: 20, purpose: 'food', group: 'elderly' },
  {
    item: { code: 'LIVING.DIAPERS.ADULT', name: '成人纸尿裤' },
    unit: { name: 'pack', base: 'piece', size: 10 },
    per: 30,
    purpose: 'daily_living',
    group: 'elderly',
  },
  {
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    unit: { name: 'box', base: 'piece', size: 50 },
    per: 40,
    purpose: 'medical_protection',
    group: 'community_workers',
  },
] as const;

let code = 1;
try {
  say('== Shanghai 2022: the foundation and three district hubs');
  const fund = await start('lianquan', { name: '上海联劝公益基金会', level: 'province', region: '310000' });
  nodes.push(fund);
  const districts: (Running & { region: string; name: string })[] = [];
  for (const [label, name, region] of [
    ['pudong', '浦东新区枢纽', '310115'],
    ['xuhui', '徐汇区枢纽', '310104'],
    ['jingan', '静安区枢纽', '310106'],
  ] as const) {
    const d = await start(label, { name, level: 'county', region, parent: fund.url });
    await call(fund, '/v1/admissions', { child: d.node.hubId, level: 'county', region, url: d.url });
    districts.push({ ...d, region, name });
    nodes.push(d);
  }
  const now = Date.now();
  const ts = (ms: number) => formatTimestamp(Math.floor(ms / 1000) * 1000);

  say(`\n== 1. ${TARGET.funds} special funds and ${TARGET.companies} companies give: money and goods, at the foundation`);
  const fundYuan = split(TARGET.moneyFen / 100, TARGET.funds, 50_000);
  const gifts: (() => Promise<unknown>)[] = [];
  for (const [i, yuan] of fundYuan.entries())
    gifts.push(() =>
      call(fund, '/v1/offers', {
        kind: 'funds',
        item: { code: 'FUNDS.CNY', name: '善款' },
        quantity: yuan,
        unit: { name: 'CNY', base: 'CNY', size: 1 },
        valueFen: yuan * 100,
        donor: { name: `联劝抗疫专项基金 ${String.fromCharCode(65 + i)}`, kind: 'foundation' },
        intent: { regions: ['31'], purposes: ['food', 'daily_living', 'medical_protection'] },
        region: '310000',
        campaign: CAMPAIGN,
      }),
    );
  const goodsValues = split(TARGET.goodsFen, TARGET.companies, 2_000_000);
  for (const [i, fen] of goodsValues.entries()) {
    const it = ITEMS[i % ITEMS.length] as (typeof ITEMS)[number];
    gifts.push(() =>
      call(fund, '/v1/offers', {
        kind: 'goods',
        item: it.item,
        quantity: 2000,
        unit: it.unit,
        valueFen: fen,
        donor: { name: `捐赠企业 ${i + 1}`, kind: 'company' },
        intent: { regions: ['31'] },
        region: '310000',
        campaign: CAMPAIGN,
      }),
    );
  }
  await pool(gifts);
  await live('offers in', fund);

  say(`\n== 2. The districts post the needs of ${TARGET.units} communities and units (${TARGET.people.toLocaleString('en')} people)`);
  const people = split(TARGET.people, TARGET.units, 1500);
  const needsOf = new Map<string, { id: string; i: number }[]>();
  const posts: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < TARGET.units; i++)
    posts.push(async () => {
      const d = districts[i % districts.length] as (typeof districts)[number];
      const it = ITEMS[i % ITEMS.length] as (typeof ITEMS)[number];
      const unitName = i % 5 === 4 ? `${d.name.replace('枢纽', '')}第${i + 1}号方舱医院` : `${d.name.replace('枢纽', '')}第${i + 1}居委会`;
      const need = await call(d, '/v1/needs', {
        item: it.item,
        quantity: it.per,
        unit: it.unit,
        urgency: i % 3 === 0 ? 'critical' : 'high',
        neededBy: ts(now + 2 * 86_400_000),
        region: d.region,
        beneficiaries: { group: it.group, count: people[i] },
        requester: { name: unitName, kind: i % 5 === 4 ? 'hospital' : 'community', region: d.region },
        purpose: it.purpose,
        campaign: CAMPAIGN,
      });
      needsOf.set(d.label, [...(needsOf.get(d.label) ?? []), { id: need.id, i }]);
    });
  await pool(posts);
  await until('every need to reach the foundation', async () => (await state<NeedState>(fund, 'needs')).length === TARGET.units);
  await live('needs in, nothing delivered yet', fund);

  say("\n== 2b. Xuhui bundles its community groups' needs into one project; the foundation funds it as a whole");
  const xuhui = districts[1] as (typeof districts)[number];
  const groupNeeds = (needsOf.get(xuhui.label) ?? [])
    .filter(({ i }) => i % 5 !== 4)
    .sort((a, b) => a.i - b.i)
    .slice(0, 10)
    .map((x) => x.id);
  const bundle = await call(xuhui, '/v1/bundles', {
    title: '徐汇区社区团购群保供项目',
    region: xuhui.region,
    needs: groupNeeds,
    description: '徐汇区各居委会团购群的保供需求，打包请基金会整体资助',
    targetFen: BUNDLE_FEN,
    campaign: CAMPAIGN,
  });
  await until('the bundle to reach the foundation', async () => (await bundleAt(fund, bundle.id)) !== undefined);
  await call(fund, `/v1/bundles/${bundle.id}/fund`, { amountFen: BUNDLE_FEN, note: '联劝整体资助' });
  await until('the pledge to count', async () => (await bundleAt(fund, bundle.id))?.status === 'funded');
  await showBundle(fund, bundle.id);

  say('\n== 3. The foundation ships to each district; the district signs for the goods and hands them to its communities');
  for (const d of districts) {
    const mine = needsOf.get(d.label) ?? [];
    const lines = ITEMS.map((it) => ({ item: it.item, unit: it.unit, quantity: mine.filter((x) => ITEMS[x.i % ITEMS.length] === it).length * it.per })).filter(
      (l) => l.quantity > 0,
    );
    const handoff = await call(fund, '/v1/handoffs', {
      shipment: `LQ-2022-${d.region}`,
      from: fund.node.hubId,
      to: d.node.hubId,
      lines,
      carrier: { name: '联劝保供车队', kind: 'chartered_truck' },
      expectedArrival: ts(now + 86_400_000),
      allocations: [],
    });
    await until(`the shipment to reach ${d.label}`, async () => (await fetch(`${d.url}/v1/records/${handoff.id}`)).status === 200);
    await call(d, '/v1/receipts', {
      handoff: handoff.id,
      lines: lines.map((l, line) => ({ line, accepted: l.quantity, rejected: 0, missing: 0 })),
      received: ts(Date.now()),
    });
    await pool(
      mine.map(({ id, i }) => () => {
        const it = ITEMS[i % ITEMS.length] as (typeof ITEMS)[number];
        return call(d, '/v1/deliveries', {
          need: id,
          handoffs: [handoff.id],
          lines: [{ item: it.item, unit: it.unit, quantity: it.per }],
          recipient: {
            name: `${d.name.replace('枢纽', '')}第${i + 1}${i % 5 === 4 ? '号方舱医院' : '居委会'}`,
            kind: i % 5 === 4 ? 'hospital' : 'community',
            region: d.region,
          },
          peopleServed: people[i] as number,
          delivered: ts(Date.now()),
        });
      }),
    );
    const reached = mine.length;
    await until(`${d.label}'s deliveries to reach the foundation`, async () => {
      const needs = await state<NeedState>(fund, 'needs');
      return needs.filter((n) => n.region === d.region && n.delivered > 0).length === reached;
    });
    await live(`${d.name} delivered`, fund);
    if (d === xuhui) await showBundle(fund, bundle.id);
  }

  say('\n== waiting for every node to agree');
  await until('all state hashes to agree', async () => new Set(await Promise.all(nodes.map(hash))).size === 1);
  for (const n of nodes) say(`${n.label.padEnd(9)} state ${await hash(n)}`);
  const t = await live('final', fund);
  const c = t.campaign;
  say(
    `campaign ${CAMPAIGN}: money raised ${yuan(c?.moneyFen ?? 0)}, goods ${yuan(c?.goodsFen ?? 0)}, units ${c?.units ?? 0}, people ${(c?.people ?? 0).toLocaleString('en')}`,
  );
  const b = await showBundle(fund, bundle.id);
  const bundleDone = b.status === 'funded' && b.fundedFen === BUNDLE_FEN && b.progress.delivered === groupNeeds.length;
  const ok = bundleDone && t.moneyFen === TARGET.moneyFen && t.goodsFen === TARGET.goodsFen && t.units === TARGET.units && t.people === TARGET.people;
  say(
    ok
      ? `totals match the campaign${QUICK ? ' (a tenth of its units and people: --quick)' : ''}: 27.21 M raised, 30.88 M goods, ${TARGET.units} units, ${TARGET.people.toLocaleString('en')} people`
      : 'totals DIFFER from the campaign',
  );
  if (!exitWhenDone) {
    say('\n== operator consoles (reports page: 报告)');
    for (const n of nodes) say(`${n.label.padEnd(9)} ${n.url}/#token=${n.token}`);
  }
  code = ok ? 0 : 1;
} catch (e) {
  say(`demo failed: ${(e as Error).message}`);
  code = 1;
}

async function shutdown(): Promise<void> {
  for (const n of nodes) await n.node.close().catch(() => {});
  rmSync(root, { recursive: true, force: true });
}

if (exitWhenDone || code !== 0) {
  await shutdown();
  process.exit(code);
} else {
  say('\nserving; Ctrl-C to stop');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown().then(() => process.exit(0)));
}

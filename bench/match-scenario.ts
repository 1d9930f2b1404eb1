/**
 * The generated scenarios of `pnpm bench match` (and the hostile bench): the
 * 2020 Hubei scenario and the large seeded states used for speed figures.
 */
import type { BeneficiaryGroup, BodyOf, Urgency } from '@shuniu/protocol';
import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';
import { MatchService, stateSource } from '../nodes/hub/src/match-service.js';
import { need, offer, state } from '../packages/match/test/fixtures.js';
import { progress } from './report.js';

type Purpose = NonNullable<BodyOf<'need.posted'>['purpose']>;

const HOUR = 3_600_000;
const CLOCK = Date.UTC(2020, 0, 24, 12); // the afternoon of 24 January 2020
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const MASK = { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' };
const PIECE = { name: 'piece', base: 'piece', size: 1 };

/** mulberry32: a seeded PRNG, so every run builds the same scenario. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
const int = (rnd: () => number, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

let seq = 0;
const nextId = (p: string) => `${p}${(seq++).toString().padStart(6, '0')}`;

interface NeedSpec {
  region: string;
  name: string;
  quantity: number;
  urgency: Urgency;
  neededByH: number;
  group?: BeneficiaryGroup;
  purpose?: Purpose;
  kind?: string;
  item?: { code: string; name: string };
  postedH: number;
}

function mkNeed(s: NeedSpec): NeedState {
  return need({
    id: nextId('n'),
    hub: `hub-${s.region.slice(0, 4)}`,
    hlc: { ms: CLOCK + s.postedH * HOUR, c: seq },
    item: s.item ?? MASK,
    unit: PIECE,
    quantity: s.quantity,
    urgency: s.urgency,
    neededBy: iso(CLOCK + s.neededByH * HOUR),
    region: s.region,
    beneficiaries: { group: s.group ?? 'medical_staff', count: Math.ceil(s.quantity / 20) },
    requester: { name: s.name, kind: s.kind ?? 'hospital', region: s.region },
    purpose: s.purpose ?? 'medical_protection',
  });
}

function mkOffer(o: {
  name: string;
  quantity: number;
  region: string;
  intent: OfferState['intent'];
  postedH: number;
  unit?: OfferState['unit'];
  item?: { code: string; name: string };
}): OfferState {
  return offer({
    id: nextId('o'),
    hub: 'hub-4200',
    hlc: { ms: CLOCK + o.postedH * HOUR, c: seq },
    kind: 'goods',
    item: o.item ?? MASK,
    unit: o.unit ?? PIECE,
    quantity: o.quantity,
    valueFen: o.quantity * 100,
    donor: { name: o.name, kind: 'foundation' },
    intent: o.intent,
    region: o.region,
  });
}

// ---- the Hubei scenario --------------------------------------------------------------------

/** Designated hospitals and groups in the four prefectures the 24 January masks went to (GB/T 2260 district codes). */
const HOSPITALS: [string, string, number, Urgency][] = [
  ['420112', '武汉市金银潭医院', 30_000, 'critical'],
  ['420103', '华中科技大学同济医学院附属协和医院', 30_000, 'critical'],
  ['420104', '华中科技大学同济医学院附属同济医院', 28_000, 'critical'],
  ['420106', '武汉大学中南医院', 25_000, 'critical'],
  ['420106', '武汉大学人民医院', 25_000, 'critical'],
  ['420104', '武汉市第一医院', 18_000, 'critical'],
  ['420106', '武汉市第三医院', 16_000, 'critical'],
  ['420106', '武汉市第七医院', 12_000, 'critical'],
  ['420102', '武汉市汉口医院', 15_000, 'critical'],
  ['420102', '武汉市肺科医院', 12_000, 'critical'],
  ['420106', '武汉市武昌医院', 14_000, 'critical'],
  ['420104', '武汉市红十字会医院', 12_000, 'critical'],
  ['420103', '武汉市中心医院', 20_000, 'critical'],
  ['420104', '武汉市第四医院', 10_000, 'high'],
  ['420115', '武汉市江夏区第一人民医院', 8_000, 'high'],
  ['420116', '武汉市黄陂区人民医院', 8_000, 'high'],
  ['420117', '武汉市新洲区人民医院', 6_000, 'high'],
  ['420114', '武汉市蔡甸区人民医院', 6_000, 'high'],
  ['421102', '黄冈市中心医院', 20_000, 'critical'],
  ['421102', '大别山区域医疗中心', 15_000, 'critical'],
  ['421181', '麻城市人民医院', 8_000, 'critical'],
  ['421182', '武穴市第一人民医院', 6_000, 'high'],
  ['421122', '红安县人民医院', 5_000, 'high'],
  ['421126', '蕲春县人民医院', 5_000, 'high'],
  ['421127', '黄梅县人民医院', 5_000, 'high'],
  ['421125', '浠水县人民医院', 5_000, 'high'],
  ['420902', '孝感市中心医院', 15_000, 'critical'],
  ['420902', '孝感市第一人民医院', 10_000, 'critical'],
  ['420981', '应城市人民医院', 6_000, 'high'],
  ['420982', '安陆市普爱医院', 5_000, 'high'],
  ['420984', '汉川市人民医院', 6_000, 'critical'],
  ['420923', '云梦县人民医院', 4_000, 'high'],
  ['420606', '襄阳市中心医院', 12_000, 'critical'],
  ['420602', '襄阳市第一人民医院', 8_000, 'high'],
  ['420683', '枣阳市第一人民医院', 5_000, 'high'],
  ['420682', '老河口市第一医院', 4_000, 'normal'],
];
const GROUPS: [string, string, number, Urgency, BeneficiaryGroup, Purpose][] = [
  ['420102', '江岸区社区工作者', 6_000, 'high', 'community_workers', 'medical_protection'],
  ['420111', '洪山区养老院', 3_000, 'high', 'elderly', 'daily_living'],
  ['420106', '武昌区志愿者车队', 2_000, 'normal', 'volunteers', 'logistics'],
  ['421102', '黄州区社区工作者', 3_000, 'normal', 'community_workers', 'medical_protection'],
  ['420902', '孝南区社区工作者', 3_000, 'high', 'community_workers', 'medical_protection'],
];
const COUNTIES = [
  '420113',
  '420115',
  '420116',
  '420117',
  '421121',
  '421123',
  '421124',
  '421126',
  '421181',
  '420921',
  '420922',
  '420923',
  '420981',
  '420984',
  '420624',
  '420625',
  '420626',
  '420682',
  '420683',
  '420684',
];
const URG_MIX: Urgency[] = ['critical', 'critical', 'high', 'high', 'high', 'normal', 'normal', 'low'];
const GROUP_MIX: BeneficiaryGroup[] = ['medical_staff', 'medical_staff', 'patients', 'community_workers', 'elderly'];

export function hubei(seed: number): ResolvedState {
  const rnd = prng(seed);
  const needs: NeedState[] = [];
  // Posting order is scrambled against urgency, as in the chat groups: a hospital's need arrives when its staff find time to post it.
  for (const [region, name, quantity, urgency] of HOSPITALS)
    needs.push(mkNeed({ region, name, quantity, urgency, neededByH: int(rnd, 36, 120), postedH: -int(rnd, 1, 48) }));
  for (const [region, name, quantity, urgency, group, purpose] of GROUPS)
    needs.push(mkNeed({ region, name, quantity, urgency, group, purpose, kind: 'community', neededByH: int(rnd, 48, 168), postedH: -int(rnd, 1, 48) }));
  for (let i = 0; i < 60; i++) {
    const region = pick(rnd, COUNTIES);
    needs.push(
      mkNeed({
        region,
        name: `${region} 乡镇卫生院 ${i + 1}`,
        quantity: int(rnd, 10, 80) * 100,
        urgency: pick(rnd, URG_MIX),
        group: pick(rnd, GROUP_MIX),
        kind: 'hospital',
        neededByH: int(rnd, 12, 240),
        postedH: -int(rnd, 1, 48),
      }),
    );
  }
  const offers: OfferState[] = [
    // 24 January: the Hubei hub buys 110,000 masks, 2,200 boxes of 50, for the four prefectures' designated hospitals.
    mkOffer({
      name: '湖北枢纽 1月24日采购',
      quantity: 110_000,
      unit: { name: 'box', base: 'piece', size: 50 },
      region: '420902',
      intent: { regions: ['4201', '4211', '4209', '4206'] },
      postedH: -2,
    }),
    mkOffer({ name: '武汉某企业', quantity: 20_000, region: '420103', intent: { regions: ['4201'] }, postedH: -30 }),
    mkOffer({ name: '浙江某基金会', quantity: 15_000, region: '330102', intent: { groups: ['medical_staff'] }, postedH: -20 }),
    mkOffer({ name: '黄冈商会', quantity: 10_000, region: '421102', intent: { regions: ['4211'], validUntil: iso(CLOCK + 12 * 24 * HOUR) }, postedH: -10 }),
    mkOffer({
      name: '爱心人士',
      quantity: 5_000,
      region: '420106',
      intent: { groups: ['elderly', 'community_workers'], purposes: ['daily_living', 'medical_protection'] },
      postedH: -5,
    }),
  ];
  const PREFS = ['4201', '4211', '4209', '4206'];
  for (let i = 0; i < 8; i++) {
    const intent: OfferState['intent'] = {};
    if (rnd() < 0.6) intent.regions = [pick(rnd, PREFS)];
    if (rnd() < 0.4) intent.groups = ['medical_staff', 'patients'];
    offers.push(mkOffer({ name: `县级捐赠 ${i + 1}`, quantity: int(rnd, 10, 50) * 100, region: pick(rnd, COUNTIES), intent, postedH: -int(rnd, 1, 40) }));
  }
  return state(needs, offers);
}

// ---- scale -------------------------------------------------------------------------------------

export function large(nNeeds: number, nOffers: number, seed: number): ResolvedState {
  const rnd = prng(seed);
  const items = Array.from({ length: 20 }, (_, i) => ({ code: `ITEM.${i}`, name: `item ${i}` }));
  const regions = Array.from(
    { length: 120 },
    (_, i) =>
      `${pick(rnd, ['4201', '4202', '4203', '4205', '4206', '4207', '4208', '4209', '4210', '4211', '4212', '4213'])}${((i % 30) + 1).toString().padStart(2, '0')}`,
  );
  const needs: NeedState[] = [];
  for (let i = 0; i < nNeeds; i++)
    needs.push(
      mkNeed({
        region: pick(rnd, regions),
        name: `need ${i}`,
        quantity: int(rnd, 1, 500) * 10,
        urgency: pick(rnd, URG_MIX),
        group: pick(rnd, GROUP_MIX),
        item: pick(rnd, items),
        neededByH: int(rnd, 6, 400),
        postedH: -int(rnd, 1, 400),
      }),
    );
  const offers: OfferState[] = [];
  for (let i = 0; i < nOffers; i++) {
    const intent: OfferState['intent'] = {};
    if (rnd() < 0.5) intent.regions = [pick(rnd, regions).slice(0, rnd() < 0.5 ? 4 : 2)];
    if (rnd() < 0.3) intent.groups = [pick(rnd, GROUP_MIX), pick(rnd, GROUP_MIX)];
    if (rnd() < 0.2) intent.validUntil = iso(CLOCK + int(rnd, 24, 500) * HOUR);
    offers.push(
      mkOffer({ name: `offer ${i}`, quantity: int(rnd, 1, 400) * 50, region: pick(rnd, regions), intent, item: pick(rnd, items), postedH: -int(rnd, 1, 400) }),
    );
  }
  return state(needs, offers);
}

/**
 * National scale the way a node serves it (`match_s_100k_x_5k`, in the match
 * and hostile benches): a large state sent to the node's matching worker in
 * slices, planned there and its first page written; also the plan's time in
 * the worker and the main thread's longest stall meanwhile.
 */
export async function nationalMatch(nNeeds: number, nOffers: number): Promise<{ nationalSeconds: number; planSeconds: number; total: number; lagMax: number }> {
  const national = large(nNeeds, nOffers, 7);
  const service = new MatchService({ source: stateSource(national), version: () => 'bench', budgetMs: 600_000 });
  let lagMax = 0;
  let last = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    lagMax = Math.max(lagMax, now - last - 1);
    last = now;
  }, 1);
  const t0 = performance.now();
  const first = await service.page({ filters: {}, offset: 0, limit: 500, maxBytes: 8 << 20 });
  const nationalSeconds = (performance.now() - t0) / 1000;
  clearInterval(lagTimer);
  const planSeconds = service.stats.lastPlanMs / 1000;
  await service.close();
  progress(
    `${nNeeds} needs × ${nOffers} offers in the matching worker: ${nationalSeconds.toFixed(2)} s to the first page (plan ${planSeconds.toFixed(2)} s in the worker), ${first.total} proposals; main thread's longest stall ${lagMax.toFixed(0)} ms`,
  );
  return { nationalSeconds, planSeconds, total: first.total, lagMax };
}

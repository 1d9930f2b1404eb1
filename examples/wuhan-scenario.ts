/**
 * A Wuhan-sized relief scenario of our own making (not the seed data, not the
 * historical record): 30 hospitals in 9 Wuhan districts, each district run by
 * its own hub under the Wuhan city hub, under the Hubei province hub, with a
 * national foundation admitted by the province at level `national`. About 200
 * needs (masks of four grades, gowns, coveralls, goggles, gloves,
 * disinfectant) and a few scarce offers that carry donor intent.
 *
 * Pure data, deterministic: the same seed and start time give the same
 * scenario. Times are relative to `now` because the resolver expires needs
 * whose `neededBy` is before its clock. Shared by test/e2e/wuhan.test.ts and
 * anything in examples/ that wants a network of this size.
 */
import { type BeneficiaryGroup, type BodyOf, catalogueItem, formatTimestamp, type HubLevel, type Urgency, unitLabel } from '@shuniu/protocol';
import { prng } from '../bench/match-scenario.js';

/**
 * The item codes the scenario uses, all from the relief-item catalogue
 * (spec/catalogue.md): names, base units and pack sizes are read from it, so
 * this table is the one place to change a code.
 */
export const ITEMS = {
  n95: { code: 'PPE.MASK.N95', pack: 'box' },
  surgical: { code: 'PPE.MASK.SURGICAL', pack: 'box' },
  medical: { code: 'PPE.MASK.MEDICAL', pack: 'box' },
  coverall: { code: 'PPE.COVERALL', pack: 'carton' },
  gown: { code: 'PPE.GOWN', pack: 'carton' },
  goggles: { code: 'PPE.GOGGLES', pack: 'carton' },
  gloves: { code: 'PPE.GLOVE', pack: 'box' },
  disinfectant: { code: 'MED.DISINFECTANT', pack: 'jerrycan' },
} as const;
export type ItemKey = keyof typeof ITEMS;

/** The item and pack unit of a scenario item, as records carry them. */
export function itemOf(key: ItemKey): { item: { code: string; name: string }; unit: { name: string; base: string; size: number } } {
  const { code, pack } = ITEMS[key];
  const c = catalogueItem(code);
  if (!c) throw new Error(`${code} is not in the relief-item catalogue`);
  const size = c.packs[pack];
  if (!size) throw new Error(`${code} has no pack ${pack} in the catalogue`);
  // The catalogue's Chinese name without its standard in brackets: 医用防护口罩（N95 / GB 19083） → 医用防护口罩.
  return { item: { code, name: c.name.zh.replace(/（.*$/, '') }, unit: { name: unitLabel(pack, 'zh'), base: c.base, size } };
}

/** Money in yuan (FUNDS.CNY), as an offer carries it. */
function fundsOf(): { item: { code: string; name: string }; unit: { name: string; base: string; size: number } } {
  const c = catalogueItem('FUNDS.CNY');
  if (!c) throw new Error('FUNDS.CNY is not in the relief-item catalogue');
  return { item: { code: c.code, name: c.name.zh.replace(/（.*$/, '') }, unit: { name: '元', base: c.base, size: 1 } };
}

export type HubKey = 'province' | 'foundation' | 'city' | `d${string}`;

export interface ScenarioHub {
  key: HubKey;
  name: string;
  level: HubLevel;
  region: string;
  /** The hub that admits it (and, but for the foundation, its parent). */
  admittedBy?: HubKey;
  /** The foundation follows the province instead of having a parent. */
  follows?: HubKey;
}

export interface Hospital {
  name: string;
  region: string;
  /** The district hub that posts its needs. */
  hub: HubKey;
  /** A designated hospital (定点医院) for fever patients: it also needs N95 respirators and coveralls. */
  designated: boolean;
  staff: number;
  beds: number;
}

export interface ScenarioNeed {
  /** The hub that posts it. */
  by: HubKey;
  hospital: Hospital;
  itemKey: ItemKey;
  body: BodyOf<'need.posted'>;
}

export interface ScenarioOffer {
  by: HubKey;
  itemKey: ItemKey | 'funds';
  body: BodyOf<'offer.posted'>;
}

export interface Scenario {
  hubs: ScenarioHub[];
  hospitals: Hospital[];
  needs: ScenarioNeed[];
  offers: ScenarioOffer[];
  campaign: string;
}

/** The nine districts with hubs: GB/T 2260 code, name, and how many of the 30 hospitals are there. */
export const DISTRICTS: readonly { region: string; name: string; hospitals: number }[] = [
  { region: '420102', name: '江岸区', hospitals: 4 },
  { region: '420103', name: '江汉区', hospitals: 4 },
  { region: '420104', name: '硚口区', hospitals: 3 },
  { region: '420105', name: '汉阳区', hospitals: 3 },
  { region: '420106', name: '武昌区', hospitals: 4 },
  { region: '420107', name: '青山区', hospitals: 3 },
  { region: '420111', name: '洪山区', hospitals: 4 },
  { region: '420112', name: '东西湖区', hospitals: 2 },
  { region: '420115', name: '江夏区', hospitals: 3 },
];

const HOSPITAL_KINDS = ['人民医院', '中心医院', '中医医院', '第二人民医院'] as const;
const HOUR = 3_600_000;

/** Items every hospital asks for; designated hospitals also ask for N95 respirators and coveralls, the others for single-use medical masks. */
const EVERYONE: ItemKey[] = ['surgical', 'gown', 'goggles', 'gloves', 'disinfectant'];

/**
 * Builds the scenario. `now` (ms) anchors the deadlines: needs fall due 1 to 6
 * days later, on the hour.
 *
 * @example const s = wuhanScenario(Date.now()); s.needs.length // 200
 */
export function wuhanScenario(now: number, seed = 20200123): Scenario {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T;
  const campaign = '2020 武汉抗疫';
  const hubs: ScenarioHub[] = [
    { key: 'province', name: '湖北省枢纽', level: 'province', region: '420000' },
    { key: 'foundation', name: '长江公益基金会', level: 'national', region: '110105', admittedBy: 'province', follows: 'province' },
    { key: 'city', name: '武汉市枢纽', level: 'city', region: '420100', admittedBy: 'province' },
    ...DISTRICTS.map((d) => ({
      key: `d${d.region}` as HubKey,
      name: `${d.name}枢纽`,
      level: 'county' as const,
      region: d.region,
      admittedBy: 'city' as const,
    })),
  ];

  // 30 hospitals; 20 of them designated (the first two of each district, and two more), so 20 × 7 + 10 × 6 = 200 needs.
  const hospitals: Hospital[] = [];
  for (const d of DISTRICTS) {
    for (let i = 0; i < d.hospitals; i++) {
      hospitals.push({
        name: `${d.name}${HOSPITAL_KINDS[i]}`,
        region: d.region,
        hub: `d${d.region}`,
        designated: i < 2 || (i === 2 && (d.region === '420106' || d.region === '420111')),
        staff: int(6, 40) * 50,
        beds: int(4, 30) * 25,
      });
    }
  }

  // The first hospital's new fever ward opens tonight: its respirators and disinfectant are due first of all (so both
  // the foundation's and the city's proposals lead the plan's order, spec/matching.md §10).
  const tonight = (h: Hospital, key: ItemKey) => h === hospitals[0] && (key === 'n95' || key === 'disinfectant');
  const due = (days: number) => formatTimestamp(Math.ceil((now + days * 24 * HOUR) / HOUR) * HOUR);
  const needs: ScenarioNeed[] = [];
  for (const h of hospitals) {
    const keys: ItemKey[] = h.designated ? ['n95', 'coverall', ...EVERYONE] : ['medical', ...EVERYONE];
    for (const key of keys) {
      const { item, unit } = itemOf(key);
      // About five days of use: pieces for each member of staff (masks several a day), in whole packs.
      const perHead: Record<ItemKey, number> = { n95: 5, surgical: 10, medical: 10, coverall: 3, gown: 5, goggles: 1, gloves: 10, disinfectant: 0 };
      const base = key === 'disinfectant' ? h.beds * 2 : h.staff * perHead[key];
      const quantity = Math.max(1, Math.round((base * (0.8 + rnd() * 0.4)) / unit.size));
      // A designated hospital's fever ward needs respirators, coveralls and disinfectant first.
      const critical = h.designated && (key === 'n95' || key === 'coverall' || key === 'disinfectant');
      const urgency: Urgency = critical ? 'critical' : pick(['high', 'high', 'normal', 'critical'] as const);
      const group: BeneficiaryGroup = key === 'disinfectant' ? 'patients' : 'medical_staff';
      needs.push({
        by: h.hub,
        hospital: h,
        itemKey: key,
        body: {
          item,
          quantity,
          unit,
          urgency,
          neededBy: due(tonight(h, key) ? 0.75 : critical ? int(1, 3) : int(2, 6)),
          region: h.region,
          beneficiaries: { group, count: group === 'patients' ? h.beds : h.staff },
          requester: { name: h.name, kind: 'hospital', region: h.region },
          campaign,
          purpose: key === 'disinfectant' ? 'medical_treatment' : 'medical_protection',
        },
      });
    }
  }

  /** Demand for an item in base units, over the needs passing `where`: scarce offers are a share of it. */
  const demand = (key: ItemKey, where: (n: ScenarioNeed) => boolean = () => true) =>
    needs.filter((n) => n.itemKey === key && where(n)).reduce((s, n) => s + n.body.quantity * n.body.unit.size, 0);
  const offer = (
    by: HubKey,
    key: ItemKey,
    share: number,
    pricePerPieceFen: number,
    donor: BodyOf<'offer.posted'>['donor'],
    intent: BodyOf<'offer.posted'>['intent'],
    region: string,
    note?: string,
  ): ScenarioOffer => {
    const { item, unit } = itemOf(key);
    const quantity = Math.max(1, Math.floor((demand(key, (n) => intentAllows(intent, n.body)) * share) / unit.size));
    return {
      by,
      itemKey: key,
      body: {
        kind: 'goods',
        item,
        quantity,
        unit,
        valueFen: quantity * unit.size * pricePerPieceFen,
        donor,
        intent,
        region,
        campaign,
        ...(note ? { note } : {}),
      },
    };
  };
  const foundationDonor = { name: '长江公益基金会', kind: 'foundation' as const };
  const offers: ScenarioOffer[] = [
    // The foundation: N95 respirators for Wuhan's medical staff only (in effect its designated hospitals, the only ones asking for them), a third of what they ask.
    offer(
      'foundation',
      'n95',
      0.3,
      1_200,
      foundationDonor,
      { regions: ['4201'], groups: ['medical_staff'], purposes: ['medical_protection'] },
      '420112',
      '定向武汉定点医院医护人员',
    ),
    // Coveralls for four districts only.
    offer('foundation', 'coverall', 0.4, 9_000, foundationDonor, { regions: ['420102', '420105', '420106', '420111'], groups: ['medical_staff'] }, '420112'),
    {
      by: 'foundation',
      itemKey: 'funds',
      body: {
        kind: 'funds',
        ...fundsOf(),
        quantity: 2_000_000,
        valueFen: 200_000_000,
        donor: foundationDonor,
        intent: { regions: ['4201'], purposes: ['medical_protection', 'medical_treatment'] },
        region: '110105',
        campaign,
      },
    },
    // The province: gowns for medical staff anywhere in Hubei, goggles for Wuhan.
    offer('province', 'gown', 0.35, 1_500, { name: '湖北省红十字会', kind: 'government' }, { regions: ['42'], groups: ['medical_staff'] }, '420106'),
    offer('province', 'goggles', 0.5, 2_500, { name: '湖北省红十字会', kind: 'government' }, { regions: ['4201'] }, '420106'),
    // The city: surgical masks and disinfectant for its hospitals' patients.
    offer('city', 'surgical', 0.25, 80, { name: '武汉市慈善总会', kind: 'foundation' }, { regions: ['4201'] }, '420103'),
    offer('city', 'disinfectant', 0.5, 600, { name: '武汉市慈善总会', kind: 'foundation' }, { regions: ['4201'], groups: ['patients'] }, '420103'),
  ];
  return { hubs, hospitals, needs, offers, campaign };
}

/** H1 of spec/matching.md §2 (regions, groups, purposes) for a need: the offers above are sized to what their intent allows. */
function intentAllows(intent: BodyOf<'offer.posted'>['intent'], need: BodyOf<'need.posted'>): boolean {
  if (intent.regions && !intent.regions.some((p) => need.region.startsWith(p))) return false;
  if (intent.groups && !intent.groups.includes(need.beneficiaries.group)) return false;
  if (intent.purposes && (!need.purpose || !intent.purposes.includes(need.purpose))) return false;
  return true;
}

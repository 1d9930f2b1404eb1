/**
 * The relief-item catalogue (spec/catalogue.md): one list of item codes with
 * Chinese and English names, the base unit quantities are counted in, the
 * usual pack sizes and the items that may stand in for each. Pure data and
 * lookups, no Node API: the node, the matching engine and the console import
 * it. spec/catalogue.json is generated from this file (spec/tools/gen-catalogue.ts)
 * and a test checks that the two agree.
 *
 * An item code outside the catalogue is still a valid record (the schema
 * only asks for a dotted upper-case code); the node flags it (spec/node.md
 * §8.4, `warnings`).
 */

/**
 * Top-level classes of GB/T 38565-2020 (应急物资分类及编码), by the names of
 * its classes as recalled (see spec/catalogue.md §2), plus `service` and
 * `funds` for what the protocol carries and the standard does not classify.
 */
export const CATALOGUE_CLASSES = {
  protective: { zh: '防护用品', en: 'Protective equipment' },
  life_rescue: { zh: '生命救助', en: 'Life rescue' },
  life_support: { zh: '生命支持', en: 'Life support' },
  rescue_transport: { zh: '救援运载', en: 'Rescue carriers' },
  shelter_food: { zh: '临时食宿', en: 'Temporary food and shelter' },
  decontamination: { zh: '污染清理', en: 'Decontamination and cleaning' },
  power_fuel: { zh: '动力燃料', en: 'Power and fuel' },
  engineering_equipment: { zh: '工程设备', en: 'Engineering equipment' },
  tools: { zh: '器材工具', en: 'Tools and instruments' },
  lighting: { zh: '照明设备', en: 'Lighting' },
  communication: { zh: '通讯广播', en: 'Communication and broadcasting' },
  transport: { zh: '交通运输', en: 'Transport' },
  engineering_materials: { zh: '工程材料', en: 'Engineering materials' },
  service: { zh: '服务（标准外）', en: 'Services (outside the standard)' },
  funds: { zh: '资金（标准外）', en: 'Funds (outside the standard)' },
} as const;

export type CatalogueClass = keyof typeof CATALOGUE_CLASSES;

export interface ReliefItem {
  /** Dotted upper-case code, as in a record's `item.code`. */
  code: string;
  /** GB/T 38565 top-level class (CATALOGUE_CLASSES). */
  class: CatalogueClass;
  name: { zh: string; en: string };
  /** The unit quantities of this item are counted in (a record's `unit.base`). */
  base: string;
  /** Usual packs: unit name → how many base units one holds (a positive integer). */
  packs: Record<string, number>;
  /** Codes of items that may be given where this one is needed (never the other way round unless listed there too). */
  substitutes: string[];
  /** Where the English name follows: `who` (WHO COVID-19 essential supplies), `ifrc` (IFRC Emergency Items Catalogue), or `local`. */
  source: 'who' | 'ifrc' | 'local';
  note?: string;
}

type Row = [
  code: string,
  cls: CatalogueClass,
  zh: string,
  en: string,
  base: string,
  packs: Record<string, number>,
  substitutes: string[],
  source: ReliefItem['source'],
  note?: string,
];

const ROWS: Row[] = [
  // Protective equipment (防护用品): masks of four grades, then body, hand, eye and head protection.
  ['PPE.MASK.N95', 'protective', '医用防护口罩（N95 / GB 19083）', 'Respirator, medical, N95 or FFP2 (GB 19083)', 'piece', { box: 20, carton: 400 }, [], 'who'],
  [
    'PPE.MASK.KN95',
    'protective',
    'KN95 颗粒物防护口罩（GB 2626，非医用）',
    'Respirator, particulate, KN95 (GB 2626, non-medical)',
    'piece',
    { box: 20, carton: 500 },
    ['PPE.MASK.N95'],
    'local',
  ],
  [
    'PPE.MASK.SURGICAL',
    'protective',
    '医用外科口罩（YY 0469）',
    'Mask, medical, surgical (YY 0469, type IIR)',
    'piece',
    { box: 50, carton: 2000 },
    ['PPE.MASK.N95'],
    'who',
  ],
  [
    'PPE.MASK.MEDICAL',
    'protective',
    '一次性使用医用口罩（YY/T 0969）',
    'Mask, medical, single-use (YY/T 0969)',
    'piece',
    { box: 50, carton: 2000 },
    ['PPE.MASK.SURGICAL'],
    'local',
    'Not a surgical mask: 医用外科口罩 is PPE.MASK.SURGICAL.',
  ],
  [
    'PPE.MASK.CIVIL',
    'protective',
    '日常防护型口罩（GB/T 32610）',
    'Mask, daily protective, non-medical (GB/T 32610)',
    'piece',
    { box: 50, carton: 2000 },
    ['PPE.MASK.MEDICAL', 'PPE.MASK.SURGICAL'],
    'local',
  ],
  ['PPE.COVERALL', 'protective', '医用一次性防护服（GB 19082）', 'Coverall, medical protective, single-use (GB 19082)', 'piece', { carton: 50 }, [], 'ifrc'],
  [
    'PPE.GOWN',
    'protective',
    '一次性隔离衣',
    'Gown, isolation, single-use',
    'piece',
    { carton: 100 },
    ['PPE.COVERALL', 'PPE.GOWN.SURGICAL'],
    'who',
    'An isolation gown, not a coverall: 防护服 is PPE.COVERALL.',
  ],
  ['PPE.GOWN.SURGICAL', 'protective', '一次性手术衣', 'Gown, surgical, sterile, single-use', 'piece', { carton: 50 }, [], 'who'],
  ['PPE.APRON', 'protective', '一次性防水围裙', 'Apron, waterproof, single-use', 'piece', { box: 100 }, ['PPE.GOWN'], 'who'],
  [
    'PPE.GLOVE',
    'protective',
    '一次性医用检查手套（丁腈）',
    'Gloves, examination, nitrile, non-sterile',
    'pair',
    { box: 50, carton: 500 },
    ['PPE.GLOVE.SURGICAL'],
    'who',
  ],
  ['PPE.GLOVE.SURGICAL', 'protective', '医用外科手套（无菌）', 'Gloves, surgical, sterile', 'pair', { box: 50, carton: 300 }, [], 'who'],
  ['PPE.GLOVE.WORK', 'protective', '劳保手套', 'Gloves, work, heavy duty', 'pair', { bundle: 12 }, [], 'ifrc'],
  ['PPE.GOGGLES', 'protective', '医用护目镜', 'Goggles, protective', 'piece', { carton: 100 }, ['PPE.FACESHIELD'], 'who'],
  ['PPE.FACESHIELD', 'protective', '防护面屏', 'Face shield', 'piece', { carton: 200 }, ['PPE.GOGGLES'], 'who'],
  ['PPE.CAP', 'protective', '一次性医用帽', 'Cap, medical, single-use', 'piece', { box: 100, carton: 2000 }, [], 'who'],
  ['PPE.SHOECOVER', 'protective', '一次性鞋套', 'Shoe covers, single-use', 'pair', { box: 100 }, [], 'local'],
  ['PPE.BOOTS', 'protective', '防水胶靴', 'Boots, rubber, waterproof', 'pair', { carton: 10 }, [], 'ifrc'],
  ['PPE.HELMET', 'protective', '安全帽', 'Helmet, safety', 'piece', { carton: 20 }, [], 'ifrc'],
  // Decontamination (污染清理).
  [
    'MED.DISINFECTANT',
    'decontamination',
    '含氯消毒液（84 消毒液）',
    'Disinfectant, chlorine-based (sodium hypochlorite solution)',
    'litre',
    { jerrycan: 5, drum: 25 },
    [],
    'who',
  ],
  ['MED.DISINFECTANT.TABLET', 'decontamination', '含氯消毒片', 'Chlorine tablets (NaDCC), for disinfection', 'tablet', { box: 100 }, [], 'who'],
  ['MED.ALCOHOL', 'decontamination', '75% 医用酒精', 'Alcohol, ethanol 75%', 'litre', { jerrycan: 5 }, [], 'who'],
  ['MED.HANDRUB', 'decontamination', '免洗手消毒液（500 ml 瓶）', 'Hand rub, alcohol-based (500 ml bottle)', 'bottle', { carton: 24 }, [], 'who'],
  ['MED.SPRAYER', 'decontamination', '消毒喷雾器', 'Sprayer, hand-operated, for disinfection', 'piece', {}, [], 'ifrc'],
  ['MED.BODYBAG', 'decontamination', '尸体袋', 'Body bag, adult', 'piece', { bale: 10 }, [], 'ifrc'],
  // Life support (生命支持): diagnosis, monitoring, oxygen and ventilation.
  ['MED.THERMOMETER', 'life_support', '电子体温计', 'Thermometer, clinical, digital', 'piece', { box: 10 }, ['MED.THERMOMETER.IR'], 'who'],
  ['MED.THERMOMETER.IR', 'life_support', '红外额温枪', 'Thermometer, infrared, non-contact', 'piece', { carton: 50 }, ['MED.THERMOMETER'], 'who'],
  ['MED.OXIMETER', 'life_support', '指夹式脉搏血氧仪', 'Pulse oximeter, fingertip', 'piece', { box: 10 }, [], 'who'],
  ['MED.MONITOR', 'life_support', '多参数监护仪', 'Patient monitor, multi-parameter', 'set', {}, [], 'who'],
  ['MED.VENTILATOR', 'life_support', '有创呼吸机（ICU）', 'Ventilator, ICU, invasive', 'set', {}, [], 'who'],
  ['MED.VENTILATOR.NIV', 'life_support', '无创呼吸机', 'Ventilator, non-invasive (BiPAP/CPAP)', 'set', {}, ['MED.VENTILATOR'], 'who'],
  ['MED.OXYGEN.CONCENTRATOR', 'life_support', '医用制氧机（分子筛）', 'Oxygen concentrator', 'set', {}, [], 'who'],
  ['MED.OXYGEN.CYLINDER', 'life_support', '医用氧气瓶（40 L）', 'Oxygen cylinder, medical (40 l)', 'piece', {}, [], 'who'],
  ['MED.OXYGEN.CANNULA', 'life_support', '鼻氧管', 'Nasal oxygen cannula, single-use', 'piece', { box: 50 }, [], 'who'],
  ['MED.ECMO', 'life_support', '体外膜肺氧合机（ECMO）', 'Extracorporeal membrane oxygenation (ECMO) machine', 'set', {}, [], 'local'],
  ['MED.TEST.PCR', 'life_support', '新型冠状病毒核酸检测试剂盒', 'Test kit, SARS-CoV-2, PCR', 'test', { kit: 48 }, [], 'who'],
  ['MED.SWAB', 'life_support', '病毒采样管（含拭子）', 'Viral transport medium with swab', 'piece', { box: 50 }, [], 'who'],
  ['MED.ORS', 'life_support', '口服补液盐', 'Oral rehydration salts (ORS), sachet', 'sachet', { box: 100 }, [], 'ifrc'],
  // Life rescue (生命救助).
  ['RESCUE.FIRSTAID', 'life_rescue', '急救包', 'Kit, first aid', 'kit', { carton: 10 }, [], 'ifrc'],
  ['RESCUE.STRETCHER', 'life_rescue', '折叠担架', 'Stretcher, folding', 'piece', {}, [], 'ifrc'],
  ['RESCUE.LIFEJACKET', 'life_rescue', '救生衣', 'Life jacket', 'piece', { bale: 10 }, [], 'local'],
  ['RESCUE.LIFEBUOY', 'life_rescue', '救生圈', 'Lifebuoy, ring', 'piece', {}, ['RESCUE.LIFEJACKET'], 'local'],
  ['RESCUE.DETECTOR', 'life_rescue', '生命探测仪', 'Life detector (search and rescue)', 'set', {}, [], 'local'],
  // Rescue carriers (救援运载).
  ['RESCUE.BOAT', 'rescue_transport', '冲锋舟', 'Boat, rescue, inflatable, with outboard motor', 'piece', {}, [], 'local'],
  ['RESCUE.AMBULANCE', 'rescue_transport', '救护车（车次）', 'Ambulance (trip)', 'trip', {}, [], 'local'],
  // Temporary food and shelter (临时食宿).
  ['SHELTER.TENT', 'shelter_food', '救灾帐篷（单帐篷 12 m²）', 'Tent, family, relief (12 m²)', 'piece', {}, [], 'ifrc'],
  ['SHELTER.TARPAULIN', 'shelter_food', '篷布（4 × 6 m）', 'Tarpaulin, plastic, 4 × 6 m', 'piece', { bale: 5 }, [], 'ifrc'],
  ['SHELTER.QUILT', 'shelter_food', '棉被', 'Quilt, cotton', 'piece', { bale: 10 }, ['SHELTER.BLANKET', 'SHELTER.SLEEPINGBAG'], 'local'],
  ['SHELTER.BLANKET', 'shelter_food', '毛毯', 'Blanket, woven, thermal', 'piece', { bale: 10 }, ['SHELTER.QUILT'], 'ifrc'],
  ['SHELTER.SLEEPINGBAG', 'shelter_food', '睡袋', 'Sleeping bag', 'piece', { bale: 10 }, ['SHELTER.QUILT'], 'ifrc'],
  ['SHELTER.BED', 'shelter_food', '折叠床', 'Bed, folding (camp bed)', 'piece', {}, [], 'local'],
  ['SHELTER.MAT', 'shelter_food', '防潮垫', 'Sleeping mat', 'piece', { bale: 20 }, [], 'ifrc'],
  ['SHELTER.MOSQUITONET', 'shelter_food', '长效驱虫蚊帐', 'Mosquito net, long-lasting insecticidal', 'piece', { bale: 50 }, [], 'ifrc'],
  ['LIVING.KITCHEN_KIT', 'shelter_food', '家庭炊具包', 'Kit, kitchen, family', 'kit', {}, [], 'ifrc'],
  ['LIVING.HYGIENE_KIT', 'shelter_food', '家庭卫生用品包', 'Kit, hygiene, family', 'kit', {}, [], 'ifrc'],
  ['LIVING.JERRYCAN', 'shelter_food', '折叠水桶（10 L）', 'Jerrycan, collapsible, 10 l', 'piece', { bale: 20 }, [], 'ifrc'],
  ['LIVING.SOAP', 'shelter_food', '香皂', 'Soap, bar', 'piece', { carton: 100 }, [], 'ifrc'],
  ['LIVING.DIAPERS', 'shelter_food', '婴儿纸尿裤', 'Diapers, baby', 'piece', { pack: 50 }, [], 'local'],
  ['LIVING.DIAPERS.ADULT', 'shelter_food', '成人纸尿裤', 'Diapers, adult', 'piece', { pack: 10 }, [], 'local'],
  ['LIVING.SANITARY_PADS', 'shelter_food', '卫生巾', 'Sanitary pads', 'piece', { pack: 10 }, [], 'ifrc'],
  ['WATER.BOTTLED', 'shelter_food', '瓶装饮用水（550 ml）', 'Water, drinking, bottled (550 ml)', 'bottle', { case: 24 }, [], 'local'],
  ['WATER.TABLET', 'shelter_food', '饮用水消毒片', 'Water purification tablet', 'tablet', { box: 100 }, [], 'ifrc'],
  ['FOOD.NOODLES', 'shelter_food', '方便面', 'Instant noodles', 'pack', { carton: 24 }, ['FOOD.READY_MEAL'], 'local'],
  ['FOOD.READY_MEAL', 'shelter_food', '自热米饭（即食餐）', 'Ready-to-eat meal, self-heating', 'piece', { carton: 12 }, [], 'local'],
  ['FOOD.BISCUITS', 'shelter_food', '压缩饼干', 'Biscuits, compressed, high-energy', 'pack', { carton: 40 }, [], 'ifrc'],
  ['FOOD.RICE', 'shelter_food', '大米', 'Rice', 'kg', { bag: 25 }, [], 'ifrc'],
  ['FOOD.FLOUR', 'shelter_food', '面粉', 'Wheat flour', 'kg', { bag: 25 }, [], 'ifrc'],
  ['FOOD.OIL', 'shelter_food', '食用油', 'Vegetable oil, cooking', 'litre', { bottle: 5 }, [], 'ifrc'],
  ['FOOD.VEGETABLES', 'shelter_food', '新鲜蔬菜', 'Vegetables, fresh', 'kg', {}, [], 'local'],
  [
    'FOOD.INFANT_FORMULA',
    'shelter_food',
    '婴儿配方奶粉',
    'Infant formula',
    'can',
    { carton: 6 },
    [],
    'local',
    'Give only on a need posted for it: donated breast-milk substitutes are restricted in emergencies (WHO/UNICEF).',
  ],
  // Power, lighting, communication, tools, engineering, transport.
  ['POWER.GENERATOR', 'power_fuel', '柴油发电机组', 'Generator, diesel', 'set', {}, [], 'ifrc'],
  ['POWER.DIESEL', 'power_fuel', '柴油', 'Fuel, diesel', 'litre', { drum: 200 }, [], 'local'],
  ['LIGHT.TORCH', 'lighting', '手电筒', 'Torch (flashlight)', 'piece', { carton: 50 }, [], 'ifrc'],
  ['LIGHT.TOWER', 'lighting', '移动照明灯塔', 'Lighting tower, mobile', 'set', {}, [], 'local'],
  ['COMM.SATPHONE', 'communication', '卫星电话', 'Satellite phone', 'piece', {}, [], 'ifrc'],
  ['TOOL.SHOVEL', 'tools', '铁锹', 'Shovel', 'piece', { bundle: 10 }, [], 'ifrc'],
  ['ENG.PUMP', 'engineering_equipment', '排水泵', 'Pump, dewatering', 'set', {}, [], 'local'],
  ['ENG.SANDBAG', 'engineering_materials', '防汛编织袋（沙袋）', 'Sandbag, woven polypropylene', 'piece', { bale: 100 }, [], 'local'],
  ['TRANSPORT.TRUCK', 'transport', '货车运输（车次）', 'Truck transport (trip)', 'trip', {}, [], 'local'],
  ['SERVICE.COUNSELLING', 'service', '心理疏导', 'Psychological support (session)', 'session', {}, [], 'local'],
  ['FUNDS.CNY', 'funds', '资金（人民币元）', 'Funds (CNY)', 'CNY', {}, [], 'local'],
];

/** Every catalogue item, in the order of spec/catalogue.json. */
export const RELIEF_ITEMS: readonly ReliefItem[] = ROWS.map(([code, cls, zh, en, base, packs, substitutes, source, note]) => ({
  code,
  class: cls,
  name: { zh, en },
  base,
  packs,
  substitutes,
  source,
  ...(note !== undefined ? { note } : {}),
}));

const BY_CODE = new Map(RELIEF_ITEMS.map((it) => [it.code, it]));

/** The catalogue item of a code, or undefined for a code outside the catalogue. */
export function catalogueItem(code: string): ReliefItem | undefined {
  return BY_CODE.get(code);
}

/** Items that may stand in for `code` (its `substitutes`), known to the catalogue. */
export function substitutesFor(code: string): ReliefItem[] {
  return (BY_CODE.get(code)?.substitutes ?? []).map((c) => BY_CODE.get(c)).filter((x): x is ReliefItem => x !== undefined);
}

/** A record's item, measured against the catalogue (spec/node.md §8.4 `warnings`). */
export interface ItemWarning {
  code: 'unknown_item' | 'unit_not_catalogue_base';
  path: (string | number)[];
  message: string;
}

/**
 * Warnings for the items a record body names: an item code outside the
 * catalogue (`unknown_item`), or a `unit.base` other than the catalogue's
 * base unit for that item (`unit_not_catalogue_base`). The record is valid
 * either way; the warnings tell the operator.
 *
 * @example itemWarnings({ item: { code: 'PPE.MASK.FOO' } })[0]?.code // 'unknown_item'
 */
export function itemWarnings(body: unknown): ItemWarning[] {
  const out: ItemWarning[] = [];
  const one = (item: unknown, unit: unknown, path: (string | number)[]) => {
    const code = (item as { code?: unknown } | undefined)?.code;
    if (typeof code !== 'string') return;
    const it = BY_CODE.get(code);
    if (it === undefined) {
      out.push({ code: 'unknown_item', path: [...path, 'item', 'code'], message: `item ${code} is not in the relief-item catalogue (spec/catalogue.md)` });
      return;
    }
    const base = (unit as { base?: unknown } | undefined)?.base;
    if (typeof base === 'string' && base !== it.base)
      out.push({
        code: 'unit_not_catalogue_base',
        path: [...path, 'unit', 'base'],
        message: `${code} is counted in ${it.base} in the catalogue, not ${base}`,
      });
  };
  if (body === null || typeof body !== 'object') return out;
  const b = body as { item?: unknown; unit?: unknown; lines?: unknown };
  one(b.item, b.unit, []);
  if (Array.isArray(b.lines))
    b.lines.forEach((l, i) => {
      if (l && typeof l === 'object') one((l as { item?: unknown }).item, (l as { unit?: unknown }).unit, ['lines', i]);
    });
  return out;
}

/**
 * The names of the catalogue's units (its base units and pack names) in
 * Chinese and English, so that a console shows 升 rather than `litre`. A
 * unit code stays what records carry; these are only its labels.
 */
export const UNIT_NAMES: Readonly<Record<string, { zh: string; en: string }>> = {
  CNY: { zh: '元', en: 'CNY' },
  bag: { zh: '袋', en: 'bag' },
  bale: { zh: '捆', en: 'bale' },
  bottle: { zh: '瓶', en: 'bottle' },
  box: { zh: '盒', en: 'box' },
  bundle: { zh: '扎', en: 'bundle' },
  can: { zh: '罐', en: 'can' },
  carton: { zh: '箱', en: 'carton' },
  case: { zh: '箱', en: 'case' },
  drum: { zh: '桶', en: 'drum' },
  jerrycan: { zh: '桶', en: 'jerrycan' },
  kg: { zh: '千克', en: 'kg' },
  kit: { zh: '套', en: 'kit' },
  litre: { zh: '升', en: 'litre' },
  pack: { zh: '包', en: 'pack' },
  pair: { zh: '双', en: 'pair' },
  piece: { zh: '个', en: 'piece' },
  sachet: { zh: '小袋', en: 'sachet' },
  session: { zh: '次', en: 'session' },
  set: { zh: '套', en: 'set' },
  tablet: { zh: '片', en: 'tablet' },
  test: { zh: '人份', en: 'test' },
  trip: { zh: '趟', en: 'trip' },
};

/** A unit's label in a language: the catalogue's name for a unit code it knows, else the text as given (an operator may write 箱). */
export function unitLabel(unit: string, lang: 'zh' | 'en'): string {
  return UNIT_NAMES[unit]?.[lang] ?? unit;
}

/** The catalogue as written to spec/catalogue.json. */
export function catalogueDocument(): {
  version: 1;
  classes: typeof CATALOGUE_CLASSES;
  units: typeof UNIT_NAMES;
  items: readonly ReliefItem[];
} {
  return { version: 1, classes: CATALOGUE_CLASSES, units: UNIT_NAMES, items: RELIEF_ITEMS };
}

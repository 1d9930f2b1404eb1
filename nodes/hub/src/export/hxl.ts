import type { AllocationState, HubState, NeedState, OfferState } from '@shuniu/resolve';
import { publicOffer } from '../http/routes/state.js';
import { regionTable } from '../regions.js';

/**
 * HXL exports (spec/node.md §14.1): needs, offers, allocations and
 * deliveries as CSV with HXL hashtags on the second row, Who-What-Where
 * style (#org, #adm1-#adm3, #loc, #item, quantities, #date, #status), for
 * humanitarian partners' tools (HDX, HXL Proxy, 3W dashboards).
 *
 * Only what the resolved state already shows to readers goes out: no sealed
 * part, no note, and an individual donor who did not agree to be named is
 * 爱心人士 whoever asks (as anonymous readers see offers, spec/node.md §6).
 * Every hashtag is in the HXL core dictionary or a custom `#x_` one, and
 * every attribute is in the dictionary (test/fixtures/hxl).
 */

export const HXL_KINDS = ['needs', 'offers', 'allocations', 'deliveries'] as const;
export type HxlKind = (typeof HXL_KINDS)[number];

/** One column: its header (row 1) and its HXL hashtag with attributes (row 2). */
export interface HxlColumn {
  header: string;
  tag: string;
}

/** A delivery line as exported: from a counting custody.delivered record (its body, id, author and need). */
export interface DeliveryRow {
  id: string;
  hub: string;
  need: NeedState | undefined;
  body: {
    need: string;
    lines: { item: { code: string; name: string }; quantity: number; unit: { name: string; base: string; size: number } }[];
    recipient: { name: string; kind: string; region?: string };
    peopleServed: number;
    delivered: string;
  };
}

export interface HxlSource {
  hubs: HubState[];
  needs: NeedState[];
  offers: OfferState[];
  allocations: AllocationState[];
  /** The counting deliveries (each need's `deliveries`), read back from the store. */
  deliveries: () => DeliveryRow[];
}

type Cell = string | number | undefined;

const WHERE: HxlColumn[] = [
  { header: '省 Province', tag: '#adm1+name' },
  { header: '省代码 Province code', tag: '#adm1+code' },
  { header: '市 Prefecture', tag: '#adm2+name' },
  { header: '市代码 Prefecture code', tag: '#adm2+code' },
  { header: '县 County', tag: '#adm3+name' },
  { header: '县代码 County code', tag: '#adm3+code' },
];

/** GB/T 2260 code → admin 1-3 names and codes (province, prefecture, county; empty where the code stops above). */
function where(code: string | undefined): Cell[] {
  if (code === undefined || !/^\d{6}$/.test(code)) return ['', '', '', '', '', ''];
  const t = regionTable();
  const p = `${code.slice(0, 2)}0000`;
  const c = `${code.slice(0, 4)}00`;
  const county = code.endsWith('00') ? undefined : code;
  const prefecture = code.endsWith('0000') ? undefined : c;
  return [
    t.get(code.slice(0, 2)) ?? '',
    p,
    prefecture ? (t.get(code.slice(0, 4)) ?? '') : '',
    prefecture ?? '',
    county ? (t.get(code) ?? '') : '',
    county ?? '',
  ];
}

/** An HLC time (ms) or timestamp as an ISO 8601 date (HXL's preferred #date form). */
function day(v: number | string | undefined): string {
  if (v === undefined) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

export const HXL_COLUMNS: Record<HxlKind, HxlColumn[]> = {
  needs: [
    { header: '需求编号 Need id', tag: '#meta+id' },
    { header: '发布枢纽 Hub', tag: '#org+name' },
    { header: '枢纽编号 Hub id', tag: '#org+code' },
    { header: '申请单位 Requester', tag: '#loc+name' },
    { header: '单位类型 Requester kind', tag: '#loc+type' },
    ...WHERE,
    { header: '物资 Item', tag: '#item+name' },
    { header: '物资代码 Item code', tag: '#item+code' },
    { header: '单位 Base unit', tag: '#x_unit' },
    { header: '需求数量 Quantity', tag: '#x_quantity' },
    { header: '已分配 Allocated', tag: '#x_allocated' },
    { header: '在途 In transit', tag: '#x_intransit' },
    { header: '已接收 Received', tag: '#x_received' },
    { header: '已送达 Delivered', tag: '#x_delivered' },
    { header: '紧急程度 Urgency', tag: '#severity+code' },
    { header: '受益群体 Beneficiary group', tag: '#beneficiary+code' },
    { header: '受益人数 Beneficiaries', tag: '#targeted+ind' },
    { header: '需要日期 Needed by', tag: '#date+end' },
    { header: '发布日期 Posted', tag: '#date+reported' },
    { header: '状态 Status', tag: '#status+code' },
    { header: '行动 Campaign', tag: '#activity+code' },
  ],
  offers: [
    { header: '资源编号 Offer id', tag: '#meta+id' },
    { header: '发布枢纽 Hub', tag: '#org+name' },
    { header: '枢纽编号 Hub id', tag: '#org+code' },
    { header: '捐赠方 Donor', tag: '#org+funder+name' },
    { header: '捐赠方类型 Donor kind', tag: '#org+funder+type' },
    { header: '资源类型 Offer kind', tag: '#item+type' },
    ...WHERE,
    { header: '物资 Item', tag: '#item+name' },
    { header: '物资代码 Item code', tag: '#item+code' },
    { header: '单位 Base unit', tag: '#x_unit' },
    { header: '数量 Quantity', tag: '#x_quantity' },
    { header: '已分配 Allocated', tag: '#x_allocated' },
    { header: '可用 Available', tag: '#x_available' },
    { header: '价值 Value', tag: '#value' },
    { header: '币种 Currency', tag: '#currency+code' },
    { header: '可用日期 Available from', tag: '#date+start' },
    { header: '发布日期 Posted', tag: '#date+reported' },
    { header: '状态 Status', tag: '#status+code' },
    { header: '行动 Campaign', tag: '#activity+code' },
  ],
  allocations: [
    { header: '分配编号 Allocation id', tag: '#meta+id' },
    { header: '分配枢纽 Hub', tag: '#org+name' },
    { header: '枢纽编号 Hub id', tag: '#org+code' },
    { header: '资源编号 Offer id', tag: '#x_offer' },
    { header: '需求编号 Need id', tag: '#x_need' },
    { header: '需求枢纽 Need hub', tag: '#org+impl+name' },
    { header: '申请单位 Requester', tag: '#loc+name' },
    ...WHERE.map((c) => ({ header: c.header, tag: c.tag.replace(/^(#adm\d)/, '$1+dest') })),
    { header: '物资 Item', tag: '#item+name' },
    { header: '物资代码 Item code', tag: '#item+code' },
    { header: '单位 Base unit', tag: '#x_unit' },
    { header: '数量 Quantity', tag: '#x_quantity' },
    { header: '分配日期 Allocated', tag: '#date+reported' },
    { header: '状态 Status', tag: '#status+code' },
  ],
  deliveries: [
    { header: '送达编号 Delivery id', tag: '#meta+id' },
    { header: '送达枢纽 Hub', tag: '#org+name' },
    { header: '枢纽编号 Hub id', tag: '#org+code' },
    { header: '需求编号 Need id', tag: '#x_need' },
    { header: '接收单位 Recipient', tag: '#loc+name' },
    { header: '单位类型 Recipient kind', tag: '#loc+type' },
    ...WHERE,
    { header: '物资 Item', tag: '#item+provided+name' },
    { header: '物资代码 Item code', tag: '#item+provided+code' },
    { header: '单位 Base unit', tag: '#x_unit' },
    { header: '送达数量 Quantity', tag: '#x_quantity' },
    { header: '服务人数 People served', tag: '#reached+ind' },
    { header: '送达日期 Delivered', tag: '#date' },
    { header: '状态 Status', tag: '#status+code' },
  ],
};

/**
 * RFC 4180 field: quoted when it holds a comma, quote, CR or LF. Text that a
 * spreadsheet would run as a formula (leading = + @, or - not starting an id)
 * is prefixed with ' (CSV injection).
 */
function field(v: Cell): string {
  let s = v === undefined ? '' : String(v);
  if (typeof v === 'string' && (/^[=+@\t\r]/.test(s) || (s.startsWith('-') && !/^[A-Za-z0-9_-]+$/.test(s)))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(columns: HxlColumn[], rows: Cell[][]): string {
  const lines = [columns.map((c) => field(c.header)), columns.map((c) => c.tag), ...rows.map((r) => r.map(field))];
  return `${lines.map((l) => l.join(',')).join('\r\n')}\r\n`;
}

/** The rows of one kind, in id order, filtered to a region prefix when given (the need's, offer's or recipient's region). */
export function hxlRows(kind: HxlKind, src: HxlSource, region?: string): Cell[][] {
  const hubName = new Map(src.hubs.map((h) => [h.id, h.profile?.name.zh ?? '']));
  const inRegion = (r: string | undefined) => region === undefined || (r ?? '').startsWith(region);
  const needs = new Map(src.needs.map((n) => [n.id, n]));
  switch (kind) {
    case 'needs':
      return src.needs
        .filter((n) => inRegion(n.region))
        .map((n) => [
          n.id,
          hubName.get(n.hub),
          n.hub,
          n.requester.name,
          n.requester.kind,
          ...where(n.region),
          n.item.name,
          n.item.code,
          n.unit.base,
          n.quantity,
          n.allocated,
          n.inTransit,
          n.received,
          n.delivered,
          n.urgency,
          n.beneficiaries.group,
          n.beneficiaries.count,
          day(n.neededBy),
          day(n.hlc.ms),
          n.status,
          n.campaign,
        ]);
    case 'offers':
      return src.offers
        .filter((o) => inRegion(o.region))
        .map((raw) => {
          const o = publicOffer(raw as unknown as Record<string, unknown>) as unknown as OfferState;
          return [
            o.id,
            hubName.get(o.hub),
            o.hub,
            o.donor.name,
            o.donor.kind,
            o.kind,
            ...where(o.region),
            o.item.name,
            o.item.code,
            o.unit.base,
            o.quantity,
            o.allocated,
            o.available,
            (o.valueFen / 100).toFixed(2),
            'CNY',
            day(o.availableFrom),
            day(o.hlc.ms),
            o.status,
            o.campaign,
          ];
        });
    case 'allocations': {
      const offers = new Map(src.offers.map((o) => [o.id, o]));
      return src.allocations
        .filter((a) => inRegion(needs.get(a.need)?.region))
        .map((a) => {
          const n = needs.get(a.need);
          const o = offers.get(a.offer);
          const item = o?.item ?? n?.item;
          return [
            a.id,
            hubName.get(a.hub),
            a.hub,
            a.offer,
            a.need,
            n ? hubName.get(n.hub) : '',
            n?.requester.name,
            ...where(n?.region),
            item?.name,
            item?.code,
            (o?.unit ?? n?.unit)?.base,
            a.quantity,
            day(a.hlc.ms),
            a.status,
          ];
        });
    }
    case 'deliveries': {
      const rows: Cell[][] = [];
      for (const d of src.deliveries()) {
        const r = d.body.recipient.region ?? d.need?.region;
        if (!inRegion(r)) continue;
        // People served once per delivery (on its first line), so that a column sum counts them once.
        d.body.lines.forEach((l, i) => {
          rows.push([
            d.id,
            hubName.get(d.hub),
            d.hub,
            d.body.need,
            d.body.recipient.name,
            d.body.recipient.kind,
            ...where(r),
            l.item.name,
            l.item.code,
            l.unit.base,
            l.quantity * l.unit.size,
            i === 0 ? d.body.peopleServed : '',
            day(d.body.delivered),
            'delivered',
          ]);
        });
      }
      return rows;
    }
  }
}

/** The CSV of one kind: headers, HXL hashtags, then one row per object (per line, for deliveries). */
export function hxlCsv(kind: HxlKind, src: HxlSource, region?: string): string {
  return csv(HXL_COLUMNS[kind], hxlRows(kind, src, region));
}

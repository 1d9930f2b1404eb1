import type { NeedState, OfferState } from '@shuniu/resolve';

/** A custody.delivered record as read from the feed (the fields reports use). */
export interface DeliveryRecord {
  id?: string;
  hub: string;
  body: { need: string; recipient: { name: string; kind: string; region?: string }; peopleServed: number; delivered: string };
}

export interface ReportRow {
  key: string;
  moneyFen: number;
  goodsFen: number;
  units: number;
  people: number;
}

export interface Report {
  byCampaign: ReportRow[];
  byHub: ReportRow[];
  /** Cumulative totals by day (UTC, YYYY-MM-DD) or by hour (YYYY-MM-DDTHH:00) for a span under two days; only buckets that had a change. */
  series: { day: string; moneyFen: number; goodsFen: number; units: number; people: number }[];
}

const DAY = 86_400_000;
/** Days (UTC), or hours when everything happened within two days, so a young campaign still draws a line. */
const bucketOf = (span: number) => (ms: number) =>
  span <= 2 * DAY ? `${new Date(ms).toISOString().slice(0, 13)}:00` : new Date(ms).toISOString().slice(0, 10);

/**
 * The donor report of domain.md: money raised (funds offers), value of goods
 * (every other offer's declared value), communities and units supported
 * (distinct recipients of deliveries) and people reached (people served by
 * deliveries), per campaign and per hub. Withdrawn offers do not count.
 * Offers count for the hub that posted them, deliveries for the hub that
 * delivered; a delivery's campaign is its need's.
 */
export function buildReport(offers: OfferState[], needs: NeedState[], deliveries: DeliveryRecord[]): Report {
  const needById = new Map(needs.map((n) => [n.id, n]));
  const rows = { campaign: new Map<string, ReportRow & { recips: Set<string> }>(), hub: new Map<string, ReportRow & { recips: Set<string> }>() };
  const row = (kind: 'campaign' | 'hub', key: string) => {
    let r = rows[kind].get(key);
    if (!r) {
      r = { key, moneyFen: 0, goodsFen: 0, units: 0, people: 0, recips: new Set() };
      rows[kind].set(key, r);
    }
    return r;
  };
  const events: { ms: number; moneyFen: number; goodsFen: number; recipient?: string; people: number }[] = [];
  for (const o of offers) {
    if (o.status === 'withdrawn' || o.withdrawn) continue;
    const money = o.kind === 'funds' ? o.valueFen : 0;
    const goods = o.kind === 'funds' ? 0 : o.valueFen;
    for (const r of [row('campaign', o.campaign ?? ''), row('hub', o.hub)]) {
      r.moneyFen += money;
      r.goodsFen += goods;
    }
    events.push({ ms: o.hlc.ms, moneyFen: money, goodsFen: goods, people: 0 });
  }
  for (const d of deliveries) {
    const campaign = needById.get(d.body.need)?.campaign ?? '';
    const recipient = `${d.body.recipient.region ?? ''}|${d.body.recipient.name}`;
    for (const r of [row('campaign', campaign), row('hub', d.hub)]) {
      r.people += d.body.peopleServed;
      r.recips.add(recipient);
    }
    const ms = Date.parse(d.body.delivered);
    events.push({ ms: Number.isNaN(ms) ? 0 : ms, moneyFen: 0, goodsFen: 0, recipient, people: d.body.peopleServed });
  }
  events.sort((a, b) => a.ms - b.ms);
  const day = bucketOf((events[events.length - 1]?.ms ?? 0) - (events[0]?.ms ?? 0));
  const seen = new Set<string>();
  const series: Report['series'] = [];
  const acc = { moneyFen: 0, goodsFen: 0, people: 0 };
  for (const e of events) {
    acc.moneyFen += e.moneyFen;
    acc.goodsFen += e.goodsFen;
    acc.people += e.people;
    if (e.recipient) seen.add(e.recipient);
    const point = { day: day(e.ms), ...acc, units: seen.size };
    if (series.length && series[series.length - 1]?.day === point.day) series[series.length - 1] = point;
    else series.push(point);
  }
  const done = (m: Map<string, ReportRow & { recips: Set<string> }>) =>
    [...m.values()]
      .map(({ recips, ...r }) => ({ ...r, units: recips.size }))
      .sort((a, b) => b.moneyFen + b.goodsFen - (a.moneyFen + a.goodsFen) || (a.key < b.key ? -1 : 1));
  return { byCampaign: done(rows.campaign), byHub: done(rows.hub), series };
}

/**
 * RFC 4180 CSV with a UTF-8 byte-order mark (so spreadsheet programs read
 * Chinese correctly). Cells that a spreadsheet would run as a formula are
 * prefixed with an apostrophe (OWASP CSV injection).
 */
export function toCsv(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => {
    let s = String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `\uFEFF${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}

import type { AllocationState, NeedState, OfferState } from '@shuniu/resolve';

/**
 * The donor report (spec/resolution.md §10): every figure is read from the
 * resolved state, never from raw records, so corrected deliveries, records of
 * forked branches and withdrawn offers never count, and people are counted
 * once per beneficiary group, never per delivery.
 */
export interface ReportInput {
  needs: readonly NeedState[];
  offers: readonly OfferState[];
  /** Lets a hub's or campaign's row take the needs its offers serve (standing allocations); without it rows take only their own needs. */
  allocations?: readonly AllocationState[];
  /**
   * When deliveries happened, for the series only: record id → `body.delivered`
   * of the custody.delivered record. Ids the state does not list in a need's
   * `deliveries` are ignored.
   */
  deliveredAt?: ReadonlyMap<string, string>;
}

export interface ReportFigures {
  /** Money raised: `valueFen` of funds offers not withdrawn. */
  moneyFen: number;
  /** Value of goods: `valueFen` of the other offers not withdrawn. */
  goodsFen: number;
  /** Offers not withdrawn. */
  offers: number;
  /** Needs reached: needs with `delivered` > 0. */
  needsReached: number;
  /** Counting deliveries of reached needs (the union of their `deliveries`). */
  deliveries: number;
  /** Communities and units supported: distinct requesters (region, name) of reached needs. */
  units: number;
  /** People reached: per beneficiary group of reached needs, the largest `beneficiaries.count`; summed over groups. */
  people: number;
}

export interface ReportRow extends ReportFigures {
  key: string;
}

export interface ItemRow {
  code: string;
  name: string;
  /** The base unit the figure is in. */
  base: string;
  /** Sum of `delivered` of reached needs (base units). */
  delivered: number;
  needsReached: number;
}

/** New amounts on one day (UTC, YYYY-MM-DD), or one month (YYYY-MM) when the span passes MAX_DAYS. */
export interface ReportPoint {
  day: string;
  moneyFen: number;
  goodsFen: number;
  /** Requesters reached for the first time that day. */
  units: number;
  /** People of beneficiary groups reached for the first time that day. */
  people: number;
}

export interface Report {
  totals: ReportFigures;
  byCampaign: ReportRow[];
  byHub: ReportRow[];
  byItem: ItemRow[];
  /** Every day from the first event (offer, counting delivery) to the last, zero-filled; the amounts of a field sum to its total. */
  series: ReportPoint[];
}

/** Past this many days the series is by month. */
export const MAX_DAYS = 400;
const DAY = 86_400_000;

const isCounted = (o: OfferState) => o.status !== 'withdrawn' && o.withdrawn === undefined;
/** A requester: region (the requester's, else the need's) and name. */
export const requesterKey = (n: NeedState) => `${n.requester.region ?? n.region}|${n.requester.name}`;
/** A beneficiary group: the requester and the need's beneficiary group. */
export const groupKey = (n: NeedState) => `${requesterKey(n)}|${n.beneficiaries.group}`;

/** The figures of a set of offers and reached needs, people counted once per beneficiary group. */
function figures(offers: Iterable<OfferState>, reached: Iterable<NeedState>): ReportFigures {
  const f: ReportFigures = { moneyFen: 0, goodsFen: 0, offers: 0, needsReached: 0, deliveries: 0, units: 0, people: 0 };
  for (const o of offers) {
    f.offers++;
    if (o.kind === 'funds') f.moneyFen += o.valueFen;
    else f.goodsFen += o.valueFen;
  }
  const groups = new Map<string, number>();
  const units = new Set<string>();
  const deliveries = new Set<string>();
  for (const n of reached) {
    f.needsReached++;
    for (const d of n.deliveries) deliveries.add(d);
    units.add(requesterKey(n));
    const g = groupKey(n);
    groups.set(g, Math.max(groups.get(g) ?? 0, n.beneficiaries.count));
  }
  f.deliveries = deliveries.size;
  f.units = units.size;
  for (const c of groups.values()) f.people += c;
  return f;
}

const byValue = (a: ReportRow, b: ReportRow) =>
  b.moneyFen + b.goodsFen - (a.moneyFen + a.goodsFen) || b.people - a.people || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The report of a resolved state (spec/resolution.md §10). Pure: the same
 * state gives the same report, in the console and in the tests that hold it
 * to the resolver's figures.
 */
export function buildReport(input: ReportInput): Report {
  const offers = input.offers.filter(isCounted);
  const reached = input.needs.filter((n) => n.delivered > 0);
  const offerById = new Map(input.offers.map((o) => [o.id, o]));
  const allocById = new Map((input.allocations ?? []).map((a) => [a.id, a]));

  // Rows: a row takes the offers carrying its key, and the reached needs carrying its key or served by a standing allocation of one of those offers.
  const rows = (keyOfOffer: (o: OfferState) => string, keyOfNeed: (n: NeedState) => string): ReportRow[] => {
    const m = new Map<string, { offers: OfferState[]; needs: Set<NeedState> }>();
    const row = (k: string) => {
      let r = m.get(k);
      if (!r) {
        r = { offers: [], needs: new Set() };
        m.set(k, r);
      }
      return r;
    };
    for (const o of offers) row(keyOfOffer(o)).offers.push(o);
    for (const n of reached) {
      row(keyOfNeed(n)).needs.add(n);
      for (const a of n.allocations) {
        const o = offerById.get(allocById.get(a)?.offer ?? '');
        if (o && isCounted(o)) row(keyOfOffer(o)).needs.add(n);
      }
    }
    return [...m].map(([key, r]) => ({ key, ...figures(r.offers, r.needs) })).sort(byValue);
  };

  const items = new Map<string, ItemRow>();
  for (const n of reached) {
    let r = items.get(n.item.code);
    if (!r) {
      r = { code: n.item.code, name: n.item.name, base: n.unit.base, delivered: 0, needsReached: 0 };
      items.set(n.item.code, r);
    }
    r.delivered += n.delivered;
    r.needsReached++;
  }

  return {
    totals: figures(offers, reached),
    byCampaign: rows(
      (o) => o.campaign ?? '',
      (n) => n.campaign ?? '',
    ),
    byHub: rows(
      (o) => o.hub,
      (n) => n.hub,
    ),
    byItem: [...items.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)),
    series: series(offers, reached, input.deliveredAt),
  };
}

/** Daily amounts, zero-filled from the first day to the last (by month past MAX_DAYS days). */
function series(offers: OfferState[], reached: NeedState[], deliveredAt: ReadonlyMap<string, string> | undefined): ReportPoint[] {
  const events: { ms: number; moneyFen: number; goodsFen: number; units: number; people: number }[] = [];
  for (const o of offers)
    events.push({ ms: o.hlc.ms, moneyFen: o.kind === 'funds' ? o.valueFen : 0, goodsFen: o.kind === 'funds' ? 0 : o.valueFen, units: 0, people: 0 });
  // A need is reached at its earliest dated counting delivery; a requester or group at its earliest reached need.
  // Every counting delivery's day is in the span, even when it reached nobody new.
  const reachedAt = (n: NeedState): number | undefined => {
    let min: number | undefined;
    for (const id of n.deliveries) {
      const ms = Date.parse(deliveredAt?.get(id) ?? '');
      if (Number.isNaN(ms)) continue;
      events.push({ ms, moneyFen: 0, goodsFen: 0, units: 0, people: 0 });
      if (min === undefined || ms < min) min = ms;
    }
    return min;
  };
  const units = new Map<string, number | undefined>();
  const groups = new Map<string, { ms: number | undefined; people: number }>();
  const earlier = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  for (const n of reached) {
    const ms = reachedAt(n);
    const u = requesterKey(n);
    units.set(u, units.has(u) ? earlier(units.get(u), ms) : ms);
    const k = groupKey(n);
    const g = groups.get(k);
    groups.set(k, g ? { ms: earlier(g.ms, ms), people: Math.max(g.people, n.beneficiaries.count) } : { ms, people: n.beneficiaries.count });
  }
  const undated: { units: number; people: number } = { units: 0, people: 0 };
  for (const ms of units.values()) {
    if (ms === undefined) undated.units++;
    else events.push({ ms, moneyFen: 0, goodsFen: 0, units: 1, people: 0 });
  }
  for (const g of groups.values()) {
    if (g.ms === undefined) undated.people += g.people;
    else events.push({ ms: g.ms, moneyFen: 0, goodsFen: 0, units: 0, people: g.people });
  }
  // Reached needs with no dated delivery (its record not read) count on the last day.
  if (undated.units || undated.people) {
    const last = events.reduce((m, e) => Math.max(m, e.ms), Number.NEGATIVE_INFINITY);
    const fallback = Number.isFinite(last) ? last : Math.max(...reached.map((n) => n.hlc.ms));
    events.push({ ms: fallback, moneyFen: 0, goodsFen: 0, ...undated });
  }
  if (!events.length) return [];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    first = Math.min(first, e.ms);
    last = Math.max(last, e.ms);
  }
  const monthly = Math.floor(last / DAY) - Math.floor(first / DAY) + 1 > MAX_DAYS;
  const label = (ms: number) => new Date(ms).toISOString().slice(0, monthly ? 7 : 10);
  const out: ReportPoint[] = [];
  const index = new Map<string, ReportPoint>();
  // Every day (or month) from the first to the last, in order.
  const start = new Date(Math.floor(first / DAY) * DAY);
  if (monthly) start.setUTCDate(1);
  for (const d = start; d.getTime() <= last; monthly ? d.setUTCMonth(d.getUTCMonth() + 1) : d.setUTCDate(d.getUTCDate() + 1)) {
    const p = { day: label(d.getTime()), moneyFen: 0, goodsFen: 0, units: 0, people: 0 };
    index.set(p.day, p);
    out.push(p);
  }
  for (const e of events) {
    const p = index.get(label(e.ms)) as ReportPoint;
    p.moneyFen += e.moneyFen;
    p.goodsFen += e.goodsFen;
    p.units += e.units;
    p.people += e.people;
  }
  return out;
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

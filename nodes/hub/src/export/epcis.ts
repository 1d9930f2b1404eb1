import type { HubState, ShipmentState } from '@shuniu/resolve';
import type { DeliveryRow } from './hxl.js';

/**
 * EPCIS 2.0 export (spec/node.md §14.2): custody handoffs, receipts and
 * deliveries as ObjectEvents of one JSON-LD EPCISDocument (GS1 EPCIS 2.0,
 * CBV 2.0), for logistics partners' traceability systems.
 *
 * - a handoff in force: bizStep `shipping`, disposition `in_transit`, the
 *   lines shipped, source and destination the sending and receiving hubs
 *   (`possessing_party`), the shipment as a `desadv` business transaction;
 * - its receipt: bizStep `receiving`, disposition `in_progress` for what was
 *   accepted, and one more event per fault (rejected: `damaged`, `expired`,
 *   `mismatch_class`, `non_conformant`, `non_sellable_other` by reason;
 *   missing: `mismatch_quantity`), the receipt as a `recadv` transaction;
 * - a delivery: bizStep `dispensing`, disposition `dispensed`, from the
 *   delivering hub to the need's requester.
 *
 * Event ids are the Shuniu record ids as URIs (`urn:shuniu:record:<id>`; an
 * event made for a receipt's fault adds `:rejected:<line>` or
 * `:missing:<line>`). Quantities are in the item's base unit: kilograms and
 * litres carry their UN/ECE Rec. 20 code, every other base unit is a count.
 * Nothing private: no sealed part, note, carrier or recipient name.
 */

export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
export const EPCIS_MEDIA_TYPE = 'application/ld+json';

const UOM: Record<string, string> = { kg: 'KGM', litre: 'LTR' };
/** China Standard Time: every event is stamped with it. */
const ZONE = '+08:00';

const REJECTED: Record<string, string> = {
  damaged: 'damaged',
  expired: 'expired',
  wrong_item: 'mismatch_class',
  counterfeit: 'non_conformant',
  other: 'non_sellable_other',
};

export const recordUri = (id: string) => `urn:shuniu:record:${id}`;
export const hubUri = (hub: string) => `urn:shuniu:hub:${hub}`;
export const itemUri = (code: string) => `urn:shuniu:item:${code}`;
const shipmentUri = (from: string, shipment: string) => `urn:shuniu:shipment:${from}:${encodeURIComponent(shipment)}`;

export interface EpcisSource {
  hubs: HubState[];
  shipments: ShipmentState[];
  deliveries: () => DeliveryRow[];
}

interface Quantity {
  epcClass: string;
  quantity: number;
  uom?: string;
}

function quantity(code: string, base: string, n: number): Quantity {
  const uom = UOM[base];
  return { epcClass: itemUri(code), quantity: n, ...(uom ? { uom } : {}) };
}

/** An EPCIS timestamp (RFC 3339 with a zone) from an RFC 3339 text or milliseconds. */
function time(v: string | number): string {
  return new Date(v).toISOString();
}

export type EpcisEvent = Record<string, unknown>;

function shipmentEvents(s: ShipmentState, shippedAt: (handoff: string) => number | undefined): EpcisEvent[] {
  const out: EpcisEvent[] = [];
  const parties = {
    sourceList: [{ type: 'possessing_party', source: hubUri(s.from) }],
    destinationList: [{ type: 'possessing_party', destination: hubUri(s.to) }],
  };
  const desadv = { type: 'desadv', bizTransaction: shipmentUri(s.from, s.shipment) };
  const at = shippedAt(s.handoff);
  if (at !== undefined)
    out.push({
      type: 'ObjectEvent',
      eventID: recordUri(s.handoff),
      eventTime: time(at),
      eventTimeZoneOffset: ZONE,
      epcList: [],
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      readPoint: { id: hubUri(s.from) },
      bizTransactionList: [desadv],
      quantityList: s.lines.map((l) => quantity(l.item.code, l.unit.base, l.shipped)),
      ...parties,
    });
  if (s.receipt === undefined || s.received === undefined) return out;
  const received = {
    eventTime: time(s.received),
    eventTimeZoneOffset: ZONE,
    epcList: [],
    action: 'OBSERVE',
    bizStep: 'receiving',
    readPoint: { id: hubUri(s.to) },
    bizLocation: { id: hubUri(s.to) },
    bizTransactionList: [desadv, { type: 'recadv', bizTransaction: recordUri(s.receipt) }],
    ...parties,
  };
  const accepted = s.lines.filter((l) => (l.accepted ?? 0) > 0).map((l) => quantity(l.item.code, l.unit.base, l.accepted as number));
  if (accepted.length > 0) out.push({ type: 'ObjectEvent', eventID: recordUri(s.receipt), ...received, disposition: 'in_progress', quantityList: accepted });
  s.lines.forEach((l, i) => {
    if ((l.rejected ?? 0) > 0)
      out.push({
        type: 'ObjectEvent',
        eventID: `${recordUri(s.receipt as string)}:rejected:${i}`,
        ...received,
        disposition: REJECTED[l.rejectReason ?? 'other'] ?? 'non_sellable_other',
        quantityList: [quantity(l.item.code, l.unit.base, l.rejected as number)],
      });
    if ((l.missing ?? 0) > 0)
      out.push({
        type: 'ObjectEvent',
        eventID: `${recordUri(s.receipt as string)}:missing:${i}`,
        ...received,
        disposition: 'mismatch_quantity',
        quantityList: [quantity(l.item.code, l.unit.base, l.missing as number)],
      });
  });
  return out;
}

function deliveryEvent(d: DeliveryRow): EpcisEvent {
  return {
    type: 'ObjectEvent',
    eventID: recordUri(d.id),
    eventTime: time(d.body.delivered),
    eventTimeZoneOffset: ZONE,
    epcList: [],
    action: 'OBSERVE',
    bizStep: 'dispensing',
    disposition: 'dispensed',
    readPoint: { id: hubUri(d.hub) },
    quantityList: d.body.lines.map((l) => quantity(l.item.code, l.unit.base, l.quantity * l.unit.size)),
    sourceList: [{ type: 'possessing_party', source: hubUri(d.hub) }],
    // The need's requester, named by the need (its name is in the HXL export, not in an identifier).
    destinationList: [{ type: 'possessing_party', destination: `urn:shuniu:requester:${d.body.need}` }],
  };
}

/**
 * The EPCISDocument of every shipment (and its receipt) and every counting
 * delivery, events in time order (ties by event id). `shippedAt` gives a
 * handoff record's time (its hlc ms); `region` keeps shipments whose sender
 * or receiver hub, and deliveries whose recipient, is in that region.
 */
export function epcisDocument(
  src: EpcisSource,
  shippedAt: (handoff: string) => number | undefined,
  o: { now: number; region?: string },
): Record<string, unknown> {
  const regionOf = new Map(src.hubs.map((h) => [h.id, h.region ?? h.profile?.region ?? '']));
  const inRegion = (r: string | undefined) => o.region === undefined || (r ?? '').startsWith(o.region);
  const events: EpcisEvent[] = [];
  for (const s of src.shipments) if (inRegion(regionOf.get(s.from)) || inRegion(regionOf.get(s.to))) events.push(...shipmentEvents(s, shippedAt));
  for (const d of src.deliveries()) if (inRegion(d.body.recipient.region ?? d.need?.region)) events.push(deliveryEvent(d));
  events.sort((a, b) => {
    const ta = a.eventTime as string;
    const tb = b.eventTime as string;
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a.eventID as string) < (b.eventID as string) ? -1 : 1;
  });
  return {
    '@context': [EPCIS_CONTEXT],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: time(o.now),
    epcisBody: { eventList: events },
  };
}

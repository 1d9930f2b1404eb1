import type { Hlc, Item, Unit } from '@shuniu/protocol';
import type { AllocationState, NeedState, OfferState, ShipmentLineState, ShipmentState } from './types.js';

/**
 * JCS text (RFC 8785) of the four large views, for the state hash
 * (spec/resolution.md §7): written member by member in sorted order, since
 * the state hash serialises every changed view, and for these shapes a
 * template measured 3.5 to 5 times faster than the protocol's canonicaliser
 * (jcsOfIJson, which every other map uses): the views share their records'
 * objects (item, unit, hlc), whose members are not in JCS order, so
 * jcsOfIJson takes its general path. Conflicts are built in JCS order and
 * use jcsOfIJson: a template saved 3 % of the state hash there, not worth a
 * second writer. Free text goes through
 * JSON.stringify (JCS escapes as it does); members the record schemas
 * restrict to characters JSON writes as they are (record and hub ids in
 * base64url, RFC 3339 timestamps, GB/T 2260 codes, catalogue codes, enum
 * values) are quoted without that call, which costs a tenth as much.
 * Numbers are safe integers, which JSON.stringify and JCS write alike. The
 * tests compare every view of every vector and random state against jcs().
 */
const q = JSON.stringify;

/** An array of ids, enum values or codes (quoted as they are). */
function strs(a: readonly string[]): string {
  if (a.length === 0) return '[]';
  let o = `["${a[0]}"`;
  for (let i = 1; i < a.length; i++) o += `,"${a[i]}"`;
  return `${o}]`;
}
const hlc = (h: Hlc): string => `{"c":${h.c},"ms":${h.ms}}`;
const item = (x: Item): string => `{"code":"${x.code}","name":${q(x.name)}}`;
const unit = (x: Unit): string => `{"base":${q(x.base)},"name":${q(x.name)},"size":${x.size}}`;
/** `,"name":value` when value is defined (free text). */
const opt = (name: string, v: string | undefined): string => (v === undefined ? '' : `,"${name}":${q(v)}`);
/** `,"name":value` when value is defined (an id, timestamp, code or enum value). */
const optR = (name: string, v: string | undefined): string => (v === undefined ? '' : `,"${name}":"${v}"`);
const optN = (name: string, v: number | undefined): string => (v === undefined ? '' : `,"${name}":${v}`);

export function needJson(v: NeedState): string {
  const o = v.requester;
  const closed = v.closed === undefined ? '' : `,"closed":{"reason":"${v.closed.reason}","record":"${v.closed.record}"}`;
  return (
    `{"allocated":${v.allocated},"allocations":${strs(v.allocations)},"beneficiaries":{"count":${v.beneficiaries.count},"group":"${v.beneficiaries.group}"}` +
    `${opt('campaign', v.campaign)}${closed},"delivered":${v.delivered},"deliveries":${strs(v.deliveries)},"hlc":${hlc(v.hlc)},"hub":"${v.hub}","id":"${v.id}"` +
    `,"inTransit":${v.inTransit},"item":${item(v.item)},"neededBy":"${v.neededBy}"${optR('purpose', v.purpose)},"quantity":${v.quantity},"received":${v.received}` +
    `,"region":"${v.region}","requester":{"kind":"${o.kind}","name":${q(o.name)}${optR('region', o.region)}},"status":"${v.status}","unit":${unit(v.unit)}` +
    `,"updates":${strs(v.updates)},"urgency":"${v.urgency}"}`
  );
}

export function offerJson(v: OfferState): string {
  const i = v.intent;
  let intent = '';
  if (i.groups !== undefined) intent += `,"groups":${strs(i.groups)}`;
  if (i.purposes !== undefined) intent += `,"purposes":${strs(i.purposes)}`;
  if (i.regions !== undefined) intent += `,"regions":${strs(i.regions)}`;
  intent += optR('validUntil', i.validUntil);
  return (
    `{"allocated":${v.allocated},"allocations":${strs(v.allocations)},"available":${v.available}${optR('availableFrom', v.availableFrom)}${opt('campaign', v.campaign)}` +
    `,"donor":{"kind":"${v.donor.kind}","name":${q(v.donor.name)}${v.donor.named === undefined ? '' : `,"named":${v.donor.named}`}},"hlc":${hlc(v.hlc)},"hub":"${v.hub}","id":"${v.id}","intent":{${intent.slice(1)}}` +
    `,"item":${item(v.item)},"kind":"${v.kind}","quantity":${v.quantity},"region":"${v.region}","status":"${v.status}","unit":${unit(v.unit)}` +
    `,"updates":${strs(v.updates)},"valueFen":${v.valueFen}${optR('withdrawn', v.withdrawn)}}`
  );
}

export function allocationJson(v: AllocationState): string {
  return (
    `{${v.decision === undefined ? '' : `"decision":"${v.decision}",`}"hlc":${hlc(v.hlc)},"hub":"${v.hub}","id":"${v.id}","need":"${v.need}","offer":"${v.offer}"` +
    `,"quantity":${v.quantity},"status":"${v.status}"${optR('surplusOf', v.surplusOf)}${optR('voidReason', v.voidReason)}}`
  );
}

function lineJson(l: ShipmentLineState): string {
  return (
    `{${l.accepted === undefined ? '' : `"accepted":${l.accepted},`}${l.expiry === undefined ? '' : `"expiry":"${l.expiry}",`}"item":${item(l.item)}` +
    `${opt('lot', l.lot)}${optN('missing', l.missing)}${opt('rejectReason', l.rejectReason)}${optN('rejected', l.rejected)},"shipped":${l.shipped}` +
    `${optN('unaccounted', l.unaccounted)},"unit":${unit(l.unit)}}`
  );
}

export function shipmentJson(v: ShipmentState): string {
  let lines = '[';
  for (let i = 0; i < v.lines.length; i++) lines += (i ? ',' : '') + lineJson(v.lines[i] as ShipmentLineState);
  return (
    `{${v.accepted === undefined ? '' : `"accepted":${v.accepted},`}"allocations":${strs(v.allocations)},"expectedArrival":"${v.expectedArrival}","from":"${v.from}"` +
    `,"handoff":"${v.handoff}","hub":"${v.hub}","id":"${v.id}","late":${v.late},"lines":${lines}]${optN('missing', v.missing)}${optR('receipt', v.receipt)}` +
    `${optR('received', v.received)}${optN('rejected', v.rejected)},"shipment":${q(v.shipment)},"shipped":${v.shipped},"status":"${v.status}","to":"${v.to}"` +
    `,"versions":${strs(v.versions)}}`
  );
}

/** The serialiser of each state map that has a template (the others use jcsOfIJson). */
export const VIEW_JSON: Partial<Record<string, (v: never) => string>> = {
  needs: needJson,
  offers: offerJson,
  allocations: allocationJson,
  shipments: shipmentJson,
};

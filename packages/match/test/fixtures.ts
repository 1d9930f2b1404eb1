import type { NeedState, OfferState, ResolvedState } from '@shuniu/resolve';

/** 2020-01-24T12:00:00Z: the afternoon the Hubei hub bought 110,000 masks. */
export const CLOCK = Date.parse('2020-01-24T12:00:00Z');

export type NeedInit = Partial<Omit<NeedState, 'id'>> & { id: string };
export type OfferInit = Partial<Omit<OfferState, 'id'>> & { id: string };

export function need(init: NeedInit): NeedState {
  return {
    hub: 'hub-county',
    hlc: { ms: CLOCK - 3_600_000, c: 0 },
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    unit: { name: 'piece', base: 'piece', size: 1 },
    quantity: 1000,
    urgency: 'high',
    neededBy: '2020-01-31T00:00:00Z',
    region: '420102',
    beneficiaries: { group: 'medical_staff', count: 200 },
    requester: { name: '医院', kind: 'hospital' },
    purpose: 'medical_protection',
    status: 'open',
    allocated: 0,
    inTransit: 0,
    received: 0,
    delivered: 0,
    allocations: [],
    deliveries: [],
    updates: [],
    ...init,
  };
}

export function offer(init: OfferInit): OfferState {
  const quantity = init.quantity ?? 1000;
  const allocated = init.allocated ?? 0;
  return {
    hub: 'hub-province',
    hlc: { ms: CLOCK - 7_200_000, c: 0 },
    kind: 'goods',
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    unit: { name: 'piece', base: 'piece', size: 1 },
    valueFen: 0,
    donor: { name: '捐赠人', kind: 'company' },
    intent: {},
    region: '420902',
    status: 'available',
    allocations: [],
    updates: [],
    ...init,
    quantity,
    allocated,
    available: init.available ?? quantity - allocated,
  };
}

export function state(needs: NeedState[], offers: OfferState[], extra: Partial<ResolvedState> = {}): ResolvedState {
  return {
    v: 1,
    clock: CLOCK,
    hubs: {},
    needs: Object.fromEntries(needs.map((n) => [n.id, n])),
    offers: Object.fromEntries(offers.map((o) => [o.id, o])),
    allocations: {},
    shipments: {},
    conflicts: {},
    held: {},
    pending: {},
    ...extra,
  };
}

export function duplicateConflict(ids: string[]): ResolvedState['conflicts'] {
  const sorted = [...ids].sort();
  return { [`${sorted[0]}/duplicate_need`]: { id: `${sorted[0]}/duplicate_need`, rule: 'duplicate_need', records: sorted, hubs: [], detail: {} } };
}

/** Total proposed per need / per offer. */
export function totals(list: { offer: string; need: string; quantity: number; offerQuantity: number }[]) {
  const byNeed = new Map<string, number>();
  const byOffer = new Map<string, number>();
  for (const p of list) {
    byNeed.set(p.need, (byNeed.get(p.need) ?? 0) + p.quantity);
    byOffer.set(p.offer, (byOffer.get(p.offer) ?? 0) + p.offerQuantity);
  }
  return { byNeed, byOffer };
}

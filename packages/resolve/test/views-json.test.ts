import { jcs } from '@shuniu/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AllocationState, NeedState, OfferState, ShipmentState } from '../src/types.js';
import { allocationJson, needJson, offerJson, shipmentJson } from '../src/views-json.js';

// Arbitrary views of the four shapes with every optional member present or
// absent, and strings that need escaping: the hand-written serialisers must
// give exactly the JCS text whatever the combination (the resolver's own
// states only exercise the members their scenarios use).
const str = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('医院 "1"\\', '\u0000\u001f\u2028', '孝感'));
const int = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const strs = fc.array(str, { maxLength: 3 });
const hlc = fc.record({ c: fc.nat(1000), ms: int });
const item = fc.record({ code: str, name: str });
const unit = fc.record({ base: str, name: str, size: int });

const need: fc.Arbitrary<NeedState> = fc.record(
  {
    allocated: int,
    allocations: strs,
    beneficiaries: fc.record({ count: int, group: str }) as fc.Arbitrary<NeedState['beneficiaries']>,
    campaign: str,
    closed: fc.record({ reason: fc.constantFrom('fulfilled', 'expired', 'cancelled'), record: str }) as fc.Arbitrary<NonNullable<NeedState['closed']>>,
    delivered: int,
    deliveries: strs,
    hlc: hlc as fc.Arbitrary<NeedState['hlc']>,
    hub: str,
    id: str,
    inTransit: int,
    item,
    neededBy: str,
    purpose: str,
    quantity: int,
    received: int,
    region: str,
    requester: fc.record({ kind: str, name: str, region: str }, { requiredKeys: ['kind', 'name'] }),
    status: str as fc.Arbitrary<NeedState['status']>,
    unit,
    updates: strs,
    urgency: str as fc.Arbitrary<NeedState['urgency']>,
  },
  {
    requiredKeys: [
      'allocated',
      'allocations',
      'beneficiaries',
      'delivered',
      'deliveries',
      'hlc',
      'hub',
      'id',
      'inTransit',
      'item',
      'neededBy',
      'quantity',
      'received',
      'region',
      'requester',
      'status',
      'unit',
      'updates',
      'urgency',
    ],
  },
);

const offer: fc.Arbitrary<OfferState> = fc.record(
  {
    allocated: int,
    allocations: strs,
    available: int,
    availableFrom: str,
    campaign: str,
    donor: fc.record({ kind: str, name: str }),
    hlc: hlc as fc.Arbitrary<OfferState['hlc']>,
    hub: str,
    id: str,
    intent: fc.record({ groups: strs, purposes: strs, regions: strs, validUntil: str }, { requiredKeys: [] }) as fc.Arbitrary<OfferState['intent']>,
    item,
    kind: str,
    quantity: int,
    region: str,
    status: str as fc.Arbitrary<OfferState['status']>,
    unit,
    updates: strs,
    valueFen: int,
    withdrawn: str,
  },
  {
    requiredKeys: [
      'allocated',
      'allocations',
      'available',
      'donor',
      'hlc',
      'hub',
      'id',
      'intent',
      'item',
      'kind',
      'quantity',
      'region',
      'status',
      'unit',
      'updates',
      'valueFen',
    ],
  },
);

const allocation: fc.Arbitrary<AllocationState> = fc.record(
  {
    decision: str,
    hlc: hlc as fc.Arbitrary<AllocationState['hlc']>,
    hub: str,
    id: str,
    need: str,
    offer: str,
    quantity: int,
    status: str as fc.Arbitrary<AllocationState['status']>,
    surplusOf: fc.constantFrom('offer', 'need'),
    voidReason: fc.constantFrom('offer_withdrawn', 'need_closed', 'item_mismatch'),
  },
  { requiredKeys: ['hlc', 'hub', 'id', 'need', 'offer', 'quantity', 'status'] },
);

const line = fc.record(
  { accepted: int, expiry: str, item, lot: str, missing: int, rejectReason: str, rejected: int, shipped: int, unaccounted: int, unit },
  { requiredKeys: ['item', 'shipped', 'unit'] },
);
const shipment: fc.Arbitrary<ShipmentState> = fc.record(
  {
    accepted: int,
    allocations: strs,
    expectedArrival: str,
    from: str,
    handoff: str,
    hub: str,
    id: str,
    late: fc.boolean(),
    lines: fc.array(line, { maxLength: 3 }),
    missing: int,
    receipt: str,
    received: str,
    rejected: int,
    shipment: str,
    shipped: int,
    status: str as fc.Arbitrary<ShipmentState['status']>,
    to: str,
    versions: strs,
  },
  { requiredKeys: ['allocations', 'expectedArrival', 'from', 'handoff', 'hub', 'id', 'late', 'lines', 'shipment', 'shipped', 'status', 'to', 'versions'] },
);

describe('hand-written view serialisers (views-json.ts)', () => {
  it.each([
    ['needs', need, needJson],
    ['offers', offer, offerJson],
    ['allocations', allocation, allocationJson],
    ['shipments', shipment, shipmentJson],
  ] as [string, fc.Arbitrary<unknown>, (v: never) => string][])('%s: the text is the JCS text for any combination of members', (_name, arb, json) => {
    fc.assert(
      fc.property(arb, (v) => {
        expect(json(v as never)).toBe(jcs(v));
      }),
      { numRuns: 400 },
    );
  });
});

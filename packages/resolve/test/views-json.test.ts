import { digest, jcs, jcsOfIJson, ready } from '@shuniu/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BucketMap } from '../src/buckets.js';
import { conflict as buildConflict } from '../src/conflicts.js';
import type { AllocationState, Conflict, NeedState, OfferState, ShipmentState } from '../src/types.js';
import { allocationJson, needJson, offerJson, shipmentJson } from '../src/views-json.js';

// Arbitrary views of the four shapes with every optional member present or
// absent: free text with strings that need escaping, and the members the
// record schemas restrict (ids, timestamps, codes, enum values: `safe`) with
// what those schemas allow. The hand-written serialisers must give exactly the
// JCS text whatever the combination (the resolver's own states only exercise
// the members their scenarios use).
const str = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('医院 "1"\\', '\u0000\u001f\u2028', '孝感'));
const safe = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
  fc.constantFrom('2020-01-24T08:00:00Z', '2020-02-29T23:59:59.999Z', '420902', '42', 'PPE.MASK.N95', 'medical_staff', 'open', 'partly_allocated'),
);
const safes = fc.array(safe, { maxLength: 3 });
const int = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const hlc = fc.record({ c: fc.nat(1000), ms: int });
const item = fc.record({ code: safe, name: str });
const unit = fc.record({ base: str, name: str, size: int });

const need: fc.Arbitrary<NeedState> = fc.record(
  {
    allocated: int,
    allocations: safes,
    beneficiaries: fc.record({ count: int, group: safe }) as fc.Arbitrary<NeedState['beneficiaries']>,
    campaign: str,
    closed: fc.record({ reason: fc.constantFrom('fulfilled', 'expired', 'cancelled'), record: safe }) as fc.Arbitrary<NonNullable<NeedState['closed']>>,
    delivered: int,
    deliveries: safes,
    hlc: hlc as fc.Arbitrary<NeedState['hlc']>,
    hub: safe,
    id: safe,
    inTransit: int,
    item,
    neededBy: safe,
    purpose: safe,
    quantity: int,
    received: int,
    region: safe,
    requester: fc.record({ kind: safe, name: str, region: safe }, { requiredKeys: ['kind', 'name'] }),
    status: safe as fc.Arbitrary<NeedState['status']>,
    unit,
    updates: safes,
    urgency: safe as fc.Arbitrary<NeedState['urgency']>,
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
    allocations: safes,
    available: int,
    availableFrom: safe,
    campaign: str,
    donor: fc.record({ kind: safe, name: str, named: fc.boolean() }, { requiredKeys: ['kind', 'name'] }),
    hlc: hlc as fc.Arbitrary<OfferState['hlc']>,
    hub: safe,
    id: safe,
    intent: fc.record({ groups: safes, purposes: safes, regions: safes, validUntil: safe }, { requiredKeys: [] }) as fc.Arbitrary<OfferState['intent']>,
    item,
    kind: safe,
    quantity: int,
    region: safe,
    status: safe as fc.Arbitrary<OfferState['status']>,
    unit,
    updates: safes,
    valueFen: int,
    withdrawn: safe,
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
    decision: safe,
    hlc: hlc as fc.Arbitrary<AllocationState['hlc']>,
    hub: safe,
    id: safe,
    need: safe,
    offer: safe,
    quantity: int,
    status: safe as fc.Arbitrary<AllocationState['status']>,
    surplusOf: fc.constantFrom('offer', 'need'),
    voidReason: fc.constantFrom('offer_withdrawn', 'need_closed', 'item_mismatch'),
  },
  { requiredKeys: ['hlc', 'hub', 'id', 'need', 'offer', 'quantity', 'status'] },
);

const line = fc.record(
  { accepted: int, expiry: safe, item, lot: str, missing: int, rejectReason: str, rejected: int, shipped: int, unaccounted: int, unit },
  { requiredKeys: ['item', 'shipped', 'unit'] },
);
const shipment: fc.Arbitrary<ShipmentState> = fc.record(
  {
    accepted: int,
    allocations: safes,
    expectedArrival: safe,
    from: safe,
    handoff: safe,
    hub: safe,
    id: safe,
    late: fc.boolean(),
    lines: fc.array(line, { maxLength: 3 }),
    missing: int,
    receipt: safe,
    received: safe,
    rejected: int,
    shipment: str,
    shipped: int,
    status: safe as fc.Arbitrary<ShipmentState['status']>,
    to: safe,
    versions: safes,
  },
  { requiredKeys: ['allocations', 'expectedArrival', 'from', 'handoff', 'hub', 'id', 'late', 'lines', 'shipment', 'shipped', 'status', 'to', 'versions'] },
);

const conflict: fc.Arbitrary<Conflict> = fc.record({
  detail: fc.dictionary(str, fc.oneof(str, int, fc.boolean(), fc.array(str, { maxLength: 3 })), { maxKeys: 5 }),
  hubs: safes,
  id: fc.oneof(safe, str),
  records: safes,
  rule: fc.constantFrom('unauthorised', 'over_allocation', 'duplicate_need', 'double_handoff', 'fork'),
}) as fc.Arbitrary<Conflict>;

beforeAll(ready);

describe('view serialisers of the state hash (views-json.ts templates; jcsOfIJson for conflicts)', () => {
  it.each([
    ['needs', need, needJson],
    ['offers', offer, offerJson],
    ['allocations', allocation, allocationJson],
    ['shipments', shipment, shipmentJson],
    // Conflicts have no template: built by conflict() in JCS member order, the protocol's jcsOfIJson writes them.
    ['conflicts', conflict.map((c) => buildConflict(c.id, c.rule, c.records, c.hubs, c.detail)), jcsOfIJson],
  ] as [string, fc.Arbitrary<unknown>, (v: never) => string][])('%s: the text is the JCS text for any combination of members', (_name, arb, json) => {
    fc.assert(
      fc.property(arb, (v) => {
        expect(json(v as never)).toBe(jcs(v));
      }),
      { numRuns: 400 },
    );
  });
});

describe('BucketMap root', () => {
  it('equals the definition for any keys, plain or needing escapes (spec/resolution.md §7)', () => {
    // Prefixes are the first two UTF-16 code units, so keys here stay in the BMP (a cut surrogate pair is not JSON).
    const key = fc.oneof(
      safe,
      str.filter((s) => s.length >= 2 && !/[\ud800-\udfff]/.test(s)),
      fc.constantFrom('a"b', '医院', 'x\\y/z', '42|PPE.MASK'),
    );
    fc.assert(
      fc.property(fc.dictionary(key, fc.oneof(str, int)), (entries) => {
        const m = new BucketMap<unknown>();
        for (const [k, v] of Object.entries(entries)) m.set(k, v);
        // digest({prefix: digest({key: digest(value)})}), prefixes = first two UTF-16 code units.
        const buckets: Record<string, Record<string, string>> = {};
        for (const [k, v] of Object.entries(entries)) {
          const p = k.slice(0, 2);
          buckets[p] ??= {};
          (buckets[p] as Record<string, string>)[k] = digest(v);
        }
        const want = digest(Object.fromEntries(Object.entries(buckets).map(([p, b]) => [p, digest(b)])));
        expect(m.root()).toBe(want);
      }),
      { numRuns: 200 },
    );
  });

  it('a root taken after each step of sets and deletes (buckets made and emptied on the way) is the root of a fresh map of what is left', () => {
    const k = fc.string({ unit: fc.constantFrom('A', 'b', 'C', 'd', '4', '2'), minLength: 2, maxLength: 4 });
    const step = fc.oneof(fc.record({ set: k, v: int }), fc.record({ del: k }));
    fc.assert(
      fc.property(fc.array(fc.array(step, { maxLength: 8 }), { minLength: 1, maxLength: 12 }), (steps) => {
        const m = new BucketMap<unknown>();
        const now = new Map<string, unknown>();
        for (const batch of steps) {
          for (const op of batch)
            if ('set' in op) {
              m.set(op.set, op.v);
              now.set(op.set, op.v);
            } else {
              m.delete(op.del);
              now.delete(op.del);
            }
          const fresh = new BucketMap<unknown>();
          for (const [key, v] of now) fresh.set(key, v);
          expect(m.root()).toBe(fresh.root());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('orders a bucket of keys sharing a prefix, ties on the next characters and shorter keys included', () => {
    const tail = fc.string({ unit: fc.constantFrom('A', 'a', '-', '_', '0', '/', 'é'), maxLength: 8 });
    fc.assert(
      fc.property(fc.uniqueArray(tail, { minLength: 2, maxLength: 300 }), (tails) => {
        const m = new BucketMap<unknown>();
        const leaves: Record<string, string> = {};
        tails.forEach((t, i) => {
          m.set(`Ab${t}`, i);
          leaves[`Ab${t}`] = digest(i);
        });
        expect(m.root()).toBe(digest({ Ab: digest(leaves) }));
      }),
      { numRuns: 200 },
    );
  });
});

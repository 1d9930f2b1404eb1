import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Author,
  assertIJson,
  type BodyOf,
  createHub,
  formatTimestamp,
  fromUtf8,
  isWellFormed,
  MemoryChains,
  parseRecord,
  type RecordType,
  ready,
  recordId,
  recordJson,
  utf8,
} from '../src/index.js';
import { codeOf, outcome, T0 } from './helpers.js';

beforeAll(ready);

// Text without C0 controls: JCS writes those as \u00XX escapes, and the case of
// a hex digit there is the one byte change that keeps the same record (see the
// last property).
const noControl = (s: string) => !/[\u0000-\u001f]/.test(s);
const text = (max: number) =>
  fc
    .oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
      fc.constantFrom('孝南区', '医用外科口罩', '蔬菜包'),
    )
    .filter((s) => s.length >= 1 && s.length <= max && isWellFormed(s) && noControl(s));
const id = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url'));
const region = fc.integer({ min: 100000, max: 999999 }).map(String);
const ts = fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2099-12-31T23:59:59Z') }).map(formatTimestamp);
const positive = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const item = fc.record({ code: fc.stringMatching(/^[A-Z0-9]{1,6}(\.[A-Z0-9_-]{1,6}){0,3}$/), name: text(200) });
const unit = fc.record({ name: text(32), base: text(32), size: positive });
const group = fc.constantFrom(
  'medical_staff',
  'patients',
  'elderly',
  'children',
  'disabled',
  'students',
  'migrant_workers',
  'other',
) as fc.Arbitrary<'elderly'>;
const org = fc.record(
  { name: text(200), kind: fc.constantFrom('hospital', 'community', 'frontline_group', 'care_home') as fc.Arbitrary<'hospital'>, region },
  { requiredKeys: ['name', 'kind'] },
);
const ext = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })).filter((o) => codeOf(() => assertIJson(o)) === 'no error');

const needPosted: fc.Arbitrary<BodyOf<'need.posted'>> = fc.record(
  {
    item,
    quantity: positive,
    unit,
    urgency: fc.constantFrom('critical', 'high', 'normal', 'low'),
    neededBy: ts,
    region,
    beneficiaries: fc.record({ group, count }),
    requester: org,
    campaign: text(64),
    purpose: fc.constantFrom('medical_protection', 'daily_living', 'psychosocial') as fc.Arbitrary<'daily_living'>,
    note: text(2000),
    ext,
  },
  { requiredKeys: ['item', 'quantity', 'unit', 'urgency', 'neededBy', 'region', 'beneficiaries', 'requester'] },
);

const offerPosted: fc.Arbitrary<BodyOf<'offer.posted'>> = fc.record(
  {
    kind: fc.constantFrom('goods', 'funds', 'service', 'transport', 'storage', 'volunteers', 'pass'),
    item,
    quantity: positive,
    unit,
    valueFen: count,
    donor: fc.record({ name: text(200), kind: fc.constantFrom('foundation', 'company', 'individual') as fc.Arbitrary<'company'> }),
    intent: fc.record(
      {
        regions: fc.array(fc.constantFrom('42', '4209', '420902', '33'), { maxLength: 5 }),
        groups: fc.array(group, { maxLength: 4 }),
        purposes: fc.array(fc.constantFrom('food', 'shelter') as fc.Arbitrary<'food'>, { maxLength: 2 }),
        validUntil: ts,
      },
      { requiredKeys: [] },
    ),
    region,
    availableFrom: ts,
    note: text(2000),
  },
  { requiredKeys: ['kind', 'item', 'quantity', 'unit', 'valueFen', 'donor', 'intent', 'region'] },
);

const handoff: fc.Arbitrary<BodyOf<'custody.handoff'>> = fc.record(
  {
    shipment: text(64),
    from: id,
    to: id,
    lines: fc.array(fc.record({ item, quantity: positive, unit, lot: text(64), expiry: ts }, { requiredKeys: ['item', 'quantity', 'unit'] }), {
      minLength: 1,
      maxLength: 4,
    }),
    carrier: fc.record({ name: text(200), kind: fc.constantFrom('chartered_truck', 'third_party', 'post') as fc.Arbitrary<'post'> }),
    waybill: text(64),
    expectedArrival: ts,
    allocations: fc.array(id, { maxLength: 4 }),
    corrects: id,
  },
  { requiredKeys: ['shipment', 'from', 'to', 'lines', 'expectedArrival', 'allocations'] },
);

const receipt: fc.Arbitrary<BodyOf<'custody.receipt'>> = fc.record(
  {
    handoff: id,
    lines: fc.array(
      fc
        .record({
          line: count,
          accepted: count,
          rejected: count,
          missing: count,
          reason: fc.constantFrom('damaged', 'expired', 'wrong_item') as fc.Arbitrary<'damaged'>,
        })
        .map(({ reason, ...l }) => (l.rejected > 0 ? { ...l, rejectReason: reason } : l)),
      { minLength: 1, maxLength: 4 },
    ),
    received: ts,
  },
  { requiredKeys: ['handoff', 'lines', 'received'] },
);

const allocation: fc.Arbitrary<BodyOf<'allocation'>> = fc.record(
  { offer: id, need: id, quantity: positive, note: text(2000) },
  { requiredKeys: ['offer', 'need', 'quantity'] },
);
const attestation: fc.Arbitrary<BodyOf<'attestation'>> = fc.record({
  subject: id,
  kind: fc.constantFrom('device_check', 'delivery_confirmed', 'organization_verified'),
  result: fc.constantFrom('pass', 'fail'),
});

type AnyBody = { type: RecordType; body: unknown };
const anyBody: fc.Arbitrary<AnyBody> = fc.oneof(
  needPosted.map((body) => ({ type: 'need.posted' as const, body })),
  offerPosted.map((body) => ({ type: 'offer.posted' as const, body })),
  handoff.map((body) => ({ type: 'custody.handoff' as const, body })),
  receipt.map((body) => ({ type: 'custody.receipt' as const, body })),
  allocation.map((body) => ({ type: 'allocation' as const, body })),
  attestation.map((body) => ({ type: 'attestation' as const, body })),
);

function signOne(seed: Uint8Array, b: AnyBody) {
  const hub = createHub({ seeds: { signing: seed, encryption: seed, recovery: seed }, created: '2020-01-24T00:00:00Z', hlc: { ms: T0, c: 0 } });
  const author = Author.fromNewHub(hub, () => T0 + 1000);
  const { record, id } = author.sign(b.type, b.body as never);
  return { hub, record, id };
}

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('properties of signed records', () => {
  it('sign then verify round-trips for arbitrary valid bodies', () => {
    fc.assert(
      fc.property(seed, anyBody, (s, b) => {
        const { hub, record, id } = signOne(s, b);
        const text = recordJson(record);
        const parsed = parseRecord(text);
        // Equal as JSON values: the canonical text writes -0 as 0 (spec/encoding.md).
        expect(parsed).toEqual(JSON.parse(text));
        expect(recordJson(parsed)).toBe(text);
        expect(recordId(parsed)).toBe(id);
        const chains = new MemoryChains();
        expect(outcome(chains, hub.inception)).toBe('valid');
        expect(outcome(chains, text)).toBe('valid');
      }),
      { numRuns: 300 },
    );
  });

  it('the id does not depend on member order or whitespace of the JSON text', () => {
    fc.assert(
      fc.property(seed, anyBody, (s, b) => {
        const { record, id } = signOne(s, b);
        const reorder = (v: unknown): unknown =>
          Array.isArray(v)
            ? v.map(reorder)
            : v && typeof v === 'object'
              ? Object.fromEntries(
                  Object.entries(v)
                    .reverse()
                    .map(([k, x]) => [k, reorder(x)]),
                )
              : v;
        const loose = JSON.stringify(reorder(record), null, 1);
        expect(recordId(parseRecord(loose))).toBe(id);
      }),
      { numRuns: 200 },
    );
  });

  it('changing any one byte of a signed record (without a sealed part) is rejected', () => {
    fc.assert(
      fc.property(seed, anyBody, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, b, at, xor) => {
        const { hub, record } = signOne(s, b);
        const bytes = utf8(recordJson(record));
        const i = at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ xor;
        const chains = new MemoryChains();
        chains.add(hub.inception);
        let result: string;
        try {
          result = outcome(chains, fromUtf8(bytes));
        } catch (e) {
          result = (e as { code?: string }).code ?? 'crash';
        }
        expect(['E_JSON', 'E_IJSON', 'E_SCHEMA', 'E_VERSION', 'E_SIG', 'E_CHAIN', 'E_GAP', 'E_FORK', 'E_HUB_ID']).toContain(result);
      }),
      { numRuns: 500 },
    );
  });

  it('with control characters in text, a one-byte change never yields a different valid record', () => {
    fc.assert(
      fc.property(
        seed,
        fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => isWellFormed(s)),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (s, note, at, xor) => {
          const { hub, record, id } = signOne(s, {
            type: 'allocation',
            body: { offer: 'A'.repeat(43), need: `${'B'.repeat(42)}A`, quantity: 1, note: `${note}\u0001` },
          });
          const bytes = utf8(recordJson(record));
          const i = at % bytes.length;
          bytes[i] = (bytes[i] as number) ^ xor;
          const chains = new MemoryChains();
          chains.add(hub.inception);
          let text: string;
          try {
            text = fromUtf8(bytes);
          } catch {
            return;
          }
          if (outcome(chains, text) === 'valid') expect(recordId(parseRecord(text))).toBe(id);
        },
      ),
      { numRuns: 300 },
    );
  });
});

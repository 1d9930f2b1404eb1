/**
 * A tour of the Shuniu record format, without any network: three hubs of the
 * 2020 Hubei response sign a need, an offer, an allocation, a handoff and a
 * receipt, and every record is verified as a node would verify it.
 *
 *   pnpm demo:protocol
 */
import {
  Author,
  type BodyOf,
  createHub,
  MemoryChains,
  type NewHub,
  openSealedPart,
  publicKeysOf,
  type RecordType,
  ready,
  type ShuniuError,
  type SignedRecord,
  seal,
} from '@shuniu/protocol';

await ready();

// Fixed clock: 24 January 2020, 08:00 Beijing time, one minute per record.
let now = Date.parse('2020-01-24T00:00:00Z');
const wall = () => (now += 60_000);

interface DemoHub {
  name: string;
  hub: NewHub;
  author: Author;
}
function hub(name: string): DemoHub {
  const h = createHub({ created: '2020-01-24T00:00:00Z', hlc: { ms: wall(), c: 0 } });
  return { name, hub: h, author: Author.fromNewHub(h, wall) };
}

const hubei = hub('湖北省枢纽 Hubei hub (420000)');
const xiaogan = hub('孝感市枢纽 Xiaogan hub (420900)');
const xiaonan = hub('孝南区枢纽 Xiaonan hub (420902)');
const names = new Map([hubei, xiaogan, xiaonan].map((h) => [h.hub.id, h.name]));

const chains = new MemoryChains();
const log: { record: SignedRecord; id: string }[] = [];
function publish<T extends RecordType>(who: DemoHub, type: T, body: BodyOf<T>, extra: Parameters<Author['sign']>[2] = {}) {
  const out = who.author.sign(type, body, extra);
  log.push(out);
  return out;
}

for (const h of [hubei, xiaogan, xiaonan]) log.push({ record: h.hub.inception, id: '' });
publish(hubei, 'hub.profile', { name: { zh: '湖北省枢纽', en: 'Hubei hub' }, level: 'province', region: '420000', endpoints: [] });
publish(hubei, 'hub.admitted', { child: xiaogan.hub.id, level: 'city', region: '420900' });
publish(xiaogan, 'hub.admitted', { child: xiaonan.hub.id, level: 'county', region: '420902' });

// The hospital's contact person is personal data: sealed to the province hub only.
const contact = seal({ contact: '李护士长', phone: '138-0000-0000' }, [{ hub: hubei.hub.id, encryptionKey: publicKeysOf(hubei.hub.keys).encryptionKey }]);
const need = publish(
  xiaonan,
  'need.posted',
  {
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩 surgical masks' },
    quantity: 400,
    unit: { name: 'box', base: 'piece', size: 50 },
    urgency: 'critical',
    neededBy: '2020-01-28T00:00:00Z',
    region: '420902',
    beneficiaries: { group: 'medical_staff', count: 800 },
    requester: { name: '孝南区人民医院 Xiaonan People’s Hospital', kind: 'hospital', region: '420902' },
    purpose: 'medical_protection',
  },
  contact,
);
const offer = publish(hubei, 'offer.posted', {
  kind: 'goods',
  item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩 surgical masks' },
  quantity: 2200,
  unit: { name: 'box', base: 'piece', size: 50 },
  valueFen: 110_000 * 250,
  donor: { name: '壹基金 One Foundation', kind: 'foundation' },
  intent: { regions: ['42'], groups: ['medical_staff'], purposes: ['medical_protection'], validUntil: '2020-03-20T00:00:00Z' },
  region: '420900',
  campaign: '2020-hubei-covid',
});
const allocation = publish(hubei, 'allocation', {
  offer: offer.id,
  need: need.id,
  quantity: 20_000,
  note: 'one share of 110,000 masks spread over all designated hospitals',
});
publish(xiaonan, 'allocation.accepted', { allocation: allocation.id });
const handoff = publish(hubei, 'custody.handoff', {
  shipment: 'HB-20200124-017',
  from: hubei.hub.id,
  to: xiaonan.hub.id,
  lines: [{ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 400, unit: { name: 'box', base: 'piece', size: 50 }, lot: 'L2001' }],
  carrier: { name: '孝感应急局包车 chartered truck', kind: 'chartered_truck' },
  waybill: 'XG-0017',
  expectedArrival: '2020-01-25T06:00:00Z',
  allocations: [allocation.id],
});
publish(xiaonan, 'custody.receipt', {
  handoff: handoff.id,
  lines: [{ line: 0, accepted: 396, rejected: 4, rejectReason: 'damaged', missing: 0 }],
  received: '2020-01-25T05:10:00Z',
});
publish(xiaonan, 'custody.delivered', {
  need: need.id,
  handoffs: [handoff.id],
  lines: [{ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 396, unit: { name: 'box', base: 'piece', size: 50 } }],
  recipient: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
  peopleServed: 800,
  delivered: '2020-01-25T07:00:00Z',
});

function summary(r: SignedRecord): string {
  switch (r.type) {
    case 'hub.inception':
      return `new hub, signing key ${r.body.signingKey.slice(0, 8)}…`;
    case 'hub.profile':
      return `${r.body.name.zh}, ${r.body.level}, region ${r.body.region}`;
    case 'hub.admitted':
      return `admits ${names.get(r.body.child)} as ${r.body.level}`;
    case 'need.posted':
      return `${r.body.urgency.toUpperCase()} need: ${r.body.quantity} ${r.body.unit.name} × ${r.body.unit.size} ${r.body.item.name} for ${r.body.requester.name} by ${r.body.neededBy}${r.sealed ? ' [sealed contact]' : ''}`;
    case 'offer.posted':
      return `offer: ${r.body.quantity * r.body.unit.size} ${r.body.unit.base} from ${r.body.donor.name}, ¥${(r.body.valueFen / 100).toLocaleString('en')}, intent ${JSON.stringify(r.body.intent.regions)}`;
    case 'allocation':
      return `allocates ${r.body.quantity} pieces of offer ${r.body.offer.slice(0, 8)}… to need ${r.body.need.slice(0, 8)}…`;
    case 'allocation.accepted':
      return `accepts allocation ${r.body.allocation.slice(0, 8)}…`;
    case 'custody.handoff':
      return `ships ${r.body.shipment} to ${names.get(r.body.to)} by ${r.body.carrier?.name}, ETA ${r.body.expectedArrival}`;
    case 'custody.receipt':
      return `receives: ${r.body.lines.map((l) => `${l.accepted} accepted, ${l.rejected} rejected (${l.rejectReason ?? '-'}), ${l.missing} missing`).join('; ')}`;
    case 'custody.delivered':
      return `delivers to ${r.body.recipient.name}, ${r.body.peopleServed} people served`;
    default:
      return r.type;
  }
}

let failures = 0;
console.log('seq  hub                                  record               summary');
for (const { record } of log) {
  const res = chains.add(record);
  const ok = res.kind === 'valid';
  if (!ok) failures++;
  const id = ok ? res.verified.id : '';
  console.log(
    `${String(record.seq).padStart(3)}  ${(names.get(record.hub) ?? '').padEnd(34)} ${record.type.padEnd(20)} ${summary(record)}\n` +
      `     ${ok ? '✓ verified' : `✗ ${res.kind}`}  id ${id}`,
  );
}

// Only the named hub can open the sealed part.
const needRecord = log.find((l) => l.record.type === 'need.posted')!.record;
console.log('\nsealed contact, opened by the Hubei hub:', JSON.stringify(openSealedPart(needRecord, hubei.hub.id, hubei.hub.keys.encryption)));
try {
  openSealedPart(needRecord, xiaogan.hub.id, xiaogan.hub.keys.encryption);
} catch (e) {
  console.log('the Xiaogan hub cannot open it:', (e as ShuniuError).code);
}

// A tampered copy is refused.
const forged = { ...needRecord, body: { ...(needRecord.body as BodyOf<'need.posted'>), quantity: 4000 } } as SignedRecord;
const res = new MemoryChains();
res.add(xiaonan.hub.inception);
for (const l of log) if (l.record.hub === xiaonan.hub.id && l.record.seq > 0 && l.record.seq < needRecord.seq) res.add(l.record);
const forgedRes = res.add(forged);
console.log('a copy with quantity changed to 4000 boxes:', forgedRes.kind === 'invalid' ? forgedRes.error.code : forgedRes.kind);

console.log(`\n${log.length} records, ${log.length - failures} verified.`);
process.exitCode = failures === 0 && forgedRes.kind === 'invalid' ? 0 : 1;

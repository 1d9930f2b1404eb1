/**
 * Builds the test vectors of spec/vectors/ (keys.json, records.json,
 * invalid.json) deterministically: fixed seeds, fixed clock, fixed sealing
 * randomness. gen-vectors.ts writes them; packages/protocol/test checks that
 * the committed files equal a fresh build and that the library agrees with
 * every vector.
 */
import {
  Author,
  type BodyOf,
  createHub,
  ed25519Sign,
  formatTimestamp,
  fromBase64url,
  type HubSeeds,
  hubIdOf,
  jcs,
  keyPairsFromSeeds,
  MAX_SEALED_CT,
  MAX_SIGNED_BYTES,
  type NewHub,
  PROTOCOL_VERSION,
  publicKeysOf,
  type RecordType,
  ready,
  recordId,
  recordJson,
  type SignedRecord,
  seal,
  sha256,
  signedBytes,
  signRecord,
  toBase64url,
  toHex,
  type UnsignedRecord,
  utf8,
} from '../../packages/protocol/src/index.js';
import { encode, P as FIELD_P, IDENTITY, L, scalarOf, signatureBytes, torsion, zeroSForgeryHolds } from './ed25519-torsion.js';

/** 32 bytes named by a label: SHA-256("shuniu-vectors:" ‖ label). */
export function vectorSeed(label: string): Uint8Array {
  return sha256(utf8(`shuniu-vectors:${label}`));
}

function seedsFor(region: string, generation: number): HubSeeds {
  const g = generation === 1 ? '' : `#${generation}`;
  return {
    signing: vectorSeed(`${region}/signing${g}`),
    encryption: vectorSeed(`${region}/encryption${g}`),
    recovery: vectorSeed(`${region}/recovery${g}`),
  };
}

export interface RecordVector {
  comment: string;
  tags: string[];
  record: SignedRecord;
  /** UTF-8 of JCS(record − sig − sealed), hex. */
  signedBytes: string;
  id: string;
  /** For the sealed vector: what went into `seal`, so another implementation can reproduce `sealed` byte for byte. */
  sealing?: { payload: unknown; recipients: string[]; key: string; nonce: string; ephemeralSeeds: string[] };
}

export interface InvalidVector {
  comment: string;
  tags: string[];
  /** Valid records to feed (in order) before `record`. */
  context: SignedRecord[];
  /** The input as JSON text, so that duplicate members, lone surrogates and non-canonical forms can be written. */
  record: string;
  error: string;
}

export interface Vectors {
  keys: Record<string, unknown>;
  records: { comment: string; vectors: RecordVector[] };
  invalid: { comment: string; vectors: InvalidVector[] };
}

const HUBS = [
  { key: 'hubei', region: '420000', level: 'province', zh: '壹基金联合救灾网络湖北枢纽', en: 'One Foundation disaster network, Hubei hub' },
  { key: 'xiaogan', region: '420900', level: 'city', zh: '孝感市枢纽', en: 'Xiaogan city hub' },
  { key: 'xiaonan', region: '420902', level: 'county', zh: '孝南区枢纽', en: 'Xiaonan district hub' },
] as const;

const MASK = { code: 'PPE.MASK.MEDICAL', name: '医用外科口罩' };
const BOX_OF_50 = { name: 'box', base: 'piece', size: 50 };

/** Builds every vector. Pure apart from awaiting libsodium. */
export async function buildVectors(): Promise<Vectors> {
  await ready();
  // One clock for all three hubs: every record is 10 minutes after the previous one.
  let t = Date.parse('2020-01-24T00:00:00Z');
  const step = () => {
    t += 10 * 60 * 1000;
    return t;
  };

  const hubs = new Map<string, HubState>();
  const keyVectors: Record<string, unknown>[] = [];
  const stream: RecordVector[] = [];

  const push = (comment: string, tags: string[], record: SignedRecord, sealing?: RecordVector['sealing']) => {
    const v: RecordVector = { comment, tags, record, signedBytes: toHex(signedBytes(record)), id: recordId(record) };
    if (sealing) v.sealing = sealing;
    stream.push(v);
    hubs.get(record.hub)?.chain.push(record);
    return v.id;
  };

  for (const h of HUBS) {
    const seeds = seedsFor(h.region, 1);
    const created = formatTimestamp(step());
    const hub = createHub({ seeds, created, hlc: { ms: t, c: 0 } });
    const author = Author.fromNewHub(hub, () => t);
    hubs.set(hub.id, { hub, author, chain: [] });
    keyVectors.push(keyVector(`${h.en} (${h.region})`, h.region, seeds, created, hub));
    push(`hub.inception of the ${h.en}: hub id = base64url(SHA-256(JCS(body)))`, ['hub.inception', h.level], hub.inception);
  }
  const [P, C, D] = [...hubs.values()] as [HubState, HubState, HubState];

  const sign = <T extends RecordType>(who: HubState, type: T, body: BodyOf<T>, comment: string, tags: string[], opts: Parameters<Author['sign']>[2] = {}) => {
    step();
    const { record } = who.author.sign(type, body, opts);
    return push(comment, [type, ...tags], record);
  };

  sign(
    P,
    'hub.profile',
    {
      name: { zh: HUBS[0].zh, en: HUBS[0].en },
      level: 'province',
      region: '420000',
      endpoints: ['https://hubei.shuniu.example/'],
      contact: '孝感市志愿者联合会',
    },
    'province hub profile with an endpoint',
    [],
  );
  sign(
    C,
    'hub.profile',
    { name: { zh: HUBS[1].zh, en: HUBS[1].en }, level: 'city', region: '420900', parent: P.hub.id, endpoints: [] },
    'city hub profile naming its parent',
    [],
  );
  sign(
    D,
    'hub.profile',
    { name: { zh: HUBS[2].zh }, level: 'county', region: '420902', parent: C.hub.id, endpoints: ['https://xiaonan.shuniu.example:8443/api'] },
    'county hub profile: Chinese name only, endpoint with a port and path',
    [],
  );
  sign(P, 'hub.admitted', { child: C.hub.id, level: 'city', region: '420900' }, 'Hubei admits Xiaogan', []);
  sign(C, 'hub.admitted', { child: D.hub.id, level: 'county', region: '420902' }, 'Xiaogan admits Xiaonan', []);

  const N1 = sign(
    D,
    'need.posted',
    {
      item: MASK,
      quantity: 400,
      unit: BOX_OF_50,
      urgency: 'high',
      neededBy: '2020-01-27T00:00:00Z',
      region: '420902',
      beneficiaries: { group: 'medical_staff', count: 1200 },
      requester: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
      campaign: 'covid19-hubei-2020',
      purpose: 'medical_protection',
    },
    '400 boxes of 50 masks (20,000 pieces) for a hospital in Xiaonan',
    ['unit'],
  );
  sign(D, 'need.updated', { need: N1, urgency: 'critical', note: '库存仅够两天' }, 'the mask need becomes critical', []);

  // The sealed part names the Xiaonan and Xiaogan hubs; its randomness is a
  // fixed stream so the vector is reproducible.
  const payload = { contact: '社区书记 王某', phone: '13800000000', address: '孝南区书院街道某社区' };
  const draws: Uint8Array[] = [];
  let n = 0;
  const randomBytes = (len: number) => {
    const b = vectorSeed(`seal/${n++}`).slice(0, len);
    draws.push(b);
    return b;
  };
  const recipients = [D, C].map((x) => ({ hub: x.hub.id, encryptionKey: publicKeysOf(x.hub.keys).encryptionKey }));
  const sealed = seal(payload, recipients, { randomBytes });
  step();
  const N2 = D.author.sign(
    'need.posted',
    {
      item: { code: 'FOOD.VEGETABLE', name: '蔬菜包' },
      quantity: 300,
      unit: { name: 'bag', base: 'bag', size: 1 },
      urgency: 'normal',
      neededBy: '2020-02-01T00:00:00Z',
      region: '420902',
      beneficiaries: { group: 'elderly', count: 300 },
      requester: { name: '书院街道某社区', kind: 'community' },
      purpose: 'daily_living',
      ext: { 'org.example.delivery': { window: '09:00-11:00', floors: [1, 2, 3] } },
    },
    sealed,
  );
  push('need with a sealed part (contact, phone, address) for the Xiaonan and Xiaogan hubs, and an ext member', ['need.posted', 'sealed', 'ext'], N2.record, {
    payload,
    recipients: recipients.map((r) => r.hub),
    key: toHex(draws[0] as Uint8Array),
    nonce: toHex(draws[1] as Uint8Array),
    ephemeralSeeds: draws.slice(2).map(toHex),
  });

  const O1 = sign(
    P,
    'offer.posted',
    {
      kind: 'goods',
      item: MASK,
      quantity: 2200,
      unit: BOX_OF_50,
      valueFen: 27_500_000,
      donor: { name: '壹基金', kind: 'foundation' },
      intent: { regions: ['42'], groups: ['medical_staff', 'patients'], purposes: ['medical_protection'], validUntil: '2020-03-31T00:00:00Z' },
      region: '420900',
      availableFrom: '2020-01-24T12:00:00Z',
      campaign: 'covid19-hubei-2020',
    },
    'the 110,000 masks bought on 24 January 2020: 2,200 boxes of 50, worth 275,000 yuan (27,500,000 fen)',
    ['money'],
  );
  sign(P, 'offer.updated', { offer: O1, valueFen: 26_400_000, note: '按最终发票更新金额' }, 'value corrected to the final invoice', ['money']);
  const A1 = sign(P, 'allocation', { offer: O1, need: N1, quantity: 20_000 }, 'allocation of 20,000 masks: quantity in base units (pieces)', ['unit']);
  sign(D, 'allocation.accepted', { allocation: A1 }, 'the need author accepts', []);
  const A2 = sign(P, 'allocation', { offer: O1, need: N1, quantity: 5_000, note: '追加' }, 'a second allocation to the same need', []);
  sign(D, 'allocation.declined', { allocation: A2, reason: '已足够' }, 'the need author declines the extra', []);
  const O2 = sign(
    P,
    'offer.posted',
    {
      kind: 'transport',
      item: { code: 'TRANSPORT.TRUCK', name: '整车运输' },
      quantity: 2,
      unit: { name: 'truck', base: 'truck', size: 1 },
      valueFen: 0,
      donor: { name: '某物流公司', kind: 'company' },
      intent: { regions: ['4209'] },
      region: '420900',
    },
    'two chartered trucks offered free of charge',
    [],
  );
  sign(P, 'offer.withdrawn', { offer: O2, reason: '车辆被征用' }, 'the trucks are withdrawn', []);
  const H1 = sign(
    P,
    'custody.handoff',
    {
      shipment: 'HB-20200124-001',
      from: P.hub.id,
      to: C.hub.id,
      lines: [{ item: MASK, quantity: 400, unit: BOX_OF_50, lot: 'LOT-2001A', expiry: '2022-01-01T00:00:00Z' }],
      carrier: { name: '孝感市应急管理局', kind: 'chartered_truck' },
      waybill: 'XG0124001',
      expectedArrival: '2020-01-25T06:00:00Z',
      allocations: [A1],
    },
    'province warehouse hands 400 boxes to the city hub',
    [],
  );
  sign(
    C,
    'custody.receipt',
    { handoff: H1, lines: [{ line: 0, accepted: 398, rejected: 1, rejectReason: 'damaged', missing: 1 }], received: '2020-01-25T05:30:00Z' },
    '398 accepted + 1 rejected (damaged) + 1 missing = 400 shipped',
    [],
  );
  const H2 = sign(
    C,
    'custody.handoff',
    {
      shipment: 'XG-20200125-007',
      from: C.hub.id,
      to: D.hub.id,
      lines: [{ item: MASK, quantity: 398, unit: BOX_OF_50, lot: 'LOT-2001A' }],
      carrier: { name: '孝感枢纽车辆', kind: 'hub_vehicle' },
      expectedArrival: '2020-01-25T10:00:00Z',
      allocations: [A1],
    },
    'city hub forwards 398 boxes to the district hub',
    [],
  );
  sign(
    D,
    'custody.receipt',
    { handoff: H2, lines: [{ line: 0, accepted: 398, rejected: 0, missing: 0 }], received: '2020-01-25T09:40:00Z' },
    'all 398 boxes accepted',
    [],
  );
  const DL = sign(
    D,
    'custody.delivered',
    {
      need: N1,
      handoffs: [H2],
      lines: [{ item: MASK, quantity: 398, unit: BOX_OF_50 }],
      recipient: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
      peopleServed: 1200,
      delivered: '2020-01-25T11:00:00Z',
    },
    'final-mile delivery to the hospital',
    [],
  );
  sign(C, 'attestation', { subject: DL, kind: 'delivery_confirmed', result: 'pass' }, 'the city hub confirms the delivery', []);
  sign(P, 'attestation', { subject: O1, kind: 'device_check', result: 'pass', note: '医院团队抽检合格' }, 'a hospital team checked the donated masks', []);
  sign(D, 'need.closed', { need: N1, reason: 'fulfilled' }, 'the mask need is closed as fulfilled', []);

  // Ordinary rotation: signed with the old signing key; later records use the new one.
  const D2 = keyPairsFromSeeds(seedsFor('420902', 2));
  sign(D, 'hub.keys.rotated', publicKeysOf(D2), 'Xiaonan rotates all three keys (signed with the old signing key)', ['rotation']);
  D.author.useKey(D2.signing.secretKey);
  sign(D, 'need.closed', { need: N2.id, reason: 'cancelled', note: '已由社区自行解决' }, 'first record under the rotated key', ['rotation']);

  // Recovery: the recovery key committed in the inception signs the rotation.
  const C2 = keyPairsFromSeeds(seedsFor('420900', 2));
  C.author.useKey(C.hub.keys.recovery.secretKey);
  sign(
    C,
    'hub.keys.rotated',
    { ...publicKeysOf(C2), recovery: { key: toBase64url(C.hub.keys.recovery.publicKey) } },
    'Xiaogan recovers: the rotation reveals the committed recovery key and is signed with it',
    ['rotation', 'recovery'],
  );
  C.author.useKey(C2.signing.secretKey);
  sign(
    C,
    'hub.profile',
    { name: { zh: HUBS[1].zh, en: HUBS[1].en }, level: 'city', region: '420900', parent: P.hub.id, endpoints: [], contact: '孝感枢纽值班电话 0712-0000000' },
    'first record under the recovered key',
    ['rotation', 'recovery'],
  );

  // Added in the v1 draft (issue 10), at the end so that every record above
  // keeps its bytes and id: a vouched recovery, a revoked and renewed
  // admission, a named individual donor, an erasure request.
  const recovery = stream.find((v) => v.record.type === 'hub.keys.rotated' && 'recovery' in v.record.body) as RecordVector;
  sign(
    P,
    'attestation',
    { subject: recovery.id, kind: 'recovery_vouched', result: 'pass', note: '已电话核实孝感枢纽负责人' },
    "Hubei, Xiaogan's admitter, vouches that the recovery is the owner's (spec/keys.md §5.1)",
    ['vouch'],
  );
  sign(C, 'hub.admission.revoked', { child: D.hub.id, reason: '账号被盗，暂停接纳' }, 'Xiaogan withdraws its admission of Xiaonan', ['admission']);
  sign(C, 'hub.admitted', { child: D.hub.id, level: 'county', region: '420902' }, 'Xiaogan admits Xiaonan again: the highest seq decides', ['admission']);
  sign(
    P,
    'offer.posted',
    {
      kind: 'funds',
      item: { code: 'FUNDS.CNY', name: '善款' },
      quantity: 1,
      unit: { name: 'donation', base: 'donation', size: 1 },
      valueFen: 500_000,
      donor: { name: '王女士', kind: 'individual', named: true },
      intent: { regions: ['42'] },
      region: '420000',
    },
    'an individual donor who agreed to be named publicly (donor.named)',
    ['donor'],
  );
  sign(D, 'sealed.erased', { record: N2.id, reason: '受助人要求删除联系方式' }, 'Xiaonan asks every node to erase the sealed part of its vegetable need', [
    'erasure',
  ]);

  // Added for issue 11, at the end of the stream so earlier records keep their bytes:
  // a record exactly at the limit of its signed bytes (spec/encoding.md §4), padded in ext.
  const padded = (n: number): BodyOf<'need.posted'> => {
    const base = (stream.find((v) => v.record.type === 'need.posted') as RecordVector).record.body as BodyOf<'need.posted'>;
    return { ...base, ext: { ...(base.ext ?? {}), 'org.shuniu.vectors.padding': 'x'.repeat(n) } };
  };
  const last = P.chain[P.chain.length - 1] as SignedRecord;
  // Same lengths as the record about to be signed: seq, 43-character ids, a 13-digit hlc.ms, c 0.
  const sizeWith = (n: number) =>
    signedBytes({
      v: PROTOCOL_VERSION,
      type: 'need.posted',
      hub: P.hub.id,
      seq: last.seq + 1,
      prev: recordId(last),
      hlc: { ms: t + 600_000, c: 0 },
      body: padded(n),
    } as unknown as UnsignedRecord).length;
  const pad = MAX_SIGNED_BYTES - sizeWith(0);
  sign(P, 'need.posted', padded(pad), `a need whose signed bytes are ${MAX_SIGNED_BYTES} bytes, exactly the limit (spec/encoding.md §4)`, ['limit']);
  const atLimit = stream[stream.length - 1] as RecordVector;
  if (atLimit.signedBytes.length !== 2 * MAX_SIGNED_BYTES) throw new Error(`the record at the limit has ${atLimit.signedBytes.length / 2} signed bytes`);

  // Added for issue 18 (volunteers and skills, spec/records.md §5.8), at the end of the stream so earlier records keep their bytes.
  sign(
    D,
    'offer.posted',
    {
      kind: 'volunteers',
      item: { code: 'SERVICE.VOLUNTEER', name: '社区志愿者' },
      quantity: 12,
      unit: { name: '人', base: '人', size: 1 },
      valueFen: 0,
      donor: { name: '孝南区青年志愿者协会', kind: 'volunteer_group' },
      intent: { regions: ['4209'] },
      region: '420902',
      volunteers: {
        skills: ['driving', 'logistics', 'elderly_care'],
        availability: { days: ['sat', 'sun'], hours: { start: '08:00', end: '18:00' }, until: '2020-03-31T00:00:00Z', remote: false },
      },
    },
    'twelve volunteers with their skills and availability (volunteers: only on an offer of kind volunteers; quantity counts people)',
    ['volunteers'],
  );

  // Added for issue 18 (bundles, spec/records.md §5.20-5.22), at the end of the stream so earlier records keep their bytes.
  const bundle = sign(
    C,
    'bundle.posted',
    {
      title: '孝南区社区团购群防护物资',
      region: '420902',
      needs: [N1, N2.id],
      description: '两个社区群的需求，整体资助',
      targetFen: 5_000_000,
      campaign: 'covid19-hubei-2020',
    },
    "Xiaogan bundles two of Xiaonan's needs into one fundable project (needs: distinct need ids; its progress is derived by the resolver, never written)",
    ['bundles'],
  );
  sign(
    C,
    'bundle.updated',
    { bundle, remove: [N2.id], title: '孝南区社区团购群口罩' },
    'the bundle author removes the cancelled need and renames the project',
    ['bundles'],
  );
  sign(P, 'bundle.funded', { bundle, amountFen: 5_000_000, note: '整体资助' }, 'Hubei pledges 50,000 yuan for the whole bundle (amountFen in fen)', [
    'bundles',
    'money',
  ]);

  for (const [region, gen, hub] of [
    ['420902', 2, D],
    ['420900', 2, C],
  ] as const) {
    const s = seedsFor(region, gen);
    keyVectors.push(seedVector(`${region} after rotation (generation ${gen})`, region, s, hub.hub.id));
  }

  return {
    keys: {
      comment:
        'Key derivation vectors. Seeds are SHA-256("shuniu-vectors:<region>/<role>[#generation]"). Ed25519 per RFC 8032 (secretKey = seed ‖ publicKey, libsodium form); X25519 by crypto_box_seed_keypair (secretKey = SHA-512(seed)[0..32]); recoveryCommitment = base64url(SHA-256(recovery public key)); hubId = base64url(SHA-256(JCS(inception body))).',
      vectors: keyVectors,
    },
    records: {
      comment:
        'Valid records of every type, in an order that verifies as one stream (spec/records.md). signedBytes = hex of UTF-8(JCS(record without sig and sealed)); id = base64url(SHA-256(signedBytes)).',
      vectors: stream,
    },
    invalid: {
      comment: 'Inputs that must be refused, each with its error code (spec/errors.md). Feed `context` in order, then `record` (JSON text).',
      vectors: invalidVectors({ P, C, D, D2, stream }),
    },
  };
}

function keyVector(label: string, region: string, seeds: HubSeeds, created: string, hub: NewHub): Record<string, unknown> {
  return {
    ...seedVector(label, region, seeds, hub.id),
    tags: ['inception'],
    created,
    inceptionBody: hub.inception.body,
    inceptionBodyJcs: jcs(hub.inception.body),
    keyFile: hub.keyFile,
  };
}

function seedVector(label: string, region: string, seeds: HubSeeds, hubId: string): Record<string, unknown> {
  const kp = keyPairsFromSeeds(seeds);
  const pub = publicKeysOf(kp);
  return {
    comment: label,
    tags: ['keys'],
    region,
    hubId,
    signingSeed: toHex(seeds.signing),
    signingSecretKey: toHex(kp.signing.secretKey),
    signingPublicKey: toHex(kp.signing.publicKey),
    signingKey: pub.signingKey,
    encryptionSeed: toHex(seeds.encryption),
    encryptionSecretKey: toHex(kp.encryption.secretKey),
    encryptionPublicKey: toHex(kp.encryption.publicKey),
    encryptionKey: pub.encryptionKey,
    recoverySeed: toHex(seeds.recovery),
    recoveryPublicKey: toHex(kp.recovery.publicKey),
    recoveryKey: toBase64url(kp.recovery.publicKey),
    recoveryCommitment: pub.recoveryCommitment,
  };
}

type HubState = { hub: NewHub; author: Author; chain: SignedRecord[] };

/** Everything but `sig`, ready to be changed and signed again. */
function unsignedOf(r: SignedRecord): Record<string, unknown> {
  const { sig: _sig, ...rest } = r;
  return JSON.parse(JSON.stringify(rest));
}

function invalidVectors(x: { P: HubState; C: HubState; D: HubState; D2: ReturnType<typeof keyPairsFromSeeds>; stream: RecordVector[] }): InvalidVector[] {
  const { P, C, D, D2, stream } = x;
  const out: InvalidVector[] = [];
  const add = (comment: string, tags: string[], context: SignedRecord[], record: string | SignedRecord, error: string) =>
    out.push({ comment, tags, context, record: typeof record === 'string' ? record : recordJson(record), error });
  // Signs without the schema check of signRecord, so schema-invalid records can carry a good signature.
  const resign = (r: SignedRecord, change: (u: Record<string, unknown>) => void, secretKey: Uint8Array) => {
    const u = unsignedOf(r);
    change(u);
    const sig = toBase64url(ed25519Sign(signedBytes(u as unknown as UnsignedRecord), secretKey));
    return jcs({ ...u, sig });
  };
  const chain = (h: HubState, upTo: number) => h.chain.filter((r) => r.seq <= upTo);
  const first = (h: HubState, type: RecordType) => {
    const r = h.chain.find((c) => c.type === type);
    if (!r) throw new Error(`no ${type} in the chain of ${h.hub.id}`);
    return r;
  };
  const replaceOnce = (text: string, from: string, to: string) => {
    const i = text.indexOf(from);
    if (i < 0) throw new Error(`${from} not in ${text}`);
    return text.slice(0, i) + to + text.slice(i + from.length);
  };

  const dInc = D.hub.inception;
  const dKey = D.hub.keys.signing.secretKey;
  const need = first(D, 'need.posted'); // seq 2 of Xiaonan
  const needCtx = chain(D, need.seq - 1);
  const needText = recordJson(need);
  const sealedNeed = stream.find((v) => v.tags.includes('sealed'))?.record as SignedRecord;
  const sealedCtx = chain(D, sealedNeed.seq - 1);
  const dProfile = first(D, 'hub.profile');

  // ---- JSON and I-JSON ------------------------------------------------------
  add('not JSON: truncated text', ['json'], [], needText.slice(0, 40), 'E_JSON');
  add('not JSON: a trailing comma', ['json'], [], replaceOnce(needText, '"urgency":"high"', '"urgency":"high",'), 'E_JSON');
  add(
    'duplicate member name (I-JSON, RFC 7493 §2.3)',
    ['ijson', 'duplicate-key'],
    needCtx,
    replaceOnce(needText, '"quantity":400', '"quantity":400,"quantity":4000'),
    'E_IJSON',
  );
  add(
    'duplicate member name spelled with an escape: "\\u0071uantity" is "quantity"',
    ['ijson', 'duplicate-key'],
    needCtx,
    replaceOnce(needText, '"quantity":400', '"quantity":400,"\\u0071uantity":400'),
    'E_IJSON',
  );
  add('lone surrogate in a string (I-JSON §2.1)', ['ijson', 'surrogate'], needCtx, replaceOnce(needText, '医用外科口罩', '\\ud800口罩'), 'E_IJSON');
  add('lone low surrogate in a member name', ['ijson', 'surrogate'], needCtx, replaceOnce(needText, '"body":{', '"body":{"\\udc00":1,'), 'E_IJSON');
  add(
    'integer outside ±(2^53−1) (I-JSON §2.2)',
    ['ijson', 'number'],
    needCtx,
    replaceOnce(needText, '"quantity":400', '"quantity":9007199254740993'),
    'E_IJSON',
  );
  add('number that overflows an IEEE 754 double', ['ijson', 'number'], needCtx, replaceOnce(needText, '"quantity":400', '"quantity":1e400'), 'E_IJSON');
  let deep = '0';
  for (let i = 0; i < 33; i++) deep = `[${deep}]`;
  add(
    'nesting deeper than 32 arrays/objects (spec/encoding.md §Limits)',
    ['json', 'depth'],
    needCtx,
    replaceOnce(needText, '"body":{', `"body":{"ext":{"deep":${deep}},`),
    'E_JSON',
  );

  // ---- schema ------------------------------------------------------------------
  add('record is not an object', ['schema'], [], '[]', 'E_SCHEMA');
  add('unknown envelope member', ['schema', 'strict'], needCtx, replaceOnce(needText, '{"body":', '{"extra":true,"body":'), 'E_SCHEMA');
  add('unknown body member outside ext', ['schema', 'strict', 'ext'], needCtx, replaceOnce(needText, '"body":{', '"body":{"priority":1,'), 'E_SCHEMA');
  add('unknown member inside a nested object (item)', ['schema', 'strict'], needCtx, replaceOnce(needText, '"item":{', '"item":{"brand":"x",'), 'E_SCHEMA');
  add('fractional quantity: quantities are integers', ['schema', 'number'], needCtx, replaceOnce(needText, '"quantity":400', '"quantity":400.5'), 'E_SCHEMA');
  add('negative quantity', ['schema', 'number'], needCtx, replaceOnce(needText, '"quantity":400', '"quantity":-400'), 'E_SCHEMA');
  add('missing required member (urgency)', ['schema'], needCtx, replaceOnce(needText, ',"urgency":"high"', ''), 'E_SCHEMA');
  add('region is not six digits of GB/T 2260', ['schema', 'region'], needCtx, replaceOnce(needText, '"region":"420902"', '"region":"42090"'), 'E_SCHEMA');
  add('region with a leading zero', ['schema', 'region'], needCtx, replaceOnce(needText, '"region":"420902"', '"region":"020902"'), 'E_SCHEMA');
  add('unknown record type', ['schema', 'type'], needCtx, replaceOnce(needText, '"type":"need.posted"', '"type":"need.deleted"'), 'E_SCHEMA');
  add('unknown urgency', ['schema', 'enum'], needCtx, replaceOnce(needText, '"urgency":"high"', '"urgency":"urgent"'), 'E_SCHEMA');
  add(
    'timestamp with an offset instead of Z',
    ['schema', 'timestamp'],
    needCtx,
    replaceOnce(needText, '2020-01-27T00:00:00Z', '2020-01-27T08:00:00+08:00'),
    'E_SCHEMA',
  );
  add('hlc counter above 65535', ['schema', 'hlc'], needCtx, replaceOnce(needText, '"c":0', '"c":65536'), 'E_SCHEMA');
  // 64 bytes leave 4 unused bits in the last character: setting the lowest spells the same bytes another way.
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const nonCanonical = B64[B64.indexOf(need.sig.slice(-1)) + 1] as string;
  add(
    'non-canonical base64url: unused low bits of the last signature character set',
    ['schema', 'base64url', 'non-canonical'],
    needCtx,
    replaceOnce(needText, need.sig, need.sig.slice(0, -1) + nonCanonical),
    'E_SCHEMA',
  );
  add(
    'base64url with padding',
    ['schema', 'base64url', 'non-canonical'],
    needCtx,
    replaceOnce(needText, `"prev":"${need.prev}"`, `"prev":"${need.prev}="`),
    'E_SCHEMA',
  );
  add(
    'need.updated that changes nothing',
    ['schema', 'refinement'],
    chain(D, need.seq),
    resign(
      first(D, 'need.updated'),
      (u) => {
        u.body = { need: recordId(need) };
      },
      dKey,
    ),
    'E_SCHEMA',
  );
  add(
    'receipt line with rejected goods but no rejectReason',
    ['schema', 'refinement'],
    [],
    replaceOnce(recordJson(first(C, 'custody.receipt')), '"rejectReason":"damaged",', ''),
    'E_SCHEMA',
  );
  add(
    'endpoint URL with surrounding whitespace (it would be signed as written but read trimmed)',
    ['schema', 'url'],
    [dInc],
    replaceOnce(recordJson(dProfile), 'https://xiaonan', ' https://xiaonan'),
    'E_SCHEMA',
  );
  add('endpoint that is not http(s)', ['schema', 'url'], [dInc], replaceOnce(recordJson(dProfile), 'https://xiaonan', 'ftp://xiaonan'), 'E_SCHEMA');
  add('protocol version 2', ['version'], needCtx, replaceOnce(needText, '"v":1', '"v":2'), 'E_VERSION');
  add('protocol version as a string', ['version'], needCtx, replaceOnce(needText, '"v":1', '"v":"1"'), 'E_VERSION');

  // ---- signature and identity ------------------------------------------------
  const sigChars = need.sig.split('');
  sigChars[0] = sigChars[0] === 'A' ? 'B' : 'A';
  add('signature altered (first character)', ['sig'], needCtx, replaceOnce(needText, need.sig, sigChars.join('')), 'E_SIG');
  add('body changed after signing (400 → 401 boxes)', ['sig'], needCtx, replaceOnce(needText, '"quantity":400', '"quantity":401'), 'E_SIG');
  add(
    "signed with another hub's key",
    ['sig'],
    needCtx,
    resign(need, () => {}, P.hub.keys.signing.secretKey),
    'E_SIG',
  );
  add(
    'hub id not derived from the inception body',
    ['hub-id', 'hub.inception'],
    [],
    resign(
      dInc,
      (u) => {
        u.hub = P.hub.id;
      },
      dKey,
    ),
    'E_HUB_ID',
  );
  add(
    'inception at seq 1',
    ['chain', 'hub.inception'],
    [],
    resign(
      dInc,
      (u) => {
        u.seq = 1;
      },
      dKey,
    ),
    'E_CHAIN',
  );
  add(
    'non-inception record at seq 0 with prev null',
    ['chain'],
    [],
    resign(
      need,
      (u) => {
        u.seq = 0;
        u.prev = null;
      },
      dKey,
    ),
    'E_CHAIN',
  );

  // ---- chain -------------------------------------------------------------------
  add(
    'wrong prev: links the Hubei inception instead of its own previous record',
    ['chain', 'prev'],
    needCtx,
    resign(
      need,
      (u) => {
        u.prev = recordId(P.hub.inception);
      },
      dKey,
    ),
    'E_CHAIN',
  );
  add(
    'hlc not later than the previous record',
    ['chain', 'hlc'],
    needCtx,
    resign(
      need,
      (u) => {
        u.hlc = { ...(needCtx[needCtx.length - 1] as SignedRecord).hlc };
      },
      dKey,
    ),
    'E_CHAIN',
  );
  add('seq gap: seq 2 while the head is seq 0 (held aside, E_GAP)', ['gap'], [dInc], needText, 'E_GAP');
  add('no inception held for the author hub (E_GAP)', ['gap'], [], recordJson(dProfile), 'E_GAP');
  add(
    'fork: a second validly signed record at seq 1',
    ['fork'],
    [dInc, dProfile],
    resign(
      dProfile,
      (u) => {
        (u.body as { endpoints: string[] }).endpoints = [];
      },
      dKey,
    ),
    'E_FORK',
  );
  add(
    'fork: a second inception of the same hub (same hub id, different hlc)',
    ['fork', 'hub.inception'],
    [dInc],
    resign(
      dInc,
      (u) => {
        u.hlc = { ms: (u.hlc as { ms: number }).ms, c: 1 };
      },
      dKey,
    ),
    'E_FORK',
  );

  // ---- rotation --------------------------------------------------------------
  const rotated = D.chain.find((r) => r.type === 'hub.keys.rotated') as SignedRecord;
  const afterRotation = chain(D, rotated.seq + 1);
  const lastD = afterRotation[afterRotation.length - 1] as SignedRecord;
  add(
    'after a rotation, a record signed with the old signing key',
    ['rotation', 'sig'],
    chain(D, rotated.seq),
    resign(lastD, () => {}, dKey),
    'E_SIG',
  );
  add(
    'fork before a rotation, signed with the key in force at that position',
    ['rotation', 'fork'],
    afterRotation,
    resign(
      need,
      (u) => {
        (u.body as { quantity: number }).quantity = 4000;
      },
      dKey,
    ),
    'E_FORK',
  );
  add(
    'recovery with a key that does not match the recovery commitment',
    ['rotation', 'recovery', 'sig'],
    [dInc],
    signRecord(
      {
        v: PROTOCOL_VERSION,
        type: 'hub.keys.rotated',
        hub: D.hub.id,
        seq: 1,
        prev: recordId(dInc),
        hlc: { ms: dInc.hlc.ms + 1000, c: 0 },
        body: { ...publicKeysOf(D2), recovery: { key: toBase64url(C.hub.keys.recovery.publicKey) } },
      },
      C.hub.keys.recovery.secretKey,
    ),
    'E_SIG',
  );
  add(
    'new keys signed with the new signing key instead of the current one',
    ['rotation', 'sig'],
    chain(D, rotated.seq - 1),
    resign(rotated, () => {}, D2.signing.secretKey),
    'E_SIG',
  );

  // ---- sealed part -------------------------------------------------------------
  const sealedText = recordJson(sealedNeed);
  const ct = sealedNeed.sealed?.ct as string;
  const ctAltered = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1);
  add('sealed part altered: it no longer matches sealedHash', ['sealed'], sealedCtx, replaceOnce(sealedText, ct, ctAltered), 'E_SEALED');
  add('sealed part without sealedHash', ['sealed'], sealedCtx, replaceOnce(sealedText, `"sealedHash":"${sealedNeed.sealedHash}",`, ''), 'E_SEALED');

  // ---- added in the v1 draft (issue 10): at the end, so earlier entries keep their place ----
  const revocation = first(C, 'hub.admission.revoked');
  const revText = recordJson(revocation);
  const revCtx = chain(C, revocation.seq - 1);
  add('hub.admission.revoked without child', ['schema', 'hub.admission.revoked'], revCtx, replaceOnce(revText, `"child":"${D.hub.id}",`, ''), 'E_SCHEMA');
  add(
    'hub.admission.revoked with a member outside ext (level)',
    ['schema', 'strict', 'hub.admission.revoked'],
    revCtx,
    replaceOnce(revText, '"body":{', '"body":{"level":"county",'),
    'E_SCHEMA',
  );
  add(
    'hub.admission.revoked with an empty reason',
    ['schema', 'hub.admission.revoked'],
    revCtx,
    replaceOnce(revText, '"reason":"账号被盗，暂停接纳"', '"reason":""'),
    'E_SCHEMA',
  );
  const erased = first(D, 'sealed.erased');
  const erasedText = recordJson(erased);
  const erasedCtx = chain(D, erased.seq - 1);
  add(
    'sealed.erased naming something that is not a record id',
    ['schema', 'sealed.erased'],
    erasedCtx,
    replaceOnce(erasedText, `"record":"${recordId(sealedNeed)}"`, '"record":"N2"'),
    'E_SCHEMA',
  );
  add('sealed.erased without record', ['schema', 'sealed.erased'], erasedCtx, replaceOnce(erasedText, `,"record":"${recordId(sealedNeed)}"`, ''), 'E_SCHEMA');
  const named = P.chain.find((r) => r.type === 'offer.posted' && (r.body as BodyOf<'offer.posted'>).donor.named !== undefined) as SignedRecord;
  add(
    'donor.named as a string instead of a boolean',
    ['schema', 'donor'],
    chain(P, named.seq - 1),
    replaceOnce(recordJson(named), '"named":true', '"named":"yes"'),
    'E_SCHEMA',
  );
  const vouch = P.chain.find((r) => r.type === 'attestation' && (r.body as BodyOf<'attestation'>).kind === 'recovery_vouched') as SignedRecord;
  add(
    'attestation of an unknown kind (recovery_vouch)',
    ['schema', 'enum', 'attestation'],
    chain(P, vouch.seq - 1),
    replaceOnce(recordJson(vouch), '"kind":"recovery_vouched"', '"kind":"recovery_vouch"'),
    'E_SCHEMA',
  );

  // ---- added for issue 11 (size limits, spec/encoding.md §4): at the end ----
  const atLimit = P.chain.find(
    (r) => r.type === 'need.posted' && (r.body as BodyOf<'need.posted'>).ext?.['org.shuniu.vectors.padding'] !== undefined,
  ) as SignedRecord;
  add(
    `signed bytes of ${MAX_SIGNED_BYTES + 1} bytes, one over the limit, validly signed`,
    ['schema', 'limit'],
    chain(P, atLimit.seq - 1),
    resign(
      atLimit,
      (u) => {
        const ext = (u.body as { ext: Record<string, string> }).ext;
        ext['org.shuniu.vectors.padding'] += 'x';
      },
      P.hub.keys.signing.secretKey,
    ),
    'E_SCHEMA',
  );
  add(
    `sealed part whose ct has ${MAX_SEALED_CT + 4} characters, over the limit (checked before sealedHash)`,
    ['schema', 'limit', 'sealed'],
    sealedCtx,
    replaceOnce(sealedText, ct, ct + 'A'.repeat(MAX_SEALED_CT + 4 - ct.length)),
    'E_SCHEMA',
  );

  // ---- added for issue 13 (Ed25519 strictness, spec/keys.md §1): at the end ----
  // Inceptions of the Xiaonan body with `signingKey` replaced (hub id = digest of that body, so the
  // signature decides), signed with S = 0 and an R for which R + [k]A is the identity: the cofactorless
  // (and cofactored) equation holds for this message, so a verifier without libsodium's checks accepts.
  const T = torsion();
  const forged = (comment: string, tags: string[], keyBytes: Uint8Array, rCandidates: Uint8Array[]) => {
    for (let c = 0; c < 64; c++) {
      const u = unsignedOf(dInc);
      const body = u.body as BodyOf<'hub.inception'>;
      body.signingKey = toBase64url(keyBytes);
      u.hub = hubIdOf(body);
      u.hlc = { ms: dInc.hlc.ms, c };
      const msg = signedBytes(u as unknown as UnsignedRecord);
      const r = rCandidates.find((cand) => zeroSForgeryHolds(cand, keyBytes, msg));
      if (r) return add(comment, ['ed25519', ...tags], [], jcs({ ...u, sig: toBase64url(signatureBytes(r, 0n)) }), 'E_SIG');
    }
    throw new Error(`no forgery found for ${comment}`);
  };
  const canonicalTorsion = T.map((t) => encode(t));
  forged(
    'small-order public key: the identity (y = 1), R the identity, S = 0 (accepted for any message by a verifier without the small-order checks, e.g. node:crypto)',
    ['small-order'],
    encode(IDENTITY),
    [encode(IDENTITY)],
  );
  forged('small-order public key of order 2 (0, −1), R small-order, S = 0', ['small-order'], encode(T[4] as (typeof T)[number]), canonicalTorsion);
  forged('small-order public key of order 4 (y = 0), R small-order, S = 0', ['small-order'], encode(T[2] as (typeof T)[number]), canonicalTorsion);
  forged('small-order public key of order 8, R small-order, S = 0', ['small-order'], encode(T[1] as (typeof T)[number]), canonicalTorsion);
  forged(
    'non-canonical public key: y = p + 1 (the identity written with y ≥ p), R the identity, S = 0',
    ['non-canonical', 'small-order'],
    encode(IDENTITY, FIELD_P + 1n),
    [encode(IDENTITY)],
  );
  forged(
    'non-canonical public key: the identity with the sign bit of x = 0 set ("negative zero"), R the identity, S = 0',
    ['non-canonical', 'small-order'],
    encode({ x: 1n, y: 1n }),
    [encode(IDENTITY)],
  );
  forged(
    'non-canonical R: a small-order point written with y ≥ p, public key of order 8, S = 0',
    ['non-canonical', 'small-order'],
    encode(T[1] as (typeof T)[number]),
    [encode(IDENTITY, FIELD_P + 1n), encode(T[2] as (typeof T)[number], FIELD_P), encode(T[6] as (typeof T)[number], FIELD_P)],
  );
  // A genuine signature of the Xiaonan need with S replaced by S + L: the same residue, so a verifier
  // that reduces S modulo L accepts it; RFC 8032 §5.1.7 and libsodium require S < L.
  const needSig = fromBase64url(need.sig);
  add(
    "non-canonical S: the need's genuine signature with S + L in place of S (S ≥ L)",
    ['ed25519', 'non-canonical', 'sig'],
    needCtx,
    replaceOnce(needText, need.sig, toBase64url(signatureBytes(needSig.subarray(0, 32), scalarOf(needSig) + L))),
    'E_SIG',
  );

  // ---- added for issue 13 (calendar dates, spec/records.md §1): at the end ----
  const retimed = (field: string, to: string) =>
    resign(
      need,
      (u) => {
        (u.body as Record<string, unknown>)[field] = to;
      },
      dKey,
    );
  add(
    'timestamp of a day that does not exist: 2020-02-31 (validly signed)',
    ['schema', 'timestamp', 'calendar'],
    needCtx,
    retimed('neededBy', '2020-02-31T00:00:00Z'),
    'E_SCHEMA',
  );
  add(
    'timestamp of 29 February in a common year: 2019-02-29',
    ['schema', 'timestamp', 'calendar'],
    needCtx,
    retimed('neededBy', '2019-02-29T00:00:00Z'),
    'E_SCHEMA',
  );
  add(
    'timestamp of 29 February 2100 (a century, not a leap year)',
    ['schema', 'timestamp', 'calendar'],
    needCtx,
    retimed('neededBy', '2100-02-29T00:00:00Z'),
    'E_SCHEMA',
  );
  add('timestamp of 31 April', ['schema', 'timestamp', 'calendar'], needCtx, retimed('neededBy', '2020-04-31T00:00:00Z'), 'E_SCHEMA');
  add('timestamp with a leap second (:60), refused', ['schema', 'timestamp', 'leap-second'], needCtx, retimed('neededBy', '2016-12-31T23:59:60Z'), 'E_SCHEMA');
  add(
    'inception created on a day that does not exist (every timestamp member has the same rule)',
    ['schema', 'timestamp', 'calendar', 'hub.inception'],
    [],
    resign(
      dInc,
      (u) => {
        (u.body as Record<string, unknown>).created = '2020-02-30T00:10:00Z';
        // digest(body) by hand: hubIdOf refuses the body, as every reader must.
        u.hub = toBase64url(sha256(utf8(jcs(u.body))));
      },
      dKey,
    ),
    'E_SCHEMA',
  );

  // ---- added for issue 13 (which numbers may be signed, spec/encoding.md §2.3): at the end ----
  // Signed over its JCS bytes by hand: signedBytes (every signer) refuses such a value.
  const bigExt = (spelled: string, value: number) => {
    const u = unsignedOf(need);
    (u.body as Record<string, unknown>).ext = { 'org.example.big': value };
    const text = jcs({ ...u, sig: toBase64url(ed25519Sign(utf8(jcs(u)), dKey)) });
    return replaceOnce(text, `"org.example.big":${jcs(value)}`, `"org.example.big":${spelled}`);
  };
  add(
    'ext value 1e20: an integer outside ±(2^53−1) written with an exponent (its JCS form 100000000000000000000 is unreadable), validly signed',
    ['ijson', 'number', 'ext'],
    needCtx,
    bigExt('1e20', 1e20),
    'E_IJSON',
  );
  add(
    'ext value -9007199254740992.0: an integer outside ±(2^53−1) written with a fraction, validly signed',
    ['ijson', 'number', 'ext'],
    needCtx,
    bigExt('-9007199254740992.0', -9007199254740992),
    'E_IJSON',
  );
  // ---- added for issue 13 (E_JSON before E_IJSON, spec/encoding.md §2): at the end ----
  add(
    'a duplicate member name, then the text ends: not JSON, so E_JSON wins over the earlier I-JSON fault',
    ['json', 'ijson', 'precedence'],
    needCtx,
    replaceOnce(needText, '"quantity":400', '"quantity":400,"quantity":4000').slice(0, -1),
    'E_JSON',
  );

  // ---- added for issue 18 (volunteers and skills, spec/records.md §5.8): at the end ----
  const team = D.chain.find((r) => r.type === 'offer.posted' && (r.body as BodyOf<'offer.posted'>).volunteers !== undefined) as SignedRecord;
  const teamCtx = chain(D, team.seq - 1);
  const reteam = (change: (b: BodyOf<'offer.posted'> & { volunteers: NonNullable<BodyOf<'offer.posted'>['volunteers']> }) => void) =>
    resign(team, (u) => change(u.body as never), dKey);
  add(
    'volunteers on an offer of another kind (goods), validly signed',
    ['schema', 'volunteers'],
    teamCtx,
    reteam((b) => {
      b.kind = 'goods';
    }),
    'E_SCHEMA',
  );
  add(
    'the same skill twice',
    ['schema', 'volunteers'],
    teamCtx,
    reteam((b) => {
      b.volunteers.skills = ['driving', 'driving'];
    }),
    'E_SCHEMA',
  );
  add(
    'an unknown skill',
    ['schema', 'volunteers', 'enum'],
    teamCtx,
    reteam((b) => {
      b.volunteers.skills = ['driving', 'flying'] as never;
    }),
    'E_SCHEMA',
  );
  add(
    'no skills',
    ['schema', 'volunteers'],
    teamCtx,
    reteam((b) => {
      b.volunteers.skills = [] as never;
    }),
    'E_SCHEMA',
  );
  add(
    'availability hours ending at 24:00 (times of day are 00:00 to 23:59)',
    ['schema', 'volunteers'],
    teamCtx,
    reteam((b) => {
      b.volunteers.availability.hours = { start: '08:00', end: '24:00' };
    }),
    'E_SCHEMA',
  );

  // ---- added for issue 18 (bundles, spec/records.md §5.20-5.22): at the end ----
  const c2Key = keyPairsFromSeeds(seedsFor('420900', 2)).signing.secretKey;
  const posted = first(C, 'bundle.posted');
  const postedCtx = chain(C, posted.seq - 1);
  const listed = (posted.body as BodyOf<'bundle.posted'>).needs[0] as string;
  add(
    'a bundle listing the same need twice',
    ['schema', 'bundles'],
    postedCtx,
    resign(
      posted,
      (u) => {
        (u.body as BodyOf<'bundle.posted'>).needs = [listed, listed];
      },
      c2Key,
    ),
    'E_SCHEMA',
  );
  add(
    'a bundle of no needs',
    ['schema', 'bundles'],
    postedCtx,
    resign(
      posted,
      (u) => {
        (u.body as BodyOf<'bundle.posted'>).needs = [] as never;
      },
      c2Key,
    ),
    'E_SCHEMA',
  );
  const updated = first(C, 'bundle.updated');
  add(
    'a bundle update that changes nothing',
    ['schema', 'bundles'],
    chain(C, updated.seq - 1),
    resign(
      updated,
      (u) => {
        u.body = { bundle: (updated.body as BodyOf<'bundle.updated'>).bundle };
      },
      c2Key,
    ),
    'E_SCHEMA',
  );
  const funded = first(P, 'bundle.funded');
  add(
    'a pledge of a fraction of a fen',
    ['schema', 'bundles', 'money'],
    chain(P, funded.seq - 1),
    resign(
      funded,
      (u) => {
        (u.body as { amountFen: number }).amountFen = 100.5;
      },
      P.hub.keys.signing.secretKey,
    ),
    'E_SCHEMA',
  );
  return out;
}

/**
 * A small deterministic world of signed records for tests, properties and the
 * resolution vectors: hubs from labelled seeds, a fixed clock, real Ed25519.
 */
import {
  Author,
  type BodyOf,
  createHub,
  type HubSeeds,
  type NewHub,
  PROTOCOL_VERSION,
  publicKeysOf,
  type RecordType,
  recordId,
  type SignedRecord,
  sha256,
  signRecord,
  type UnsignedRecord,
  utf8,
} from '@shuniu/protocol';

export const T0 = Date.UTC(2020, 0, 24, 8); // 2020-01-24T08:00:00Z
export const DAY = 24 * 3600 * 1000;
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export interface Entry {
  id: string;
  record: SignedRecord;
}

export function seedsFor(label: string, gen = 0): HubSeeds {
  const s = (k: string) => sha256(utf8(`shuniu-resolution:${label}/${k}${gen ? `#${gen}` : ''}`));
  return { signing: s('signing'), encryption: s('encryption'), recovery: s('recovery') };
}

export interface WorldHub {
  label: string;
  id: string;
  hub: NewHub;
  author: Author;
}

export class World {
  t = T0;
  readonly records: Entry[] = [];
  readonly hubs = new Map<string, WorldHub>();

  /** Every call advances the shared wall clock by one minute. */
  private readonly wall = () => (this.t += 60_000);

  hub(label: string): WorldHub {
    const existing = this.hubs.get(label);
    if (existing) return existing;
    const hub = createHub({ seeds: seedsFor(label), created: iso(T0), hlc: { ms: T0, c: 0 } });
    const author = Author.fromNewHub(hub, this.wall);
    const h = { label, id: hub.id, hub, author };
    this.hubs.set(label, h);
    this.records.push({ id: recordId(hub.inception), record: hub.inception });
    return h;
  }

  sign<T extends RecordType>(h: WorldHub, type: T, body: BodyOf<T>): string {
    const { record, id } = h.author.sign(type, body);
    this.records.push({ id, record });
    return id;
  }

  /** A second author writing from the same key at the hub's current head: the thief's branch. */
  thief(h: WorldHub): WorldHub {
    const author = new Author({ hub: h.id, secretKey: h.hub.keys.signing.secretKey, head: { ...h.author.head }, wall: this.wall });
    return { ...h, author };
  }

  /** hub.keys.rotated with recovery, branching off after `afterSeq` (whose id is `afterId`), signed with the recovery key; the new keys are generation `gen` of the hub's seeds. */
  recover(h: WorldHub, after: { seq: number; id: string; hlc: { ms: number; c: number } }, gen = 1): string {
    const next = seedsFor(h.label, gen);
    const nextHub = createHub({ seeds: next, created: iso(T0), hlc: { ms: T0, c: 0 } });
    const keys = publicKeysOf(nextHub.keys);
    const body: BodyOf<'hub.keys.rotated'> = { ...keys, recovery: { key: Buffer.from(h.hub.keys.recovery.publicKey).toString('base64url') } };
    const unsigned = {
      v: PROTOCOL_VERSION,
      type: 'hub.keys.rotated',
      hub: h.id,
      seq: after.seq + 1,
      prev: after.id,
      hlc: { ms: this.t + 60_000, c: 0 },
      body,
    } as unknown as UnsignedRecord;
    this.t += 60_000;
    const record = signRecord(unsigned, h.hub.keys.recovery.secretKey);
    const id = recordId(record);
    this.records.push({ id, record });
    h.author.head = { seq: record.seq, id, hlc: record.hlc };
    h.author.clock.observe(record.hlc);
    h.author.useKey(nextHub.keys.signing.secretKey);
    return id;
  }

  profile(h: WorldHub, level: BodyOf<'hub.profile'>['level'], region: string, zh: string): string {
    return this.sign(h, 'hub.profile', { name: { zh }, level, region, endpoints: [] });
  }

  admit(parent: WorldHub, child: WorldHub, level: BodyOf<'hub.admitted'>['level'], region: string): string {
    return this.sign(parent, 'hub.admitted', { child: child.id, level, region });
  }

  need(h: WorldHub, o: Partial<BodyOf<'need.posted'>> = {}): string {
    return this.sign(h, 'need.posted', {
      item: { code: 'PPE.MASK.N95', name: 'N95 口罩' },
      quantity: 100,
      unit: { name: 'box', base: 'piece', size: 50 },
      urgency: 'critical',
      neededBy: iso(T0 + 6 * DAY),
      region: '420902',
      beneficiaries: { group: 'medical_staff', count: 300 },
      requester: { name: '孝南区人民医院', kind: 'hospital' },
      ...o,
    });
  }

  offer(h: WorldHub, o: Partial<BodyOf<'offer.posted'>> = {}): string {
    return this.sign(h, 'offer.posted', {
      kind: 'goods',
      item: { code: 'PPE.MASK.N95', name: 'N95 口罩' },
      quantity: 2200,
      unit: { name: 'box', base: 'piece', size: 50 },
      valueFen: 55_000_000,
      donor: { name: '壹基金', kind: 'foundation' },
      intent: { regions: ['42'] },
      region: '420900',
      ...o,
    });
  }

  allocate(h: WorldHub, offer: string, need: string, quantity: number): string {
    return this.sign(h, 'allocation', { offer, need, quantity });
  }

  handoff(h: WorldHub, to: WorldHub, allocations: string[], quantity: number, o: Partial<BodyOf<'custody.handoff'>> = {}): string {
    return this.sign(h, 'custody.handoff', {
      shipment: `SH-${this.records.length}`,
      from: h.id,
      to: to.id,
      lines: [{ item: { code: 'PPE.MASK.N95', name: 'N95 口罩' }, quantity, unit: { name: 'box', base: 'piece', size: 50 } }],
      expectedArrival: iso(T0 + 2 * DAY),
      allocations,
      ...o,
    });
  }

  receipt(h: WorldHub, handoff: string, accepted: number, rejected = 0, missing = 0, o: Partial<BodyOf<'custody.receipt'>> = {}): string {
    return this.sign(h, 'custody.receipt', {
      handoff,
      lines: [{ line: 0, accepted, rejected, missing, ...(rejected > 0 ? { rejectReason: 'damaged' as const } : {}) }],
      received: iso(this.t),
      ...o,
    });
  }

  delivered(h: WorldHub, need: string, handoffs: string[], quantity: number, o: Partial<BodyOf<'custody.delivered'>> = {}): string {
    return this.sign(h, 'custody.delivered', {
      need,
      handoffs,
      lines: [{ item: { code: 'PPE.MASK.N95', name: 'N95 口罩' }, quantity, unit: { name: 'box', base: 'piece', size: 50 } }],
      recipient: { name: '孝南区人民医院', kind: 'hospital' },
      peopleServed: 300,
      delivered: iso(this.t),
      ...o,
    });
  }
}

/**
 * Hubs the suite invents: fresh keys, a chain signed with @shuniu/protocol
 * (records only: no node code), bodies valid under spec/records.md §5.
 */
import {
  Author,
  type AuthorHead,
  type BodyOf,
  createHub,
  formatTimestamp,
  type HubKeyPairs,
  keyPairsFromSeeds,
  type NewHub,
  publicKeysOf,
  type RecordType,
  randomSeeds,
  recordId,
  type Sealed,
  type SignedRecord,
} from '@shuniu/protocol';

let lastWall = 0;
/** A wall clock that never repeats a millisecond, so every hlc is later than the last. */
function wall(): number {
  lastWall = Math.max(lastWall + 1, Date.now());
  return lastWall;
}

export class SuiteHub {
  readonly hub: NewHub;
  author: Author;
  keys: HubKeyPairs;
  readonly records: SignedRecord[] = [];
  constructor() {
    const t = wall();
    this.hub = createHub({ created: formatTimestamp(Math.floor(t / 1000) * 1000), hlc: { ms: t, c: 0 } });
    this.keys = this.hub.keys;
    this.author = Author.fromNewHub(this.hub, wall);
    this.records.push(this.hub.inception);
  }
  get id(): string {
    return this.hub.id;
  }
  get inception(): SignedRecord {
    return this.hub.inception;
  }
  sign<T extends RecordType>(type: T, body: BodyOf<T>, opts: { sealed?: Sealed; sealedHash?: string } = {}): SignedRecord {
    const { record } = this.author.sign(type, body, opts);
    this.records.push(record);
    return record;
  }
  /** An author signing at the current head with the current key, without moving this hub's own head (for forks). */
  fork(): Author {
    return this.branch(this.author.head, this.keys.signing.secretKey);
  }
  /** An author at `head` signing with `secretKey`. */
  branch(head: AuthorHead, secretKey: Uint8Array): Author {
    return new Author({ hub: this.id, secretKey, head: { ...head, hlc: { ...head.hlc } }, wall });
  }
  /** Signs an ordinary rotation to fresh keys and signs with them from then on. */
  rotate(): { record: SignedRecord; old: Uint8Array } {
    const old = this.keys.signing.secretKey;
    const next = keyPairsFromSeeds(randomSeeds());
    const record = this.sign('hub.keys.rotated', publicKeysOf(next));
    this.keys = next;
    this.author.useKey(next.signing.secretKey);
    return { record, old };
  }
  /** Continues from a recovery record with its keys. */
  adoptRecovery(record: SignedRecord, keys: HubKeyPairs): void {
    this.keys = keys;
    this.author = new Author({ hub: this.id, secretKey: keys.signing.secretKey, head: { seq: record.seq, id: recordId(record), hlc: record.hlc }, wall });
    this.records.push(record);
  }
  now(): { ms: number; c: number } {
    return { ms: wall(), c: 0 };
  }
}

export function profileBody(name: string, level: BodyOf<'hub.profile'>['level'], region: string): BodyOf<'hub.profile'> {
  return { name: { zh: name, en: name }, level, region, endpoints: [] };
}

export function needBody(region: string, over: Partial<BodyOf<'need.posted'>> = {}): BodyOf<'need.posted'> {
  return {
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    quantity: 200,
    unit: { name: 'box', base: 'piece', size: 50 },
    urgency: 'critical',
    neededBy: formatTimestamp(Math.floor(Date.now() / 1000) * 1000 + 7 * 86_400_000),
    region,
    beneficiaries: { group: 'medical_staff', count: 300 },
    requester: { name: '孝南区人民医院', kind: 'hospital', region },
    ...over,
  };
}

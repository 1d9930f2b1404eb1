import { encryptionKeyPairFromSeed, type KeyPair, randomSeed, sha256, signingKeyPairFromSeed } from './crypto.js';
import { fromHex, toBase64url, toHex } from './encoding.js';
import { formatPath, ShuniuError } from './errors.js';
import { HybridClock } from './hlc.js';
import { digest, recordId, signRecord, type UnsignedRecord } from './record.js';
import { type BodyOf, type Hlc, hubInceptionBody, PROTOCOL_VERSION, type RecordType, type Sealed, type SignedRecord } from './schemas.js';

/** The public keys in force for a hub (from its inception or latest rotation). */
export interface HubKeys {
  signingKey: string;
  encryptionKey: string;
  recoveryCommitment: string;
}

/** The three 32-byte seeds a hub's keys derive from. Keep them secret; the recovery seed offline. */
export interface HubSeeds {
  signing: Uint8Array;
  encryption: Uint8Array;
  recovery: Uint8Array;
}

export interface HubKeyPairs {
  signing: KeyPair;
  encryption: KeyPair;
  recovery: KeyPair;
}

export function keyPairsFromSeeds(seeds: HubSeeds): HubKeyPairs {
  return {
    signing: signingKeyPairFromSeed(seeds.signing),
    encryption: encryptionKeyPairFromSeed(seeds.encryption),
    recovery: signingKeyPairFromSeed(seeds.recovery),
  };
}

export function randomSeeds(): HubSeeds {
  return { signing: randomSeed(), encryption: randomSeed(), recovery: randomSeed() };
}

/** Commitment to a recovery key: base64url(SHA-256(public key bytes)). */
export function recoveryCommitment(recoveryPublicKey: Uint8Array): string {
  return toBase64url(sha256(recoveryPublicKey));
}

export function publicKeysOf(pairs: HubKeyPairs): HubKeys {
  return {
    signingKey: toBase64url(pairs.signing.publicKey),
    encryptionKey: toBase64url(pairs.encryption.publicKey),
    recoveryCommitment: recoveryCommitment(pairs.recovery.publicKey),
  };
}

/**
 * Hub id: base64url(SHA-256(JCS(inception body))). It names the hub for
 * life: rotations change the keys, never the id.
 */
export function hubIdOf(inceptionBody: BodyOf<'hub.inception'>): string {
  const res = hubInceptionBody.safeParse(inceptionBody);
  if (!res.success) {
    const issues = res.error.issues.map((i) => ({ code: i.code, path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
    throw new ShuniuError('E_SCHEMA', `not a hub.inception body: ${formatPath(issues[0]?.path ?? [])}: ${issues[0]?.message}`, {
      path: issues[0]?.path ?? [],
      issues,
    });
  }
  // The body itself is hashed, not zod's copy (see parseRecord on "__proto__").
  return digest(inceptionBody);
}

/**
 * A key file (spec/keys.md §6). Seeds are hex. `recoverySeed` is optional:
 * a node's hub.key.json has none (the recovery seed lives in a separate
 * recovery key file kept offline); `shuniu keygen` writes all three.
 */
export interface KeyFile {
  hub: string;
  signingSeed: string;
  encryptionSeed: string;
  recoverySeed?: string;
  created: string;
}

/** A recovery key file (spec/keys.md §6): the recovery seed alone, kept offline; `recoveryCommitment` tells generations apart. */
export interface RecoveryKeyFile {
  hub: string;
  recoverySeed: string;
  recoveryCommitment?: string;
  created: string;
}

/** The seeds of a key file: the recovery seed only when the file holds one. */
export type KeyFileSeeds = Omit<HubSeeds, 'recovery'> & { recovery?: Uint8Array };

/** @throws ShuniuError E_KEY when a seed present is not 32 bytes of hex */
export function seedsFromKeyFile(f: KeyFile & { recoverySeed: string }): HubSeeds;
export function seedsFromKeyFile(f: KeyFile): KeyFileSeeds;
export function seedsFromKeyFile(f: KeyFile): KeyFileSeeds {
  const s: KeyFileSeeds = { signing: seedOf(f.signingSeed, 'signingSeed'), encryption: seedOf(f.encryptionSeed, 'encryptionSeed') };
  if (f.recoverySeed !== undefined) s.recovery = seedOf(f.recoverySeed, 'recoverySeed');
  return s;
}

/** The recovery seed of a recovery key file (or of a full key file). */
export function recoverySeedFromFile(f: { recoverySeed?: unknown }): Uint8Array {
  return seedOf(f.recoverySeed, 'recoverySeed');
}

function seedOf(hex: unknown, name: string): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) throw new ShuniuError('E_KEY', `${name} must be 32 bytes of hex`);
  return fromHex(hex);
}

export interface NewHub {
  id: string;
  seeds: HubSeeds;
  keys: HubKeyPairs;
  inception: SignedRecord;
  keyFile: KeyFile;
}

/**
 * Creates a hub identity: keys from the given (or random) seeds and the
 * signed inception record, sequence 0 of its chain.
 *
 * @example const hub = createHub({ created: '2020-01-24T08:00:00Z', hlc: { ms: 1579852800000, c: 0 } })
 */
export function createHub(opts: { seeds?: HubSeeds; created: string; hlc: Hlc }): NewHub {
  const seeds = opts.seeds ?? randomSeeds();
  const keys = keyPairsFromSeeds(seeds);
  const body: BodyOf<'hub.inception'> = { ...publicKeysOf(keys), created: opts.created };
  const id = hubIdOf(body);
  const inception = signRecord({ v: PROTOCOL_VERSION, type: 'hub.inception', hub: id, seq: 0, prev: null, hlc: opts.hlc, body }, keys.signing.secretKey);
  return {
    id,
    seeds,
    keys,
    inception,
    keyFile: {
      hub: id,
      signingSeed: toHex(seeds.signing),
      encryptionSeed: toHex(seeds.encryption),
      recoverySeed: toHex(seeds.recovery),
      created: opts.created,
    },
  };
}

export interface AuthorHead {
  seq: number;
  id: string;
  hlc: Hlc;
}

/**
 * Writes a hub's chain: each `sign` takes the next sequence number, links
 * the previous record's id and a fresh hybrid-logical-clock time.
 *
 * @example
 * const author = Author.fromNewHub(hub, () => Date.now())
 * const { record, id } = author.sign('need.posted', body)
 */
export class Author {
  readonly hub: string;
  private secretKey: Uint8Array;
  head: AuthorHead;
  readonly clock: HybridClock;
  private readonly wall: () => number;

  constructor(opts: { hub: string; secretKey: Uint8Array; head: AuthorHead; wall: () => number }) {
    this.hub = opts.hub;
    this.secretKey = opts.secretKey;
    this.head = opts.head;
    this.clock = new HybridClock(opts.head.hlc);
    this.wall = opts.wall;
  }

  static fromNewHub(hub: NewHub, wall: () => number): Author {
    return new Author({
      hub: hub.id,
      secretKey: hub.keys.signing.secretKey,
      head: { seq: 0, id: recordId(hub.inception), hlc: hub.inception.hlc },
      wall,
    });
  }

  /** Signs the next record of this hub's chain. */
  sign<T extends RecordType>(type: T, body: BodyOf<T>, opts: { sealed?: Sealed; sealedHash?: string } = {}): { record: SignedRecord; id: string } {
    const hlc = this.clock.next(this.wall());
    const unsigned = {
      v: PROTOCOL_VERSION,
      type,
      hub: this.hub,
      seq: this.head.seq + 1,
      prev: this.head.id,
      hlc,
      body,
      ...(opts.sealedHash ? { sealedHash: opts.sealedHash } : {}),
      ...(opts.sealed ? { sealed: opts.sealed } : {}),
    } as unknown as UnsignedRecord;
    const record = signRecord(unsigned, this.secretKey);
    const id = recordId(record);
    this.head = { seq: record.seq, id, hlc };
    return { record, id };
  }

  /** Switches to a new signing key after a `hub.keys.rotated` record was signed. */
  useKey(secretKey: Uint8Array): void {
    this.secretKey = secretKey;
  }
}

/**
 * Signs a recovery rotation (spec/keys.md §5) with the recovery key of
 * `recoverySeed`: branch point `seq`, `prev` the id held at seq − 1, the
 * keys of `next` (fresh random seeds when absent) in force from it, and a
 * new recovery commitment. Checks that the seed's public key matches
 * `commitment`, the recoveryCommitment in force at seq − 1.
 *
 * @example const { record, seeds } = signRecovery({ hub, recoverySeed, commitment, seq: 4, prev, hlc })
 */
export function signRecovery(opts: { hub: string; recoverySeed: Uint8Array; commitment: string; seq: number; prev: string; hlc: Hlc; next?: HubSeeds }): {
  record: SignedRecord;
  id: string;
  seeds: HubSeeds;
  keys: HubKeyPairs;
} {
  const recovery = signingKeyPairFromSeed(opts.recoverySeed);
  if (recoveryCommitment(recovery.publicKey) !== opts.commitment)
    throw new ShuniuError('E_KEY', `this recovery key does not match the recovery commitment in force at seq ${opts.seq - 1} of hub ${opts.hub}`);
  if (!Number.isSafeInteger(opts.seq) || opts.seq < 1) throw new ShuniuError('E_ARGUMENT', 'a recovery branches off at seq 1 or later');
  const seeds = opts.next ?? randomSeeds();
  const keys = keyPairsFromSeeds(seeds);
  const body: BodyOf<'hub.keys.rotated'> = { ...publicKeysOf(keys), recovery: { key: toBase64url(recovery.publicKey) } };
  const record = signRecord(
    { v: PROTOCOL_VERSION, type: 'hub.keys.rotated', hub: opts.hub, seq: opts.seq, prev: opts.prev, hlc: opts.hlc, body },
    recovery.secretKey,
  );
  return { record, id: recordId(record), seeds, keys };
}

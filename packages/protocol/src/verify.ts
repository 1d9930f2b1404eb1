import { sha256 } from './crypto.js';
import { fromBase64url, toBase64url } from './encoding.js';
import { ShuniuError } from './errors.js';
import { compareHlc } from './hlc.js';
import { type HubKeys, hubIdOf } from './hub.js';
import { assumeVerified, checkSignature, MAX_SIGNED_BYTES, signedBytes, signedSizeError, type Verified } from './record.js';
import type { Hlc, SignedRecord } from './schemas.js';
import { sealedHashOf } from './sealed.js';

/** What a verifier must know of an author's chain: its keys and head, and the id it holds at a sequence number. */
export interface ChainView {
  keys: HubKeys;
  head: { seq: number; id: string; hlc: Hlc };
  idAt(seq: number): string | undefined;
  /**
   * The keys a record at `seq` (1 ≤ seq ≤ head.seq + 1) had to be signed
   * with: those in force after records 0…seq−1. Needed to judge a fork or a
   * recovery that branches off before a rotation; when absent, `keys` is used.
   */
  keysAt?(seq: number): HubKeys | undefined;
  /**
   * Whether the chain holds a recovery rotation at `seq` or later: a second
   * recovery branching off at or before it competes with it (spec/records.md
   * §8 step 17) and is a fork, not followed. When absent, the caller judges
   * competing recoveries itself (a node does, spec/node.md §3.1).
   */
  recoveryAtOrAfter?(seq: number): boolean;
}

export type VerifyResult =
  /** Next in the author's chain (or a recovery rotation): store and apply it. */
  | { kind: 'valid'; verified: Verified; keys: HubKeys; recovery: boolean }
  /** Same id as a record already held. */
  | { kind: 'duplicate'; id: string }
  /** Predecessor (or the author's inception) not held: hold aside and fetch it. */
  | { kind: 'gap'; id: string; error: ShuniuError }
  /** A validly signed second record at a taken sequence number: the proof is `existing` and `verified`. */
  | { kind: 'fork'; verified: Verified; existing: string; error: ShuniuError }
  | { kind: 'invalid'; id?: string; error: ShuniuError };

export interface VerifyOptions {
  /** Receiver's wall clock (ms). When given, records more than `maxSkewMs` ahead are refused with E_CLOCK_SKEW. */
  now?: number;
  /** Default 10 minutes (spec/records.md §Clock). */
  maxSkewMs?: number;
  /** The record's signed bytes, when the caller computed them already. */
  bytes?: Uint8Array;
  /**
   * The record id, when the caller computed it from the same signed bytes (a
   * node's ingest workers do): the bytes are then hashed nowhere again. They
   * are still built for the size check (spec/encoding.md §4) unless `bytes`
   * is given too.
   */
  id?: string;
  /**
   * Signature outcomes computed elsewhere (a node verifies in worker
   * threads), keyed by `${publicKey} ${recordId}`; missing keys are checked here.
   */
  checked?: ReadonlyMap<string, boolean>;
  /**
   * Whether digest(sealed) = sealedHash, when the caller compared them already
   * (a node hashes sealed parts natively, in its ingest workers); absent: here.
   */
  sealedOk?: boolean;
}

export const DEFAULT_MAX_SKEW_MS = 10 * 60 * 1000;

const invalid = (code: ConstructorParameters<typeof ShuniuError>[0], message: string, id?: string, path?: (string | number)[]): VerifyResult => ({
  kind: 'invalid',
  ...(id ? { id } : {}),
  error: new ShuniuError(code, message, path ? { path } : {}),
});

/**
 * Verifies one parsed record against what is known of its author's chain
 * (spec/records.md §8, steps 6–21). Never throws for a bad record:
 * the outcome is a result with its error code.
 *
 * @example
 * const r = verifyRecord(parseRecord(line), chains.view(record.hub))
 * if (r.kind === 'valid') chains.append(r)
 */
export function verifyRecord(record: SignedRecord, chain: ChainView | undefined, opts: VerifyOptions = {}): VerifyResult {
  let bytes = opts.bytes;
  const signed = (): Uint8Array => {
    if (bytes === undefined) bytes = signedBytes(record);
    return bytes;
  };
  const id = opts.id ?? toBase64url(sha256(signed()));
  // spec/records.md §8 step 6: the size limit is the record's own (spec/encoding.md §4).
  const size = signed().length;
  if (size > MAX_SIGNED_BYTES) return { kind: 'invalid', id, error: signedSizeError(size) };

  if (record.sealed !== undefined) {
    if (record.sealedHash === undefined) return invalid('E_SEALED', 'sealed part present without sealedHash', id, ['sealedHash']);
    if (!(opts.sealedOk ?? sealedHashOf(record.sealed) === record.sealedHash))
      return invalid('E_SEALED', 'sealed part does not match sealedHash', id, ['sealed']);
  }
  if (opts.now !== undefined && record.hlc.ms > opts.now + (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    return invalid('E_CLOCK_SKEW', `hlc ${record.hlc.ms} is more than ${opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS} ms ahead of this node's clock`, id, ['hlc']);
  }
  if (chain && chain.idAt(record.seq) === id) return { kind: 'duplicate', id };

  if (record.type === 'hub.inception') {
    if (record.seq !== 0 || record.prev !== null) return invalid('E_CHAIN', 'hub.inception must have seq 0 and prev null', id, ['seq']);
    if (hubIdOf(record.body) !== record.hub) return invalid('E_HUB_ID', 'hub id is not base64url(SHA-256(JCS(inception body)))', id, ['hub']);
    if (!(opts.checked?.get(`${record.body.signingKey} ${id}`) ?? checkSignature(record, record.body.signingKey, signed())))
      return invalid('E_SIG', 'signature does not verify with the inception signing key', id, ['sig']);
    const keys = { signingKey: record.body.signingKey, encryptionKey: record.body.encryptionKey, recoveryCommitment: record.body.recoveryCommitment };
    const verified = assumeVerified(record, id);
    if (chain) return { kind: 'fork', verified, existing: chain.idAt(0) as string, error: forkError(record, chain.idAt(0) as string, id) };
    return { kind: 'valid', verified, keys, recovery: false };
  }

  if (record.seq === 0 || record.prev === null) return invalid('E_CHAIN', 'only hub.inception may have seq 0 or prev null', id, ['seq']);
  if (!chain) return { kind: 'gap', id, error: new ShuniuError('E_GAP', `no inception held for hub ${record.hub}`, { path: ['hub'] }) };

  // Before the signature: a rotation among the missing records may have
  // changed the key, so the signature cannot be judged yet.
  if (record.seq > chain.head.seq + 1) {
    return { kind: 'gap', id, error: new ShuniuError('E_GAP', `hub ${record.hub}: seq ${record.seq} but head is ${chain.head.seq}`, { path: ['seq'] }) };
  }

  // Keys in force at the record's position, not the head's: a fork or a
  // recovery may sit before a later rotation.
  const keys = (record.seq <= chain.head.seq ? chain.keysAt?.(record.seq) : undefined) ?? chain.keys;
  const recovery = record.type === 'hub.keys.rotated' && record.body.recovery !== undefined;
  let signer = keys.signingKey;
  if (recovery && record.type === 'hub.keys.rotated' && record.body.recovery) {
    signer = record.body.recovery.key;
    if (toBase64url(sha256(fromBase64url(signer))) !== keys.recoveryCommitment) {
      return invalid('E_SIG', 'recovery key does not match the recovery commitment', id, ['body', 'recovery', 'key']);
    }
  }
  if (!(opts.checked?.get(`${signer} ${id}`) ?? checkSignature(record, signer, signed())))
    return invalid('E_SIG', `signature does not verify with the ${recovery ? 'recovery' : 'current signing'} key of hub ${record.hub}`, id, ['sig']);
  const verified = assumeVerified(record, id);

  const next = nextKeys(keys, record);
  if (recovery) {
    // A recovery rotation may branch off at any earlier record: it is how a
    // hub whose signing key was stolen cuts the thief's records off.
    if (chain.idAt(record.seq - 1) !== record.prev) return invalid('E_CHAIN', `prev is not the id held at seq ${record.seq - 1}`, id, ['prev']);
    // Two recoveries made with one recovery key compete: the chain keeps the
    // one it holds, whatever arrived last, and the other is a fork proof; which
    // one counts is the resolver's rule (spec/resolution.md §1), the same on
    // every verifier since both are kept (spec/records.md §8 step 17).
    if (record.seq <= chain.head.seq && chain.recoveryAtOrAfter?.(record.seq)) {
      const existing = chain.idAt(record.seq) as string;
      return { kind: 'fork', verified, existing, error: forkError(record, existing, id) };
    }
    return { kind: 'valid', verified, keys: next, recovery: true };
  }
  if (record.seq <= chain.head.seq) {
    const existing = chain.idAt(record.seq) as string;
    return { kind: 'fork', verified, existing, error: forkError(record, existing, id) };
  }
  if (record.prev !== chain.head.id) return invalid('E_CHAIN', `prev does not match the id of seq ${chain.head.seq}`, id, ['prev']);
  if (compareHlc(record.hlc, chain.head.hlc) <= 0) return invalid('E_CHAIN', 'hlc must be later than the previous record', id, ['hlc']);
  return { kind: 'valid', verified, keys: next, recovery: false };
}

function forkError(record: SignedRecord, existing: string, id: string): ShuniuError {
  return new ShuniuError('E_FORK', `hub ${record.hub} signed two records at seq ${record.seq}: ${existing} and ${id}`, {
    path: ['seq'],
    detail: { hub: record.hub, seq: record.seq, ids: [existing, id] },
  });
}

/**
 * Which key must sign `record` when `current` is its author's signing key
 * before it, and the signing key in force after it (spec/keys.md): an
 * inception names its own key, a recovery rotation is signed by the revealed
 * recovery key, any rotation moves the signing key on.
 *
 * @example const { signer, after } = signingKeys(record, chain?.keys.signingKey)
 */
export function signingKeys(record: SignedRecord, current: string | undefined): { signer: string | undefined; after: string | undefined } {
  if (record.type === 'hub.inception') return { signer: record.body.signingKey, after: record.body.signingKey };
  if (record.type === 'hub.keys.rotated') return { signer: record.body.recovery ? record.body.recovery.key : current, after: record.body.signingKey };
  return { signer: current, after: current };
}

/** The keys in force after a record: changed only by hub.keys.rotated. */
export function nextKeys(keys: HubKeys, record: SignedRecord): HubKeys {
  if (record.type !== 'hub.keys.rotated') return keys;
  const { signingKey, encryptionKey, recoveryCommitment } = record.body;
  return { signingKey, encryptionKey, recoveryCommitment };
}

/** Proof that a hub equivocated: two of its validly signed records with one sequence number. */
export interface ForkProof {
  hub: string;
  seq: number;
  records: [SignedRecord, SignedRecord];
}

interface MemChain {
  keys: HubKeys;
  ids: string[];
  records: SignedRecord[];
  /** keysAfter[i]: keys in force after record i. */
  keysAfter: HubKeys[];
}

/**
 * In-memory chains of many hubs: verify records in order and keep what was
 * accepted. Used by `shuniu verify`, the tests and browser tools; the node
 * keeps the same data in SQLite.
 *
 * @example const chains = new MemoryChains(); for (const r of records) chains.add(r)
 */
export class MemoryChains {
  private readonly hubs = new Map<string, MemChain>();
  readonly forks: ForkProof[] = [];

  view(hub: string): ChainView | undefined {
    const c = this.hubs.get(hub);
    if (!c) return undefined;
    const last = c.records[c.records.length - 1] as SignedRecord;
    return {
      keys: c.keys,
      head: { seq: c.ids.length - 1, id: c.ids[c.ids.length - 1] as string, hlc: last.hlc },
      idAt: (seq) => c.ids[seq],
      keysAt: (seq) => c.keysAfter[seq - 1],
      recoveryAtOrAfter: (seq) => c.records.some((r, i) => i >= seq && r.type === 'hub.keys.rotated' && r.body.recovery !== undefined),
    };
  }

  /** Verifies `input` (raw JSON text or a parsed record) and appends it when valid. */
  add(record: SignedRecord, opts: VerifyOptions = {}): VerifyResult {
    const res = verifyRecord(record, this.view(record.hub), opts);
    if (res.kind === 'valid') {
      const v = res.verified;
      const c = this.hubs.get(v.record.hub);
      if (!c) this.hubs.set(v.record.hub, { keys: res.keys, ids: [v.id], records: [v.record], keysAfter: [res.keys] });
      else {
        // A recovery rotation truncates the chain at its branch point.
        c.ids.length = v.record.seq;
        c.records.length = v.record.seq;
        c.keysAfter.length = v.record.seq;
        c.ids.push(v.id);
        c.records.push(v.record);
        c.keysAfter.push(res.keys);
        c.keys = res.keys;
      }
    } else if (res.kind === 'fork') {
      const c = this.hubs.get(res.verified.record.hub) as MemChain;
      const other = c.records[res.verified.record.seq] as SignedRecord;
      this.forks.push({ hub: res.verified.record.hub, seq: res.verified.record.seq, records: [other, res.verified.record] });
    }
    return res;
  }

  record(hub: string, seq: number): SignedRecord | undefined {
    return this.hubs.get(hub)?.records[seq];
  }
}

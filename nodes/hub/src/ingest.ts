import { hash } from 'node:crypto';
import {
  assumeVerified,
  type ChainView,
  checkSignature,
  checkSignedSize,
  fromBase64url,
  type Hlc,
  type HubKeys,
  isShuniuError,
  type JsonValue,
  jcsOfIJson,
  parseIJson,
  parseRecord,
  type RecordOf,
  ShuniuError,
  type SignedRecord,
  sha256,
  signedBytes,
  signingKeys,
  toBase64url,
  type Verified,
  verifyRecord,
} from '@shuniu/protocol';
import { type StateEngine, storedRecord } from './state.js';
import { PostgresStore } from './store/postgres.js';
import type { Store } from './store/types.js';
import type { Trust } from './trust.js';
import type { SigJob, VerifyPool } from './verify-pool.js';

import type { Ack } from './wire.js';

export type { Ack };

export interface IngestOptions {
  maxSkewMs: number;
  maxHeld: number;
  /** Records one sender may hold (spec/node.md §3.1); default maxHeld / 10. */
  maxHeldPerSource?: number;
  /** Bytes of stored text the holding area may hold (spec/node.md §3.1); default 256 MiB. */
  maxHeldBytes?: number;
  /** Bytes one sender's held records may take; default maxHeldBytes / 10. */
  maxHeldBytesPerSource?: number;
  /** Held records older than this give way when room is needed (spec/node.md §3.1); 0 or absent = never. */
  heldTtlMs?: number;
  now: () => number;
}

interface Prepared {
  index: number;
  record: SignedRecord;
  bytes: Uint8Array;
  id: string;
  /** The record's text when it is exactly JSON.stringify(record) (stored as it is). */
  json?: string;
  /** Whether digest(sealed) = sealedHash, computed natively (absent: no sealed part, or verifyRecord checks). */
  sealedOk?: boolean;
}

/** A batch read and checked as far as it can be outside the transaction; `Ingestor.commit` finishes it. */
export interface PreparedBatch {
  acks: (Ack | undefined)[];
  prepared: Prepared[];
  /** Signature outcomes keyed `${publicKey} ${recordId}` (verifyRecord's `checked`). */
  checked: Map<string, boolean>;
}

/** digest(sealed) = sealedHash, by node:crypto (spec/records.md §8 step 7): ~20× the portable SHA-256 on a large sealed part. */
function sealedOkOf(record: SignedRecord): boolean {
  return hash('sha256', jcsOfIJson(record.sealed as unknown as JsonValue), 'base64url') === record.sealedHash;
}

const sealedOpt = (p: Prepared): { sealedOk?: boolean } => (p.sealedOk === undefined ? {} : { sealedOk: p.sealedOk });

/** Default bound of the holding area in bytes of stored text (spec/node.md §3.1): 256 MiB. */
export const DEFAULT_MAX_HELD_BYTES = 256 * 1024 * 1024;

/** Batches this small are read on the main thread: a worker round trip costs more than it saves. */
const INLINE_BELOW = 16;

/** On PostgreSQL, the waits (ms) between tries of the write lock while another process commits; the last one repeats. */
const LOCK_WAITS_MS = [0, 1, 1, 2, 2, 4, 4, 8];

/**
 * An error that is not the sender's: a store failure is E_STORAGE (503), anything else not a
 * ShuniuError is E_INTERNAL (500, logged, never described). Either fails the whole request
 * before anything of it is committed; it never becomes a record's `rejected` ack.
 */
export function internalError(e: unknown): ShuniuError {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return new ShuniuError('E_STORAGE', 'the store failed while reading this batch', { cause: e });
  return new ShuniuError('E_INTERNAL', 'internal error', { cause: e });
}

const rejected = (index: number, e: unknown, id?: string): Ack => {
  if (!isShuniuError(e) || e.code === 'E_INTERNAL' || e.code === 'E_STORAGE') throw isShuniuError(e) ? e : internalError(e);
  const err = e;
  return {
    index,
    status: 'rejected',
    ...(id ? { id } : {}),
    code: err.code,
    message: err.message,
    ...(err.issues ? { issues: err.issues } : {}),
    ...(err.code === 'E_FORK' ? forkMembers(err.detail) : {}),
  };
};

/** The E_FORK members `{hub, seq, ids}` of an error's detail (spec/errors.md §1). */
export function forkMembers(detail: Record<string, unknown> | undefined): { hub: string; seq: number; ids?: string[] } | undefined {
  if (!detail || typeof detail.hub !== 'string' || typeof detail.seq !== 'number') return undefined;
  return { hub: detail.hub, seq: detail.seq, ...(Array.isArray(detail.ids) ? { ids: detail.ids as string[] } : {}) };
}

/**
 * Record types that can change which admissions count (spec/resolution.md §1):
 * admissions and revocations, rotations (a recovery moves the counting chain)
 * and profiles (a root's level and region set its admission scope).
 */
const TRUST_TYPES: ReadonlySet<string> = new Set(['hub.admitted', 'hub.admission.revoked', 'hub.keys.rotated', 'hub.profile']);

const blockedAck = (index: number, id: string, hub: string): Ack => ({
  index,
  status: 'blocked',
  id,
  code: 'E_BLOCKED',
  message: `hub ${hub} is on this node's block list`,
});

/**
 * The one path every record takes into the store, whether pushed by a peer,
 * pulled from one, or signed here by an operator: parse, check signatures in
 * worker threads, then chain checks, trust and insert in one store
 * transaction, the resolver apply after its COMMIT (spec/node.md §3.1);
 * acknowledgements after COMMIT.
 */
export class Ingestor {
  private readonly listeners = new Set<(maxOrd: number) => void>();
  /** Milliseconds spent per phase since start, for benchmarks and /v1/status. */
  readonly timings = { parse: 0, verify: 0, commit: 0, records: 0 };
  /** How many times a failed transaction made the resolver rebuild from the store (only one that applied a trust record in it does). */
  rebuilds = 0;
  /** How many times a group commit found the write lock held by another process's commit and waited (PostgreSQL; tests, benchmarks). */
  lockWaits = 0;
  /**
   * Records stored by the transaction under way, applied to the resolver
   * once it commits (the resolver's state is a function of the set, so the
   * order they are applied in does not matter). A failed commit drops them:
   * the resolver never held them, so nothing is rebuilt.
   */
  private unapplied: Verified[] = [];
  /**
   * Set when the transaction under way applied a record to the resolver
   * before its COMMIT: the records trust is computed from (admissions,
   * revocations, rotations, profiles, a recovery, fork proofs and what a
   * forked hub signs) are applied at once, with every record stored before
   * them in the transaction, so the next records of the same batch are
   * checked against the trust they make. A failed commit of such a
   * transaction rebuilds the resolver.
   */
  private appliedEarly = false;

  constructor(
    private readonly store: Store,
    private readonly pool: VerifyPool,
    private readonly trust: Trust,
    private state: StateEngine,
    private readonly opts: IngestOptions,
    private readonly reloadState: () => StateEngine,
  ) {}

  /** Called after each commit that stored something, with the new highest ingest order. */
  onCommit(fn: (maxOrd: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get engine(): StateEngine {
    return this.state;
  }

  /**
   * Ingests parsed JSON values (one per record) received from `source`
   * ("local"; a push's `hub:<id>` when its peer signature verified, else
   * `addr:<ip>`; a pulled page's peer URL), for echo suppression. `sender`
   * is who sent them, for the per-sender share of the holding area
   * (spec/node.md §3.1, §9.4); default `source`.
   */
  async ingest(values: unknown[], source: string, sender = source): Promise<Ack[]> {
    return this.enqueue(await this.prepareValues(values), source, sender);
  }

  /**
   * Ingests a pushed body: JSON text that is an array of records, whose
   * element texts are at `offs` (start/end pairs, see json-spans.ts). Throws
   * E_JSON/E_IJSON exactly as a strict parse of the whole body would.
   */
  async ingestText(text: string, offs: number[], source: string, sender = source): Promise<Ack[]> {
    return this.enqueue(await this.prepareText(text, offs, 'body'), source, sender);
  }

  /** Reads, checks schemas and verifies signatures of parsed values, without touching the store's contents. */
  async prepareValues(values: unknown[]): Promise<PreparedBatch> {
    const t0 = performance.now();
    const acks: (Ack | undefined)[] = new Array(values.length);
    const prepared: Prepared[] = [];
    values.forEach((value, index) => {
      try {
        const record = parseRecord(value);
        const bytes = signedBytes(record);
        checkSignedSize(bytes);
        const id = toBase64url(sha256(bytes));
        if (this.store.isBlocked(record.hub)) {
          acks[index] = blockedAck(index, id, record.hub);
          return;
        }
        prepared.push(
          record.sealed !== undefined && record.sealedHash !== undefined
            ? { index, record, bytes, id, sealedOk: sealedOkOf(record) }
            : { index, record, bytes, id },
        );
      } catch (e) {
        acks[index] = rejected(index, e);
      }
    });
    const t1 = performance.now();
    const checked = await this.checkSignatures(prepared);
    this.timings.parse += t1 - t0;
    this.timings.verify += performance.now() - t1;
    return { acks, prepared, checked };
  }

  /**
   * A pulled page read on the main thread (a node started without worker
   * threads): each record text stands alone, so one bad record is refused by
   * itself and the rest of the page is still read.
   */
  private async preparePageInline(text: string, offs: number[]): Promise<PreparedBatch> {
    const n = offs.length / 2;
    const values: unknown[] = new Array(n);
    const failed = new Map<number, unknown>();
    for (let i = 0; i < n; i++) {
      try {
        values[i] = parseIJson(text.slice(offs[2 * i], offs[2 * i + 1]));
      } catch (e) {
        failed.set(i, e);
      }
    }
    const batch = await this.prepareValues(values);
    for (const [i, e] of failed) batch.acks[i] = rejected(i, e);
    return batch;
  }

  /**
   * Reads record texts in the worker pool: strict parse, schema, signed
   * bytes, id and the signature check with the key each hub is expected to
   * sign with; the main thread only parses the accepted texts natively and
   * re-checks the few signatures whose expected key the workers did not know.
   * `mode` 'body': a pushed array (a text that is not I-JSON fails as a
   * whole, with the strict parser's error); 'pull': the records array of a
   * pulled page (each record stands alone).
   */
  async prepareText(text: string, offs: number[], mode: 'body' | 'pull'): Promise<PreparedBatch> {
    const n = offs.length / 2;
    if (mode === 'body' && (n < INLINE_BELOW || this.pool.threads === 0)) return this.prepareValues(parseIJson(text) as unknown[]);
    if (this.pool.isClosed) throw new ShuniuError('E_STORAGE', 'this node is closing');
    if (this.pool.threads === 0) return this.preparePageInline(text, offs);
    const t0 = performance.now();
    const chunks = await Promise.all(this.pool.prepare(text, offs, true, this.hints, this.hintVersion));
    const t1 = performance.now();
    if (mode === 'body' && chunks.some((c) => c.res.some((r) => typeof r !== 'string' && r[3] === 'j'))) {
      // The strict parser names the first fault with its offset in the whole body.
      const values = parseIJson(text);
      return this.prepareValues(values as unknown[]);
    }
    const acks: (Ack | undefined)[] = new Array(n);
    const prepared: Prepared[] = [];
    const checked = new Map<string, boolean>();
    // The block list read once a batch (one statement, not one a hub); checked again when storing.
    let blocked: Set<string> | undefined;
    const keyOf = new Map<string, string | undefined>();
    const jobs: SigJob[] = [];
    const jobKeys: string[] = [];
    let index = 0;
    for (const c of chunks) {
      for (let j = 0; j < c.res.length; j++, index++) {
        const r = c.res[j];
        if (typeof r !== 'string') {
          const [code, message, issues] = r as unknown as [ConstructorParameters<typeof ShuniuError>[0], string, unknown[] | undefined];
          // A worker's internal failure fails the request (rejected() throws it), as on the main thread.
          acks[index] = rejected(index, new ShuniuError(code, message, issues ? { issues: issues as never } : {}));
          continue;
        }
        const id = r;
        const json = text.slice(offs[2 * index], offs[2 * index + 1]);
        const record = JSON.parse(json) as SignedRecord;
        blocked ??= new Set(this.store.blocked().map((b) => b.hub));
        if (blocked.has(record.hub)) {
          acks[index] = blockedAck(index, id, record.hub);
          continue;
        }
        const bytes = c.bytes.subarray(c.boffs[j], c.boffs[j + 1]);
        const p: Prepared = c.compact[j] === 1 ? { index, record, bytes, id, json } : { index, record, bytes, id };
        if (c.sealed[j] !== 0) p.sealedOk = c.sealed[j] === 1;
        prepared.push(p);
        const key = this.expectedKey(record, keyOf);
        if (!key) continue;
        if (c.used[j] === key) {
          checked.set(`${key} ${id}`, c.ok[j] === 1);
          continue;
        }
        let pk: Uint8Array;
        let sig: Uint8Array;
        try {
          pk = fromBase64url(key);
          sig = fromBase64url(record.sig);
        } catch {
          continue;
        }
        jobs.push({ publicKey: pk, sig, message: bytes });
        jobKeys.push(`${key} ${id}`);
      }
    }
    for (const [hub, key] of keyOf) if (key) this.hint(hub, key);
    const t2 = performance.now();
    if (jobs.length > 0) {
      const results = await this.pool.verify(jobs);
      results.forEach((ok, i) => {
        checked.set(jobKeys[i] as string, ok);
      });
    }
    this.timings.verify += t1 - t0 + (performance.now() - t2);
    this.timings.parse += t2 - t1;
    return { acks, prepared, checked };
  }

  /**
   * Chain checks, trust, insert and resolver apply of a prepared batch in one
   * SQLite transaction; acknowledgements after COMMIT. Synchronous, so batches
   * commit one at a time while the workers read the next ones. `sender` as
   * in `ingest` (a pulled page: the peer's URL, which is also its `source`).
   */
  commit(batch: PreparedBatch, source: string, sender = source): Ack[] {
    this.commitAll([{ batch, source, sender }]);
    return batch.acks as Ack[];
  }

  private queue: { batch: PreparedBatch; source: string; sender: string; resolve: (acks: Ack[]) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;

  /**
   * Group commit: batches whose reading finished while a COMMIT (and its
   * fsync, synchronous=FULL) held the main thread share the next transaction,
   * so concurrent pushes pay one fsync between them instead of one each.
   * Each batch is still acknowledged only after the COMMIT that stored it.
   */
  private enqueue(batch: PreparedBatch, source: string, sender: string): Promise<Ack[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, source, sender, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      setImmediate(() => this.flush(0));
    });
  }

  private flush(tries: number): void {
    // Several processes on one PostgreSQL database: while another one holds the write lock for its
    // commit, this one waits without blocking its event loop (its workers' results, its HTTP
    // requests and the batches that join this group go on), then takes the lock in the same turn
    // as the transaction. A process that waits for the lock blocking (an operator write) is
    // queued by PostgreSQL and served first when it is released.
    const store = this.store;
    if (store instanceof PostgresStore) {
      let free = true;
      try {
        free = store.tryBegin();
      } catch {
        // The store fails: the transaction below says how.
      }
      if (!free) {
        this.lockWaits++;
        setTimeout(() => this.flush(tries + 1), LOCK_WAITS_MS[Math.min(tries, LOCK_WAITS_MS.length - 1)]);
        return;
      }
    }
    const group = this.queue;
    this.queue = [];
    this.flushing = false;
    try {
      this.commitAll(group);
    } catch (e) {
      if (store instanceof PostgresStore) store.cancelBegin();
      for (const g of group) g.reject(e);
      return;
    }
    for (const g of group) g.resolve(g.batch.acks as Ack[]);
  }

  private commitAll(group: { batch: PreparedBatch; source: string; sender: string }[]): void {
    const t2 = performance.now();
    let stored = false;
    let records = 0;
    const before = this.store.maxOrd();
    this.views.clear();
    this.heldHubs = undefined;
    this.blockedHubs = undefined;
    try {
      this.transaction(() => {
        for (const { batch, source, sender } of group) {
          const { acks, prepared, checked } = batch;
          records += acks.length;
          for (const p of prepared) {
            const ack = this.one(p, checked, source, sender);
            acks[p.index] = ack;
            if (ack.status === 'accepted') stored = true;
          }
        }
      });
      this.views.clear();
      this.heldHubs = undefined;
      this.blockedHubs = undefined;
    } catch (e) {
      this.views.clear();
      this.heldHubs = undefined;
      this.blockedHubs = undefined;
      this.erasedSome = false;
      this.hints.clear();
      this.pool.resetHints();
      if (isShuniuError(e)) throw e;
      throw new ShuniuError('E_STORAGE', 'the store could not commit this batch', { cause: e });
    }
    if (this.erasedSome) {
      this.erasedSome = false;
      this.store.flushDeleted();
    }
    const t3 = performance.now();
    this.timings.commit += t3 - t2;
    this.timings.records += records;
    // Fork proofs and a forked hub's off-chain records are stored under a refusal ack: they move the
    // ingest order all the same, and push queues and the live feed must carry them (test/sim seed 1).
    const max = stored || this.listeners.size > 0 ? this.store.maxOrd() : before;
    if (stored || max > before) for (const fn of this.listeners) fn(max);
  }

  /**
   * After the block list changed (spec/node.md §7): drops the held records of
   * every blocked hub, recomputes trust (a block cuts the hubs admitted only
   * through the blocked one; an unblock restores them) and releases what the
   * hubs trusted again held, in one transaction.
   */
  blocksChanged(): void {
    const before = this.store.maxOrd();
    this.views.clear();
    this.heldHubs = undefined;
    this.blockedHubs = undefined;
    try {
      this.transaction(() => {
        for (const b of this.store.blocked()) this.store.dropHeldOf(b.hub);
        this.retrust();
      });
    } catch (e) {
      if (isShuniuError(e)) throw e;
      throw new ShuniuError('E_STORAGE', 'the store could not commit the change of the block list', { cause: e });
    } finally {
      this.views.clear();
      this.heldHubs = undefined;
      this.blockedHubs = undefined;
    }
    const max = this.store.maxOrd();
    if (max > before) for (const fn of this.listeners) fn(max);
  }

  /**
   * Erases the sealed part of `id` on this node (operator route, CLI,
   * retention; spec/node.md §8.6): recorded as this node's own erasure, so
   * no later copy brings it back, and flushed out of the write-ahead log.
   * Whether a sealed part was there.
   */
  eraseHere(id: string, reason: string): boolean {
    const erased = this.store.transaction(() => {
      this.store.addErasure(id, '', '', reason, this.opts.now());
      return this.store.eraseSealed(id);
    });
    this.store.flushDeleted();
    return erased;
  }

  /**
   * One store transaction whose stored records reach the resolver after its
   * COMMIT. A rollback drops them; only when a record was applied before the
   * COMMIT (`appliedEarly`) is the resolver rebuilt from the store, and trust with it.
   */
  private transaction(fn: () => void): void {
    this.unapplied = [];
    this.appliedEarly = false;
    try {
      this.store.transaction(fn);
    } catch (e) {
      this.unapplied = [];
      if (this.appliedEarly) {
        this.appliedEarly = false;
        this.rebuilds++;
        this.state = this.reloadState();
        this.trust.recompute();
      }
      throw e;
    }
    const committed = this.unapplied;
    this.unapplied = [];
    this.appliedEarly = false;
    try {
      for (const v of committed) this.state.apply(v);
    } catch (e) {
      // The records are stored: the resolver must hold them, whatever failed while applying them here.
      this.rebuilds++;
      this.state = this.reloadState();
      this.trust.recompute();
      throw internalError(e);
    }
  }

  /**
   * Applies a record before its COMMIT, because trust is computed from it (see
   * `appliedEarly`), with the records stored before it in the transaction (an
   * admission counts only on its admitter's chain, which they may extend).
   */
  private applyNow(v: Verified): void {
    this.appliedEarly = true;
    const before = this.unapplied;
    this.unapplied = [];
    for (const u of before) this.state.apply(u);
    this.state.apply(v);
  }

  /**
   * Records another node process committed to the same database (PostgreSQL,
   * docs/deploy.md): applied to the resolver (applying a record twice changes
   * nothing), trust recomputed where they can change it (as after a commit
   * here: a record of a type in TRUST_TYPES, or of a hub with a fork proof
   * stored), and the commit listeners (live feed, push queues) told.
   */
  applyCommitted(rows: readonly { id: string; hub: string; type: string; json: string }[], maxOrd: number): void {
    for (const r of rows) this.state.apply(storedRecord(r.json, r.id));
    this.views.clear();
    this.heldHubs = undefined;
    this.blockedHubs = undefined;
    let retrust = rows.some((r) => TRUST_TYPES.has(r.type));
    if (!retrust && rows.length > 0) {
      const forked = new Set(this.store.forks().map((f) => f.hub));
      retrust = forked.size > 0 && rows.some((r) => forked.has(r.hub));
    }
    if (retrust) this.trust.recompute();
    for (const fn of this.listeners) fn(maxOrd);
  }

  /** Recomputes trust; the hubs it newly trusts get what they had held released. */
  private retrust(): void {
    const before = new Set(this.trust.list());
    this.trust.recompute();
    for (const hub of this.trust.list()) {
      if (before.has(hub)) continue;
      this.releaseHeld(hub, (this.store.chainView(hub)?.head.seq ?? -1) + 1);
    }
  }

  /**
   * Signing keys each hub is expected to sign its next record with, as of
   * the batches read so far (committed or not): hints for the workers, so
   * they can check signatures before the chain is known. A wrong hint only
   * costs a second check; verifyRecord decides.
   */
  private readonly hints = new Map<string, { key: string; v: number }>();
  private hintVersion = 0;

  private hint(hub: string, key: string): void {
    if (this.hints.get(hub)?.key === key) return;
    if (this.hints.size >= 100_000) {
      this.hints.clear();
      this.pool.resetHints();
    }
    this.hints.set(hub, { key, v: ++this.hintVersion });
  }

  /** The key `r` should verify with, guessed from the batch so far, the hints and the store (updates `keyOf`). */
  private expectedKey(r: SignedRecord, keyOf: Map<string, string | undefined>): string | undefined {
    if (!keyOf.has(r.hub)) keyOf.set(r.hub, this.hints.get(r.hub)?.key ?? this.store.chainView(r.hub)?.keys.signingKey);
    const { signer, after } = signingKeys(r, keyOf.get(r.hub));
    keyOf.set(r.hub, after);
    return signer;
  }

  private async checkSignatures(prepared: Prepared[]): Promise<Map<string, boolean>> {
    // Guess each record's signing key from the stored chain and the batch
    // itself, so the expensive checks run in parallel before the
    // transaction; verifyRecord checks inline whatever was guessed wrong.
    const keyOf = new Map<string, string | undefined>();
    const jobs: SigJob[] = [];
    const keys: string[] = [];
    for (const p of prepared) {
      const r = p.record;
      const key = this.expectedKey(r, keyOf);
      if (!key) continue;
      let pk: Uint8Array;
      let sig: Uint8Array;
      try {
        pk = fromBase64url(key);
        sig = fromBase64url(r.sig);
      } catch {
        continue;
      }
      jobs.push({ publicKey: pk, sig, message: p.bytes });
      keys.push(`${key} ${p.id}`);
    }
    const results = await this.pool.verify(jobs);
    const out = new Map<string, boolean>();
    results.forEach((ok, i) => {
      out.set(keys[i] as string, ok);
    });
    return out;
  }

  /**
   * Chain views during one commit: head and keys kept in memory and moved on
   * by each append (the store's own view reads its hubs row per call); ids
   * and keys at a position still come from the store. Nothing unsuperseded
   * lies above a head, so ids above it need no query.
   */
  private views = new Map<string, ChainView | undefined>();
  /** Hubs with held records, during one commit (loaded on first use). */
  private heldHubs: Set<string> | undefined;
  /** The block list, during one commit (loaded on first use): checked at the moment of storing (spec/node.md §7). */
  private blockedHubs: Set<string> | undefined;

  private isBlocked(hub: string): boolean {
    if (!this.blockedHubs) this.blockedHubs = new Set(this.store.blocked().map((b) => b.hub));
    return this.blockedHubs.has(hub);
  }

  private chainOf(hub: string): ChainView | undefined {
    if (this.views.has(hub)) return this.views.get(hub);
    const v = this.store.chainView(hub);
    if (!v) {
      this.views.set(hub, undefined);
      return undefined;
    }
    const view: ChainView = { ...v, idAt: (seq) => (seq > view.head.seq ? undefined : v.idAt(seq)) };
    this.views.set(hub, view);
    return view;
  }

  private mayHoldFor(hub: string): boolean {
    if (!this.heldHubs) this.heldHubs = new Set(this.store.heldHubs().map((h) => h.hub));
    return this.heldHubs.has(hub);
  }

  private one(p: Prepared, checked: Map<string, boolean>, source: string, sender: string): Ack {
    const { index, record, id } = p;
    // Again at the moment of storing: the hub may have been blocked since the batch was read.
    if (this.isBlocked(record.hub)) return blockedAck(index, id, record.hub);
    const res = verifyRecord(record, this.chainOf(record.hub), {
      now: this.opts.now(),
      maxSkewMs: this.opts.maxSkewMs,
      id,
      bytes: p.bytes,
      checked,
      ...sealedOpt(p),
    });
    switch (res.kind) {
      case 'duplicate':
        return this.duplicate(p, source);
      case 'invalid':
        if (res.error.code === 'E_CHAIN' || res.error.code === 'E_SIG') {
          // A record this node stores is a duplicate whatever the chain says now: one a recovery
          // cut off, sent again, no longer verifies against the keys in force (spec/keys.md §5).
          if (this.store.hasRecord(id)) return this.duplicate(p, source);
          this.offChainOfForked(record, id, source);
        }
        return rejected(index, res.error, id);
      case 'fork':
        if (this.store.hasRecord(id)) return this.duplicate(p, source);
        this.keepForkProof(res.verified, res.existing, source);
        return rejected(index, res.error, id);
      case 'gap': {
        if (this.store.hasRecord(id)) return this.duplicate(p, source);
        if (this.offChainOfForked(record, id, source)) return rejected(index, res.error, id);
        // Nothing unverified is held when it can be checked: with the
        // author's chain known, the signature must verify with the keys in
        // force at the head (spec/node.md §3.1).
        const chain = this.chainOf(record.hub);
        if (!chain) return this.holdStranger(p, checked, source, sender, res.error);
        if (chain && !this.signedAtHead(p, chain, checked)) {
          return rejected(
            index,
            new ShuniuError(
              'E_GAP',
              `${res.error.message}; not held: its signature does not verify with the keys of hub ${record.hub} at seq ${chain.head.seq} (fetch the records before it first)`,
            ),
            id,
          );
        }
        const refused = this.hold(p, source, sender, res.error);
        if (refused) return rejected(index, refused, id);
        return { index, status: 'held', id, code: 'E_GAP', message: res.error.message };
      }
      case 'valid': {
        if (!this.trust.accepts(record.hub)) {
          // Kept aside until an admission reaches this node: records travel
          // in any order, and the admission may come later or from elsewhere.
          const err = new ShuniuError('E_NOT_ADMITTED', `hub ${record.hub} is not admitted by a chain of hub.admitted records from a trusted root`);
          // Verified along its chain: a link its hub's next records can be checked against while held.
          const refused = this.hold(p, source, sender, err, { keys: res.keys, hlc: record.hlc });
          if (refused) return rejected(index, refused, id);
          return { index, status: 'held', id, code: 'E_NOT_ADMITTED', message: err.message };
        }
        if (res.recovery && source !== 'local' && record.hub === this.trust.self) return this.foreignRecovery(res.verified, index, source);
        if (res.recovery && this.competesWithRecovery(record)) return this.foreignRecovery(res.verified, index, source, 'competes with a recovery held here');
        const ord = this.append(res.verified, res.keys, res.recovery, source, p.json);
        this.hint(record.hub, res.keys.signingKey);
        if (this.mayHoldFor(record.hub)) this.releaseHeld(record.hub, record.seq + 1);
        return { index, status: 'accepted', id, ord };
      }
    }
  }

  /**
   * Whether the chain held here has a recovery rotation at or after the
   * branch point of `r` (itself a recovery): two recoveries made with the
   * same recovery key compete (spec/keys.md §5.1), and which one counts is
   * the resolver's rule, not arrival order. The node follows the first it
   * stored and keeps the other as a fork proof.
   */
  private competesWithRecovery(r: SignedRecord): boolean {
    const chain = this.chainOf(r.hub);
    if (!chain) return false;
    for (let s = r.seq; s <= chain.head.seq; s++) {
      const id = chain.idAt(s);
      const row = id === undefined ? undefined : this.store.recordById(id);
      if (!row || row.type !== 'hub.keys.rotated') continue;
      if ((JSON.parse(row.json) as RecordOf<'hub.keys.rotated'>).body.recovery) return true;
    }
    return false;
  }

  /**
   * A record this node already stores (spec/node.md §3.1). A copy whose
   * sealed part matches the signed sealedHash (verifyRecord checked it)
   * restores a stored copy that arrived without one: a stripped copy must
   * not win by arriving first. The restored record moves to a new ingest
   * order, so feeds and push queues carry it again. An erasure in force
   * here keeps it erased: removing a sealed part is an authorised act only.
   */
  private duplicate(p: Prepared, source: string): Ack {
    const { index, id, record } = p;
    if (record.sealed === undefined || record.sealedHash === undefined) return { index, status: 'duplicate', id };
    if (this.erasedHere(record, id)) return { index, status: 'duplicate', id };
    const ord = this.store.restoreSealed(id, p.json ?? JSON.stringify(record), source);
    if (ord === undefined) return { index, status: 'duplicate', id };
    return { index, status: 'accepted', id, ord };
  }

  /**
   * Whether an erasure of `record`'s sealed part is in force on this node:
   * one made here (operator, retention), or a sealed.erased record signed by
   * the record's author or by a hub its sealed part names (spec/records.md §7.3).
   */
  private erasedHere(record: SignedRecord, id: string): boolean {
    const by = this.store.erasuresOf(id);
    if (by.length === 0) return false;
    return by.some((h) => h === '' || h === record.hub || (record.sealed?.to.some((t) => t.hub === h) ?? false));
  }

  /** The record as this node may keep it: without its sealed part when an erasure of it is in force here. */
  private unerased(v: Verified): { v: Verified; erased: boolean } {
    if (v.record.sealed === undefined || !this.erasedHere(v.record, v.id)) return { v, erased: false };
    const { sealed: _s, ...rest } = v.record;
    return { v: assumeVerified(rest as SignedRecord, v.id), erased: true };
  }

  /**
   * A stored sealed.erased record (spec/records.md §7.3): the erasure is
   * recorded, whether or not its target is here yet, and carried out at once
   * where the target is stored with a sealed part its author may erase.
   */
  private requestErasure(by: string, request: string, target: string, reason: string): void {
    this.store.addErasure(target, by, request, reason, this.opts.now());
    const stored = this.store.recordById(target);
    if (!stored) return;
    const r = JSON.parse(stored.json) as SignedRecord;
    if (r.sealed === undefined || !this.erasedHere(r, target)) return;
    if (this.store.eraseSealed(target)) this.erasedSome = true;
  }

  /** Set when a commit erased a sealed part: the write-ahead log is flushed after it (spec/node.md §8.6). */
  private erasedSome = false;

  /**
   * A recovery rotation of this node's own hub that this node did not sign:
   * only `shuniu recover` on this data directory signs one (stored as
   * "local"), so this one was made with a copied recovery seed. It never
   * moves this node's chain (the node would lose its keys to whoever made
   * it); where it competes with a record held here it is kept as a fork
   * proof and applied, so the resolver weighs it against this node's own
   * recovery (spec/keys.md §5.1). Refused with E_FORK.
   */
  private foreignRecovery(v: Verified, index: number, source: string, why = "of this node's own hub, signed elsewhere"): Ack {
    const { record, id } = v;
    const existing = this.chainOf(record.hub)?.idAt(record.seq);
    if (existing !== undefined && !this.store.hasRecord(id)) this.keepForkProof(v, existing, source);
    return rejected(
      index,
      new ShuniuError('E_FORK', `recovery rotation of hub ${record.hub} at seq ${record.seq} ${why}: kept as a fork proof, not followed`, {
        detail: { hub: record.hub, seq: record.seq, ...(existing === undefined ? {} : { ids: [existing, id] }) },
      }),
      id,
    );
  }

  /**
   * Puts a record in the holding area, within the sender's share and the
   * whole area's bound; the error to refuse it with when one is reached.
   */
  private hold(p: Prepared, source: string, sender: string, why: ShuniuError, link?: { keys: HubKeys; hlc: Hlc }): ShuniuError | undefined {
    const { record, id } = p;
    const max = this.opts.maxHeld;
    const perSender = this.opts.maxHeldPerSource ?? Math.ceil(max / 10);
    const maxBytes = this.opts.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
    const perSenderBytes = this.opts.maxHeldBytesPerSource ?? Math.ceil(maxBytes / 10);
    const row = { id, hub: record.hub, seq: record.seq, json: p.json ?? JSON.stringify(record), source, sender, ...(link ? { link } : {}) };
    const kept = this.store.hold(row, this.opts.now(), { max, perSender, maxBytes, perSenderBytes, ttlMs: this.opts.heldTtlMs ?? 0 });
    if (kept === 'held') {
      this.heldHubs?.add(record.hub);
      return undefined;
    }
    if (kept === 'sender')
      return new ShuniuError(
        'E_RATE_LIMITED',
        `${why.message}; not held: ${sender} already has ${perSender} records held here (send the records before them first)`,
      );
    if (kept === 'senderBytes')
      return new ShuniuError(
        'E_RATE_LIMITED',
        `${why.message}; not held: ${sender}'s held records would take more than ${perSenderBytes} bytes here (send the records before them first)`,
      );
    if (kept === 'fullBytes') return new ShuniuError(why.code, `${why.message}; not held: this node's holding area is full (${maxBytes} bytes)`);
    return new ShuniuError(why.code, `${why.message}; this node holds no more out-of-order records`);
  }

  /**
   * A record of a hub whose inception this node does not store (a stranger,
   * spec/node.md §3.1) is held only when it continues the hub's held chain:
   * its predecessor (`prev`) is held here, itself verified along that chain
   * from the hub's inception, and the record verifies against what that
   * leaves in force (signature with the keys in force, prev, hlc). So a
   * stranger's records are held only in seq order from its inception, each
   * verified; anything else is refused, never kept unchecked.
   */
  private holdStranger(p: Prepared, checked: Map<string, boolean>, source: string, sender: string, why: ShuniuError): Ack {
    const { index, record, id } = p;
    if (this.store.hasHeld(id)) {
      // A copy held without its sealed part takes this copy's (spec/node.md §3.1): the upsert of `hold` replaces its text.
      if (record.sealed !== undefined) this.hold(p, source, sender, why);
      return { index, status: 'held', id, code: 'E_GAP', message: why.message };
    }
    const link = record.prev === null ? undefined : this.store.heldLink(record.prev);
    if (!link || link.hub !== record.hub || link.seq !== record.seq - 1) {
      return rejected(
        index,
        new ShuniuError(
          'E_GAP',
          `${why.message}; not held: no verifiable inception chain (this node holds hub ${record.hub}'s records only in seq order from its inception)`,
        ),
        id,
      );
    }
    const view: ChainView = { keys: link.keys, head: { seq: link.seq, id: link.id, hlc: link.hlc }, idAt: (seq) => (seq === link.seq ? link.id : undefined) };
    const res = verifyRecord(record, view, { now: this.opts.now(), maxSkewMs: this.opts.maxSkewMs, id, bytes: p.bytes, checked, ...sealedOpt(p) });
    if (res.kind !== 'valid') {
      const cause = res.kind === 'invalid' ? `${res.error.code}: ${res.error.message}` : res.kind;
      return rejected(
        index,
        new ShuniuError('E_GAP', `${why.message}; not held: it does not continue the verified inception chain held for hub ${record.hub} (${cause})`),
        id,
      );
    }
    const refused = this.hold(p, source, sender, why, { keys: res.keys, hlc: record.hlc });
    if (refused) return rejected(index, refused, id);
    return { index, status: 'held', id, code: 'E_GAP', message: why.message };
  }

  /**
   * Whether a record beyond the head verifies with the keys in force at the
   * head: the signing key, or for a recovery rotation the recovery key
   * matching the head's commitment. Only a rotation among the missing
   * records makes a genuine one fail, and catch-up fetches those first.
   */
  private signedAtHead(p: Prepared, chain: ChainView, checked: Map<string, boolean>): boolean {
    const r = p.record;
    let signer = chain.keys.signingKey;
    if (r.type === 'hub.keys.rotated' && r.body.recovery) {
      signer = r.body.recovery.key;
      let commitment: string;
      try {
        commitment = toBase64url(sha256(fromBase64url(signer)));
      } catch {
        return false;
      }
      if (commitment !== chain.keys.recoveryCommitment) return false;
    }
    return checked.get(`${signer} ${p.id}`) ?? checkSignature(r, signer, p.bytes);
  }

  /**
   * A fork's second record is stored beside the chain and applied to the
   * resolver, so that every node, whichever branch it saw first, ends with
   * both records, marks the hub forked (spec/resolution.md §1) and forwards
   * the proof to its peers.
   */
  private keepForkProof(given: Verified, existing: string, source: string): void {
    const { v } = this.unerased(given);
    const now = this.opts.now();
    this.store.addFork(v.record.hub, v.record.seq, existing, v, now);
    this.store.appendOffChain(v, { source, now });
    this.applyNow(v);
    // A fork cuts the hub's counting chain, and with it the admissions it signed after the fork.
    this.retrust();
  }

  /**
   * Once a hub has forked, the records that continue the branch this node
   * does not follow fail the chain checks here (E_CHAIN, E_GAP) but are kept
   * the same way when the hub's key signed them: they count for nothing in
   * the resolver, and holding the same set keeps every node's state equal.
   */
  private offChainOfForked(record: SignedRecord, id: string, source: string): boolean {
    if (!this.store.hasFork(record.hub)) return false;
    const chain = this.chainOf(record.hub);
    if (!chain) return false;
    if (record.seq === 0) return false;
    // Signed by the hub's current key, or by a key it announced on another
    // branch held here (a competing recovery's): the resolver decides which counts.
    if (
      !checkSignature(record, chain.keys.signingKey) &&
      !this.store.signingKeysOf(record.hub).some((k) => k !== chain.keys.signingKey && checkSignature(record, k))
    )
      return false;
    const { v } = this.unerased(assumeVerified(record, id));
    this.store.appendOffChain(v, { source, now: this.opts.now() });
    this.applyNow(v);
    if (TRUST_TYPES.has(record.type)) this.retrust();
    return true;
  }

  private append(given: Verified, keys: Parameters<Store['appendRecord']>[1], recovery: boolean, source: string, text?: string): number {
    const { v, erased } = this.unerased(given);
    const json = erased ? undefined : text;
    const ord = this.store.appendRecord(v, keys, { source, recovery, now: this.opts.now(), ...(json === undefined ? {} : { json }) });
    const r = v.record;
    if (r.type === 'sealed.erased') this.requestErasure(r.hub, v.id, r.body.record, r.body.reason ?? '');
    const view = this.views.get(r.hub);
    if (view) {
      view.keys = keys;
      view.head = { seq: r.seq, id: v.id, hlc: r.hlc };
    } else this.views.delete(r.hub);
    // The admissions that count may have changed: trust follows the resolver at once (spec/node.md §7).
    if (recovery || TRUST_TYPES.has(r.type)) {
      this.applyNow(v);
      this.retrust();
    } else this.unapplied.push(v);
    return ord;
  }

  /** Applies held records that now continue their chain, one sequence number after another. */
  private releaseHeld(hub: string, seq: number): void {
    if (this.isBlocked(hub)) {
      // Never stored, whatever admits it: what it had here goes (spec/node.md §7).
      this.store.dropHeldOf(hub);
      return;
    }
    for (let next = seq; ; next++) {
      const rows = this.store.heldFor(hub, next);
      if (rows.length === 0) return;
      let advanced = false;
      for (const row of rows) {
        if (advanced) {
          this.store.dropHeld(row.id);
          continue;
        }
        let record: SignedRecord;
        try {
          record = parseRecord(JSON.parse(row.json));
        } catch {
          this.store.dropHeld(row.id);
          continue;
        }
        const chain: ChainView | undefined = this.store.chainView(hub);
        const res = verifyRecord(record, chain, { now: this.opts.now(), maxSkewMs: this.opts.maxSkewMs });
        if (res.kind === 'valid' && !this.trust.accepts(hub)) continue;
        this.store.dropHeld(row.id);
        if (res.kind === 'valid' && res.recovery && ((row.source !== 'local' && hub === this.trust.self) || this.competesWithRecovery(record))) {
          this.foreignRecovery(res.verified, 0, row.source, hub === this.trust.self ? undefined : 'competes with a recovery held here');
          continue;
        }
        if (res.kind === 'valid') {
          this.append(res.verified, res.keys, res.recovery, row.source);
          advanced = true;
        } else if (res.kind === 'fork' && !this.store.hasRecord(res.verified.id)) {
          this.keepForkProof(res.verified, res.existing, row.source);
        }
      }
      if (!advanced) return;
    }
  }
}

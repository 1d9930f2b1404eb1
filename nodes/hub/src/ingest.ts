import {
  type ChainView,
  fromBase64url,
  isShuniuError,
  parseRecord,
  ShuniuError,
  type SignedRecord,
  sha256,
  signedBytes,
  toBase64url,
  type Verified,
  verifyRecord,
} from '@shuniu/protocol';
import type { StateEngine } from './state.js';
import type { Store } from './store/types.js';
import type { Trust } from './trust.js';
import type { SigJob, VerifyPool } from './verify-pool.js';

/**
 * Outcome for one record of a pushed batch (spec/node.md §Acknowledgements).
 * `accepted` is only ever sent after the batch's transaction committed.
 */
export type Ack =
  | { index: number; status: 'accepted'; id: string; ord: number }
  | { index: number; status: 'duplicate'; id: string }
  | { index: number; status: 'held'; id: string; code: 'E_GAP' | 'E_NOT_ADMITTED'; message: string }
  | { index: number; status: 'blocked'; id: string; code: 'E_BLOCKED'; message: string }
  | { index: number; status: 'rejected'; id?: string; code: string; message: string; issues?: unknown[] };

export interface IngestOptions {
  maxSkewMs: number;
  maxHeld: number;
  now: () => number;
}

interface Prepared {
  index: number;
  record: SignedRecord;
  bytes: Uint8Array;
  id: string;
}

const rejected = (index: number, e: unknown, id?: string): Ack => {
  const err = isShuniuError(e) ? e : new ShuniuError('E_SCHEMA', 'record could not be read');
  return {
    index,
    status: 'rejected',
    ...(id ? { id } : {}),
    code: err.code,
    message: err.message,
    ...(err.issues ? { issues: err.issues } : {}),
  };
};

/**
 * The one path every record takes into the store, whether pushed by a peer,
 * pulled from one, or signed here by an operator: parse, check signatures in
 * worker threads, then chain checks, trust, insert and resolver apply in one
 * SQLite transaction; acknowledgements after COMMIT.
 */
export class Ingestor {
  private readonly listeners = new Set<(maxOrd: number) => void>();
  /** Milliseconds spent per phase since start, for benchmarks and /v1/status. */
  readonly timings = { parse: 0, verify: 0, commit: 0, records: 0 };

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

  /** Ingests parsed JSON values (one per record) received from `source` ("local" or a peer URL or address). */
  async ingest(values: unknown[], source: string): Promise<Ack[]> {
    const t0 = performance.now();
    const acks: (Ack | undefined)[] = new Array(values.length);
    const prepared: Prepared[] = [];
    values.forEach((value, index) => {
      try {
        const record = parseRecord(value);
        const bytes = signedBytes(record);
        const id = toBase64url(sha256(bytes));
        if (this.store.isBlocked(record.hub)) {
          acks[index] = { index, status: 'blocked', id, code: 'E_BLOCKED', message: `hub ${record.hub} is on this node's block list` };
          return;
        }
        prepared.push({ index, record, bytes, id });
      } catch (e) {
        acks[index] = rejected(index, e);
      }
    });

    const t1 = performance.now();
    const checked = await this.checkSignatures(prepared);
    const t2 = performance.now();
    let stored = false;
    try {
      this.store.transaction(() => {
        for (const p of prepared) {
          const ack = this.one(p, checked, source);
          acks[p.index] = ack;
          if (ack.status === 'accepted') stored = true;
        }
      });
    } catch (e) {
      // The transaction rolled back; the in-memory state may hold records that
      // are not stored, so it is rebuilt from the last checkpoint.
      this.state = this.reloadState();
      if (isShuniuError(e)) throw e;
      throw new ShuniuError('E_STORAGE', 'the store could not commit this batch', { cause: e });
    }
    const t3 = performance.now();
    this.timings.parse += t1 - t0;
    this.timings.verify += t2 - t1;
    this.timings.commit += t3 - t2;
    this.timings.records += values.length;
    if (stored) {
      const max = this.store.maxOrd();
      for (const fn of this.listeners) fn(max);
    }
    return acks as Ack[];
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
      let key: string | undefined;
      if (!keyOf.has(r.hub)) keyOf.set(r.hub, this.store.chainView(r.hub)?.keys.signingKey);
      if (r.type === 'hub.inception') {
        key = r.body.signingKey;
        keyOf.set(r.hub, key);
      } else if (r.type === 'hub.keys.rotated') {
        key = r.body.recovery ? r.body.recovery.key : keyOf.get(r.hub);
        keyOf.set(r.hub, r.body.signingKey);
      } else key = keyOf.get(r.hub);
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

  private one(p: Prepared, checked: Map<string, boolean>, source: string): Ack {
    const { index, record, id } = p;
    const chain = this.store.chainView(record.hub);
    const res = verifyRecord(record, chain, { now: this.opts.now(), maxSkewMs: this.opts.maxSkewMs, bytes: p.bytes, checked });
    switch (res.kind) {
      case 'duplicate':
        return { index, status: 'duplicate', id };
      case 'invalid':
        return rejected(index, res.error, id);
      case 'fork':
        this.store.addFork(record.hub, record.seq, res.existing, res.verified, this.opts.now());
        return rejected(index, res.error, id);
      case 'gap': {
        if (this.store.hasRecord(id)) return { index, status: 'duplicate', id };
        const kept = this.store.hold({ id, hub: record.hub, seq: record.seq, json: JSON.stringify(record), source }, this.opts.now(), this.opts.maxHeld);
        if (!kept) return rejected(index, new ShuniuError('E_GAP', `${res.error.message}; this node holds no more out-of-order records`), id);
        return { index, status: 'held', id, code: 'E_GAP', message: res.error.message };
      }
      case 'valid': {
        if (!this.trust.accepts(record.hub)) {
          // Kept aside until an admission reaches this node: records travel
          // in any order, and the admission may come later or from elsewhere.
          const err = new ShuniuError('E_NOT_ADMITTED', `hub ${record.hub} is not admitted by a chain of hub.admitted records from a trusted root`);
          const kept = this.store.hold({ id, hub: record.hub, seq: record.seq, json: JSON.stringify(record), source }, this.opts.now(), this.opts.maxHeld);
          if (!kept) return rejected(index, err, id);
          return { index, status: 'held', id, code: 'E_NOT_ADMITTED', message: err.message };
        }
        const ord = this.append(res.verified, res.keys, res.recovery, source);
        this.releaseHeld(record.hub, record.seq + 1);
        return { index, status: 'accepted', id, ord };
      }
    }
  }

  private append(v: Verified, keys: Parameters<Store['appendRecord']>[1], recovery: boolean, source: string): number {
    const ord = this.store.appendRecord(v, keys, { source, recovery, now: this.opts.now() });
    if (v.record.type === 'hub.admitted') {
      this.store.addAdmission(v.record.body.child, v.record.hub, v.id);
      const before = this.trust.list();
      this.trust.recompute();
      this.state.apply(v);
      // Newly trusted hubs: apply what was held for want of their admission.
      for (const hub of this.trust.list()) {
        if (before.includes(hub)) continue;
        this.releaseHeld(hub, (this.store.chainView(hub)?.head.seq ?? -1) + 1);
      }
      return ord;
    }
    this.state.apply(v);
    return ord;
  }

  /** Applies held records that now continue their chain, one sequence number after another. */
  private releaseHeld(hub: string, seq: number): void {
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
        if (res.kind === 'valid') {
          this.append(res.verified, res.keys, res.recovery, row.source);
          advanced = true;
        } else if (res.kind === 'fork') {
          this.store.addFork(hub, record.seq, res.existing, res.verified, this.opts.now());
        }
      }
      if (!advanced) return;
    }
  }
}

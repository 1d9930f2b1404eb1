import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ed25519Verify } from '@shuniu/protocol';
import type { PrepMessage, PrepReply } from './ingest-worker.js';
import type { Runtime } from './runtime.js';
import { compiledWorker } from './worker-file.js';

/** One Ed25519 check: does `sig` sign `message` under `publicKey`? */
export interface SigJob {
  publicKey: Uint8Array;
  sig: Uint8Array;
  message: Uint8Array;
}

/** What the workers made of one chunk of record texts (see ingest-worker.ts). */
export type PreparedChunk = PrepReply;

interface Pending {
  resolve: (v: never) => void;
  reject: (e: unknown) => void;
  /** The worker it was sent to and the records it holds (its share of that worker's load). */
  k: number;
  n: number;
}

/**
 * The ingest worker pool: record texts go to worker threads, which parse
 * them (I-JSON, schema), compute signed bytes and ids and check signatures,
 * so a pushed batch or a pulled page uses every core while the main thread
 * only runs chain checks, SQLite and the resolver. Also plain Ed25519 jobs.
 * Small jobs are checked inline: a round trip costs more than it saves.
 */
/** A verify worker's heap, MiB (spec/node.md §7): old generation and young generation. */
const VERIFY_HEAP = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 8 };

export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Per worker: version of the key hints it has been sent. */
  private readonly sentVersion: number[] = [];
  private nextId = 1;
  /** Per worker: records sent and not yet answered. */
  private readonly load: number[] = [];
  private closed = false;
  readonly size: number;
  private readonly inlineBelow: number;
  /** The check run on this thread (runtime.ts `verify`). */
  private readonly verifyHere: Runtime['verify'];

  constructor(opts: { threads?: number; inlineBelow?: number; verify?: Runtime['verify'] } = {}) {
    this.size = opts.threads ?? Math.max(1, availableParallelism());
    this.inlineBelow = opts.inlineBelow ?? 16;
    this.verifyHere = opts.verify ?? ed25519Verify;
    for (let i = 0; i < this.size; i++) {
      this.workers.push(this.spawn(i));
      this.sentVersion.push(0);
      this.load.push(0);
    }
  }

  /**
   * Worker `k`: its heap bounded (VERIFY_HEAP: a chunk of a body is a few
   * megabytes at most, and a worker's heap that grew under a burst of large
   * records would otherwise stay resident), and started again when it ends
   * while the pool is open (its waiting jobs fail as internal errors, never
   * left waiting for an answer that cannot come).
   */
  private spawn(k: number): Worker {
    const [file, options] = compiledWorker('ingest-worker', import.meta.url);
    const w = new Worker(file, { ...options, resourceLimits: VERIFY_HEAP });
    w.unref();
    w.on('message', (m: { id?: number }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.load[p.k] = (this.load[p.k] as number) - p.n;
      p.resolve(m as never);
    });
    // 'error' is followed by 'exit': the jobs of this worker fail there.
    w.on('error', () => {});
    w.on('exit', () => {
      if (this.workers[k] !== w) return;
      for (const [id, p] of this.pending)
        if (p.k === k) {
          this.pending.delete(id);
          p.reject(new Error('a verify worker ended'));
        }
      this.load[k] = 0;
      this.sentVersion[k] = 0;
      if (!this.closed) {
        this.respawned++;
        this.workers[k] = this.spawn(k);
      }
    });
    return w;
  }

  /** Workers started again after they ended (tests, logs). */
  respawned = 0;

  get threads(): number {
    return this.closed ? 0 : this.workers.length;
  }

  /** True once close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Prepares records whose texts are `text[offs[2i], offs[2i+1])`, split in
   * chunks over the workers. `hints` are the signing keys the node expects
   * (hub → key and the version at which each was set); each worker is sent
   * only those newer than what it already has.
   */
  prepare(text: string, offs: number[], wrap: boolean, hints: Map<string, { key: string; v: number }>, version: number): Promise<PreparedChunk>[] {
    const n = offs.length / 2;
    const chunks = Math.max(1, Math.min(this.workers.length * 2, Math.ceil(n / 32)));
    const per = Math.ceil(n / chunks);
    const out: Promise<PreparedChunk>[] = [];
    for (let s = 0; s < n; s += per) {
      const e = Math.min(n, s + per);
      const base = offs[2 * s] as number;
      const end = offs[2 * e - 1] as number;
      const rel = new Uint32Array(2 * (e - s));
      for (let i = 0; i < rel.length; i++) rel[i] = (offs[2 * s + i] as number) - base;
      const k = this.leastLoaded();
      const keys: [string, string][] = [];
      const since = this.sentVersion[k] as number;
      if (since < version) for (const [hub, h] of hints) if (h.v > since) keys.push([hub, h.key]);
      this.sentVersion[k] = version;
      const msg: PrepMessage = { op: 'prep', id: this.nextId++, text: text.slice(base, end), offs: rel, wrap, keys };
      out.push(this.post(k, msg, [rel.buffer], e - s));
    }
    return out;
  }

  /** Forgets what the workers were told of expected keys (they are sent again in full). */
  resetHints(): void {
    this.sentVersion.fill(0);
  }

  /** Checks every job; resolves to one boolean per job, in order. */
  async verify(jobs: SigJob[]): Promise<boolean[]> {
    if (jobs.length < this.inlineBelow || this.closed || this.workers.length === 0) {
      return jobs.map((j) => this.verifyHere(j.sig, j.message, j.publicKey));
    }
    const chunks = Math.min(this.workers.length * 2, Math.ceil(jobs.length / 8));
    const per = Math.ceil(jobs.length / chunks);
    const parts: Promise<Uint8Array>[] = [];
    for (let s = 0; s < jobs.length; s += per) parts.push(this.send(jobs.slice(s, s + per)));
    const results = await Promise.all(parts);
    const out: boolean[] = [];
    for (const r of results) for (const v of r) out.push(v === 1);
    return out;
  }

  /**
   * The worker with the fewest records waiting: chunks go where they will be
   * read soonest, so one worker that the machine runs less (or that got the
   * longer chunks) does not hold a batch up while the other waits for work.
   */
  private leastLoaded(): number {
    let best = 0;
    for (let k = 1; k < this.load.length; k++) if ((this.load[k] as number) < (this.load[best] as number)) best = k;
    return best;
  }

  private post<T>(k: number, msg: { id: number }, transfer: ArrayBuffer[], n: number): Promise<T> {
    const w = this.workers[k] as Worker;
    this.load[k] = (this.load[k] as number) + n;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(msg.id, { resolve: resolve as (v: never) => void, reject, k, n });
      w.postMessage(msg, transfer);
    });
  }

  private async send(jobs: SigJob[]): Promise<Uint8Array> {
    let size = 0;
    for (const j of jobs) size += 100 + j.message.length;
    const buf = new ArrayBuffer(size);
    const b = new Uint8Array(buf);
    const dv = new DataView(buf);
    let o = 0;
    for (const j of jobs) {
      // Wrong lengths can never verify; zeroed fields make the worker say no.
      if (j.publicKey.length === 32) b.set(j.publicKey, o);
      if (j.sig.length === 64) b.set(j.sig, o + 32);
      dv.setUint32(o + 96, j.message.length);
      b.set(j.message, o + 100);
      o += 100 + j.message.length;
    }
    const r = await this.post<{ out: Uint8Array }>(
      this.leastLoaded(),
      { op: 'sig', id: this.nextId++, n: jobs.length, buf } as { id: number },
      [buf],
      jobs.length,
    );
    return r.out;
  }

  /** Ends worker `k` as a crash would (tests: the pool starts it again). */
  async crash(k: number): Promise<void> {
    await this.workers[k]?.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    for (const p of this.pending.values()) p.reject(new Error('verify pool closed'));
    this.pending.clear();
    this.load.length = 0;
  }
}

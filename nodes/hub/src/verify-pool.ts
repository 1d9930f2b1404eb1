import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ed25519Verify } from '@shuniu/protocol';

/** One Ed25519 check: does `sig` sign `message` under `publicKey`? */
export interface SigJob {
  publicKey: Uint8Array;
  sig: Uint8Array;
  message: Uint8Array;
}

// Plain CommonJS so the worker runs the same way from dist and from the
// TypeScript sources under tsx/vitest (a worker gets no loader hooks).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const sodium = require(workerData.sodium);
sodium.ready.then(() => {
  parentPort.on('message', (m) => {
    const b = new Uint8Array(m.buf);
    const dv = new DataView(m.buf);
    const out = new Uint8Array(m.n);
    let o = 0;
    for (let i = 0; i < m.n; i++) {
      const pk = b.subarray(o, o + 32);
      const sig = b.subarray(o + 32, o + 96);
      const len = dv.getUint32(o + 96);
      const msg = b.subarray(o + 100, o + 100 + len);
      o += 100 + len;
      let ok = false;
      try { ok = sodium.crypto_sign_verify_detached(sig, msg, pk); } catch { ok = false; }
      out[i] = ok ? 1 : 0;
    }
    parentPort.postMessage({ id: m.id, out }, [out.buffer]);
  });
  parentPort.postMessage({ ready: true });
});
`;

interface Pending {
  resolve: (v: Uint8Array) => void;
  reject: (e: unknown) => void;
}

/**
 * Ed25519 verification spread over worker threads (libsodium in each), so a
 * pushed batch uses every core while the main thread parses and writes
 * SQLite. Small batches are checked inline: a round trip costs more than it saves.
 */
export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private rr = 0;
  private closed = false;
  readonly size: number;

  constructor(opts: { threads?: number; inlineBelow?: number } = {}) {
    this.size = opts.threads ?? Math.max(1, availableParallelism());
    this.inlineBelow = opts.inlineBelow ?? 16;
    const sodium = createRequire(import.meta.url).resolve('libsodium-wrappers');
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { sodium } });
      w.unref();
      w.on('message', (m: { id?: number; out?: Uint8Array }) => {
        if (m.id === undefined) return;
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        p.resolve(m.out as Uint8Array);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  private readonly inlineBelow: number;

  /** Checks every job; resolves to one boolean per job, in order. */
  async verify(jobs: SigJob[]): Promise<boolean[]> {
    if (jobs.length < this.inlineBelow || this.closed || this.workers.length === 0) {
      return jobs.map((j) => ed25519Verify(j.sig, j.message, j.publicKey));
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

  private send(jobs: SigJob[]): Promise<Uint8Array> {
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
    const id = this.nextId++;
    const w = this.workers[this.rr++ % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, n: jobs.length, buf }, [buf]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

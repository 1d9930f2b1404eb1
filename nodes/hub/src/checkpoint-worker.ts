// Writes one resolver checkpoint off the main thread (spec/node.md §10.4): a
// read-only connection to the database, the previous checkpoint file, the
// records after it up to the given ord applied, the snapshot written to the
// checkpoint file. The node's own state is never touched or copied.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type DatabaseT from 'better-sqlite3';
import { readCheckpoint, writeCheckpoint } from './checkpoint-file.js';
import { defaultStateFactory, type StateEngine, storedRecord } from './state.js';
import { lowerThreadPriority } from './worker-file.js';

// A checkpoint grows with the data: this thread yields the CPU to the main one.
lowerThreadPriority();

export interface CheckpointJob {
  dir: string;
  dbPath: string;
  roots: string[];
  /** The highest ord the checkpoint covers (every record up to it is committed). */
  ord: number;
  /** A module URL better-sqlite3 is resolved from (the worker may run as bundled code). */
  base: string;
}

export type CheckpointReply = { ok: true; ord: number; bytes: number; replayed: number; ms: number } | { ok: false; message: string };

async function run(job: CheckpointJob): Promise<CheckpointReply> {
  const t0 = performance.now();
  const Database = createRequire(job.base)('better-sqlite3') as typeof DatabaseT;
  const db = new Database(job.dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const idAt = db.prepare('SELECT id FROM records WHERE ord = ?').pluck();
    const since = db.prepare('SELECT ord, id, json FROM records WHERE ord > ? AND ord <= ? ORDER BY ord LIMIT 5000');
    const prev = readCheckpoint(job.dir, (o) => idAt.get(o) as string | undefined);
    let state: StateEngine;
    let after = 0;
    try {
      state = defaultStateFactory(job.roots, prev?.snapshot);
      after = prev?.ord ?? 0;
    } catch {
      state = defaultStateFactory(job.roots);
    }
    let replayed = 0;
    for (;;) {
      const rows = since.all(after, job.ord) as { ord: number; id: string; json: string }[];
      if (rows.length === 0) break;
      for (const r of rows) state.apply(storedRecord(r.json, r.id));
      replayed += rows.length;
      after = (rows[rows.length - 1] as { ord: number }).ord;
    }
    const id = idAt.get(job.ord) as string | undefined;
    if (id === undefined) throw new Error(`no record at ord ${job.ord}`);
    const bytes = writeCheckpoint(job.dir, { ord: job.ord, id }, JSON.stringify(state.toJSON()));
    return { ok: true, ord: job.ord, bytes, replayed, ms: performance.now() - t0 };
  } finally {
    db.close();
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  run(workerData as CheckpointJob).then(
    (r) => port.postMessage(r),
    (e) => port.postMessage({ ok: false, message: (e as Error)?.message ?? String(e) } satisfies CheckpointReply),
  );
}

import { Worker } from 'node:worker_threads';
import type { CheckpointJob, CheckpointReply } from './checkpoint-worker.js';
import { compiledWorker } from './worker-file.js';

/** A checkpoint being written by its worker: `done` settles with the worker's reply; `cancel` stops it. */
export interface CheckpointRun {
  readonly ord: number;
  readonly done: Promise<CheckpointReply>;
  cancel(): Promise<void>;
}

/**
 * Starts a worker that writes the checkpoint covering records up to `ord`
 * (checkpoint-worker.ts). The main thread only starts it and reads its
 * reply: nothing here grows with the data (spec/node.md §10.4).
 */
export function checkpointInWorker(job: Omit<CheckpointJob, 'base'>): CheckpointRun {
  const workerData: CheckpointJob = { ...job, base: import.meta.url };
  const [file, options] = compiledWorker('checkpoint-worker', import.meta.url);
  const w = new Worker(file, { ...options, workerData });
  w.unref();
  const done = new Promise<CheckpointReply>((resolve) => {
    w.once('message', (r: CheckpointReply) => resolve(r));
    w.once('error', (e) => resolve({ ok: false, message: e.message }));
    w.once('exit', (code) => resolve({ ok: false, message: `checkpoint worker exited (${code})` }));
  });
  return {
    ord: job.ord,
    done,
    cancel: async () => {
      await w.terminate();
    },
  };
}

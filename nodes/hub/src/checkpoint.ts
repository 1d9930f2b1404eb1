import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckpointJob, CheckpointReply } from './checkpoint-worker.js';

let bundled: string | undefined;

/** The worker's code: compiled checkpoint-worker.js from dist, else the sources bundled once with esbuild (as verify-pool.ts does). */
function workerScript(): { url: URL } | { code: string } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./checkpoint-worker.js', here) };
  if (bundled === undefined) {
    const esbuild = createRequire(here)('esbuild') as { buildSync(o: Record<string, unknown>): { outputFiles: { text: string }[] } };
    const out = esbuild.buildSync({
      entryPoints: [fileURLToPath(new URL('./checkpoint-worker.ts', here))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      conditions: ['@shuniu/source'],
      external: ['better-sqlite3'],
      write: false,
      logLevel: 'silent',
    });
    // In a function: eval'd worker code runs at global scope, where the bundle's top-level
    // `var crypto` (state.ts) would collide with the global `crypto` getter.
    bundled = `(function () {\n${(out.outputFiles[0] as { text: string }).text}\n})();`;
  }
  return { code: bundled };
}

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
  const script = workerScript();
  const workerData: CheckpointJob = { ...job, base: import.meta.url };
  const w = 'code' in script ? new Worker(script.code, { eval: true, workerData }) : new Worker(script.url, { workerData });
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

import { existsSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Where a worker thread's code is, and the options it starts with: the
 * compiled `<name>.js` next to the calling module in dist. From the
 * TypeScript sources (vitest, tsx), where a worker gets no loader hooks, it
 * is the one `tsc --build` wrote to dist: nothing is bundled at run time.
 * The compiled worker resolves compiled packages, so a `--conditions` flag
 * (@shuniu/source under vitest or tsx) is not passed on to it.
 *
 * @example new Worker(...compiledWorker('ingest-worker', import.meta.url))
 */
export function compiledWorker(name: string, from: string): [string, { execArgv: string[] }] {
  const url = from.endsWith('.ts') ? new URL(`../dist/${name}.js`, from) : new URL(`./${name}.js`, from);
  const file = fileURLToPath(url);
  if (!existsSync(file)) throw new Error(`worker ${file} is missing: build the node first (tsc --build)`);
  const execArgv = process.execArgv.filter((a, i, all) => !/^(--conditions|-C)(=|$)/.test(a) && !/^(--conditions|-C)$/.test(all[i - 1] ?? ''));
  return [file, { execArgv }];
}

/**
 * Lowers the priority of the calling thread (a worker doing work that grows
 * with the data: matching plans, checkpoints) to `nice`, so that on a small
 * machine the main thread, which answers operators and peers, gets the CPU
 * first and this work takes what is left (spec/node.md §6.1, §10.4). Linux
 * only, where a thread has an id of its own (/proc/thread-self) that
 * setpriority takes; elsewhere, or when refused, nothing changes. Returns
 * whether it was lowered.
 */
export function lowerThreadPriority(nice = 10): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

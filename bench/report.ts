import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether `--quick` was passed: a smaller run of the same code, for smoke tests. */
export const quick = process.argv.includes('--quick');

/**
 * Prints the result as the last line of stdout and writes it to
 * bench/results/<name>.json (or <name>.quick.json for --quick runs, which are
 * not committed figures).
 */
export function report(bench: string, metrics: Record<string, number>): void {
  const out = { bench, metrics, machine: { cpus: cpus().length, node: process.version } };
  const line = JSON.stringify(out);
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, quick ? `${bench}.quick.json` : `${bench}.json`), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${line}\n`);
}

/** Progress goes to stderr so the last stdout line stays the JSON result. */
export function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

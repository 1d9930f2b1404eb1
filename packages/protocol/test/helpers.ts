import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isShuniuError, type MemoryChains, parseRecord, type SignedRecord } from '../src/index.js';

export const specDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'spec');

/** Reads a committed file of spec/vectors (the tests never copy vectors). */
export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(specDir, 'vectors', name), 'utf8')) as T;
}

/** The error code `fn` throws, or 'no error'. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (isShuniuError(e)) return e.code;
    throw e;
  }
}

/**
 * What a verifier reports for one input, the way `shuniu verify` does: parse
 * errors first, then the chain outcome ('valid', 'duplicate' or an error code).
 */
export function outcome(chains: MemoryChains, input: string | SignedRecord, opts: { now?: number } = {}): string {
  let record: SignedRecord;
  try {
    record = parseRecord(input);
  } catch (e) {
    if (isShuniuError(e)) return e.code;
    throw e;
  }
  const r = chains.add(record, opts);
  return r.kind === 'valid' || r.kind === 'duplicate' ? r.kind : r.error.code;
}

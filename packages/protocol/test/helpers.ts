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

import { Author, type BodyOf, createHub, type HubSeeds, type NewHub, sha256, utf8 } from '../src/index.js';

export const T0 = Date.parse('2020-01-24T00:00:00Z');

export function seedsOf(label: string): HubSeeds {
  const s = (role: string) => sha256(utf8(`test:${label}/${role}`));
  return { signing: s('signing'), encryption: s('encryption'), recovery: s('recovery') };
}

/** A hub with fixed seeds and an Author on a clock that moves one second per record. */
export function testHub(label: string, t0 = T0): { hub: NewHub; author: Author } {
  const hub = createHub({ seeds: seedsOf(label), created: new Date(t0).toISOString().replace('.000Z', 'Z'), hlc: { ms: t0, c: 0 } });
  let t = t0;
  return { hub, author: Author.fromNewHub(hub, () => (t += 1000)) };
}

export const maskNeed: BodyOf<'need.posted'> = {
  item: { code: 'PPE.MASK.MEDICAL', name: '医用外科口罩' },
  quantity: 400,
  unit: { name: 'box', base: 'piece', size: 50 },
  urgency: 'critical',
  neededBy: '2020-01-27T00:00:00Z',
  region: '420902',
  beneficiaries: { group: 'medical_staff', count: 1200 },
  requester: { name: '孝南区人民医院', kind: 'hospital' },
};

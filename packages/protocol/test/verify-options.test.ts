import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import {
  checkSignature,
  MemoryChains,
  parseRecord,
  ready,
  recordId,
  type SignedRecord,
  signedBytes,
  signingKeys,
  type VerifyResult,
  verifyRecord,
} from '../src/index.js';

const VECTORS = (name: string) => fileURLToPath(new URL(`../../../spec/vectors/${name}`, import.meta.url));
const plain = (r: VerifyResult) => JSON.parse(JSON.stringify(r, (_k, v) => (v instanceof Error ? { ...v, name: v.name, message: v.message } : v)));

beforeAll(ready);

/**
 * A node's ingest workers hand verifyRecord the id and the signature outcomes
 * they computed; the answer must be exactly the one it gives on its own.
 */
function same(record: SignedRecord, chains: MemoryChains, label: string): void {
  const bytes = signedBytes(record);
  const id = recordId(record);
  const now = Date.now();
  const view = chains.view(record.hub);
  const expected = plain(verifyRecord(record, view, { now }));
  expect(plain(verifyRecord(record, view, { now, id })), label).toEqual(expected);
  expect(plain(verifyRecord(record, view, { now, id, bytes })), label).toEqual(expected);
  const keys = [view?.keys.signingKey, (record.body as { signingKey?: string }).signingKey, (record.body as { recovery?: { key?: string } }).recovery?.key];
  const checked = new Map<string, boolean>();
  for (const k of keys) if (typeof k === 'string') checked.set(`${k} ${id}`, checkSignature(record, k, bytes));
  expect(plain(verifyRecord(record, view, { now, id, checked })), label).toEqual(expected);
}

it('given the id, signed bytes or signature outcomes, verifyRecord answers as it does alone, on every spec vector', () => {
  const valid = JSON.parse(readFileSync(VECTORS('records.json'), 'utf8')).vectors as { record: unknown }[];
  const chains = new MemoryChains();
  for (const v of valid) {
    const r = parseRecord(v.record);
    same(r, chains, 'valid vector');
    chains.add(r);
    same(r, chains, 'valid vector again');
  }
  const invalid = JSON.parse(readFileSync(VECTORS('invalid.json'), 'utf8')).vectors as { comment: string; context: unknown[]; record: string }[];
  let compared = 0;
  for (const v of invalid) {
    const chains = new MemoryChains();
    for (const c of v.context) chains.add(parseRecord(typeof c === 'string' ? c : JSON.stringify(c)));
    let r: SignedRecord;
    try {
      r = parseRecord(v.record);
      signedBytes(r);
    } catch {
      continue; // refused before any chain check
    }
    same(r, chains, v.comment);
    compared++;
  }
  expect(compared).toBeGreaterThan(10);
});

it('signingKeys names the key that signed every valid vector, and the key in force after it', () => {
  const valid = JSON.parse(readFileSync(VECTORS('records.json'), 'utf8')).vectors as { record: unknown }[];
  const chains = new MemoryChains();
  for (const v of valid) {
    const r = parseRecord(v.record);
    const { signer, after } = signingKeys(r, chains.view(r.hub)?.keys.signingKey);
    expect(signer && checkSignature(r, signer), `${r.type} seq ${r.seq}`).toBe(true);
    expect(chains.add(r).kind).toBe('valid');
    expect(after).toBe(chains.view(r.hub)?.keys.signingKey);
  }
});

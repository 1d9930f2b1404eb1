// Size limits of a record (spec/encoding.md §4): 65,536 signed bytes, 262,144 characters of sealed ct.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_SEALED_CT,
  MAX_SIGNED_BYTES,
  MemoryChains,
  parseRecord,
  ready,
  recordJson,
  seal,
  signedBytes,
  toBase64url,
  type UnsignedRecord,
} from '../src/index.js';
import { codeOf, maskNeed, outcome, testHub } from './helpers.js';

beforeAll(ready);

describe('size limits', () => {
  it('signs and accepts a record of exactly 65,536 signed bytes; refuses to sign or accept one byte more (E_SCHEMA, path $)', () => {
    const { hub, author } = testHub('limits');
    const chains = new MemoryChains();
    expect(outcome(chains, hub.inception)).toBe('valid');
    const body = (n: number) => ({ ...maskNeed, ext: { 'org.example.pad': 'x'.repeat(n) } });
    const probe = signedBytes({
      v: 1,
      type: 'need.posted',
      hub: hub.id,
      seq: 1,
      prev: 'A'.repeat(43),
      hlc: { ms: 1579824000000 + 600000, c: 0 },
      body: body(0),
    } as unknown as UnsignedRecord).length;
    const pad = MAX_SIGNED_BYTES - probe;
    expect(codeOf(() => author.sign('need.posted', body(pad + 1)))).toBe('E_SCHEMA');
    const { record } = author.sign('need.posted', body(pad));
    expect(signedBytes(record).length).toBe(MAX_SIGNED_BYTES);
    expect(outcome(chains, recordJson(record))).toBe('valid');
    // The same record grown by one byte and re-signed outside signRecord: every reader refuses it.
    const over = { ...record, body: body(pad + 1) } as typeof record;
    const res = new MemoryChains().add(parseRecord(recordJson(over)));
    expect(res.kind).toBe('invalid');
    if (res.kind === 'invalid') {
      expect(res.error.code).toBe('E_SCHEMA');
      expect(res.error.path).toEqual([]);
      expect(res.error.message).toMatch(/65537 bytes, more than the 65536/);
    }
  });

  it('a sealed ct of 262,144 characters passes the schema, 262,148 does not (E_SCHEMA at $.sealed.ct)', () => {
    const { hub, author } = testHub('limits-sealed');
    const big = { rows: 'y'.repeat(196_000) };
    const { sealed, sealedHash } = seal(big, [{ hub: hub.id, encryptionKey: toBase64url(hub.keys.encryption.publicKey) }]);
    expect(sealed.ct.length).toBeLessThanOrEqual(MAX_SEALED_CT);
    const { record } = author.sign('need.posted', maskNeed, { sealed, sealedHash });
    expect(outcome(new MemoryChains(), recordJson(hub.inception))).toBe('valid');
    const text = recordJson({ ...record, sealed: { ...sealed, ct: 'A'.repeat(MAX_SEALED_CT) } });
    expect(codeOf(() => parseRecord(text))).toBe('no error');
    const tooLong = recordJson({ ...record, sealed: { ...sealed, ct: 'A'.repeat(MAX_SEALED_CT + 4) } });
    let path: unknown;
    try {
      parseRecord(tooLong);
    } catch (e) {
      path = (e as { code: string; path: unknown }).path;
      expect((e as { code: string }).code).toBe('E_SCHEMA');
    }
    expect(path).toEqual(['sealed', 'ct']);
    // A 1 MB sealed part cannot be signed into a record at all.
    const huge = seal({ rows: 'z'.repeat(1_000_000) }, [{ hub: hub.id, encryptionKey: toBase64url(hub.keys.encryption.publicKey) }]);
    expect(codeOf(() => author.sign('need.posted', maskNeed, huge))).toBe('E_SCHEMA');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertIJson, jcs, jcsOfIJson, parseIJson, parseRecord, type SignedRecord, signedBytes, signedBytesOfParsed, toHex } from '../src/index.js';
import { codeOf, loadVectors } from './helpers.js';

// The cheaper read path (parseRecord on text returns the parsed value, signed
// bytes without a second I-JSON check, JCS without canonicalize's generic
// checks) gives the same bytes as the general one.
const records = loadVectors<{ vectors: { comment: string; record: SignedRecord; signedBytes: string }[] }>('records.json');
const jcsVectors = loadVectors<{ vectors: { comment: string; input: string; expected: string }[] }>('jcs.json');

describe('read path', () => {
  it('jcsOfIJson writes what jcs writes, on the RFC 8785 examples', () => {
    for (const x of jcsVectors.vectors) expect(jcsOfIJson(parseIJson(x.input)), x.comment).toBe(x.expected);
  });

  it('jcsOfIJson writes what jcs writes, on any I-JSON value (parsed or in memory)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        if (codeOf(() => assertIJson(v)) !== 'no error') return;
        expect(jcsOfIJson(v as never)).toBe(jcs(v));
        const parsed = parseIJson(JSON.stringify(v));
        expect(jcsOfIJson(parsed)).toBe(jcs(parsed));
      }),
      { numRuns: 500 },
    );
  });

  it('signedBytesOfParsed equals signedBytes on every record vector read from text', () => {
    for (const v of records.vectors) {
      const record = parseRecord(JSON.stringify(v.record));
      expect(toHex(signedBytesOfParsed(record)), v.comment).toBe(v.signedBytes);
      expect(toHex(signedBytes(record)), v.comment).toBe(v.signedBytes);
    }
  });

  it('parsed objects are ordinary objects holding "__proto__" as an own member', () => {
    const v = parseIJson('{"a":{"__proto__":{"b":1},"c":[{}]}}') as { a: Record<string, unknown> };
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(v.a)).toBe(Object.prototype);
    expect(Object.hasOwn(v.a, '__proto__')).toBe(true);
    expect(Object.keys(v.a)).toEqual(['__proto__', 'c']);
    expect(jcsOfIJson(v as never)).toBe('{"a":{"__proto__":{"b":1},"c":[{}]}}');
  });
});

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

  it('jcsOfIJson writes what jcs writes when members are already in JCS order (its JSON.stringify path), integer-like names included', () => {
    // Rebuilt with members inserted in code-unit order: objects still list integer-like names first.
    const ordered = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(ordered)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, ordered((v as Record<string, unknown>)[k])]),
            )
          : v;
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('9', '10', '2', 'a', 'B', '__proto__', '😷'));
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(key, tie('v'), { maxKeys: 5 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, (raw) => {
        const text = JSON.stringify(ordered(raw));
        // Doubles beyond the safe integers are not I-JSON tokens (E_IJSON): not this property's business.
        if (codeOf(() => parseIJson(text)) !== 'no error') return;
        const v = parseIJson(text);
        expect(jcsOfIJson(v)).toBe(jcs(v));
      }),
      { numRuns: 500 },
    );
    expect(jcsOfIJson(parseIJson('{"10":[{"x":1e2,"y":-0}],"9":1}'))).toBe('{"10":[{"x":100,"y":0}],"9":1}');
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

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertIJson, jcs, jcsBytes, parseIJson, toHex } from '../src/index.js';
import { codeOf, loadVectors } from './helpers.js';

type JcsVectors = {
  vectors: { comment: string; input: string; expected: string; expectedHex?: string }[];
  numbers: { comment: string; ieee754: string; expected?: string; error?: string }[];
};
const v = loadVectors<JcsVectors>('jcs.json');

function fromIeee754(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 examples (spec/vectors/jcs.json)', () => {
  it.each(v.vectors.map((x) => [x.comment, x] as const))('%s', (_c, x) => {
    const canonical = jcs(parseIJson(x.input));
    expect(canonical).toBe(x.expected);
    // spec/README.md §4 promises expectedHex (the UTF-8 of expected) in every vector.
    expect(x.expectedHex).toBe(Buffer.from(x.expected, 'utf8').toString('hex'));
    expect(toHex(jcsBytes(parseIJson(x.input)))).toBe(x.expectedHex);
  });

  it.each(v.numbers.map((x) => [x.ieee754, x] as const))('Appendix B %s', (_h, x) => {
    const n = fromIeee754(x.ieee754);
    if (x.error) {
      expect(codeOf(() => jcs(n))).toBe(x.error);
      expect(codeOf(() => assertIJson(n))).toBe(x.error);
    } else {
      expect(jcs(n)).toBe(x.expected);
      expect(jcs([n])).toBe(`[${x.expected}]`);
    }
  });
});

describe('JCS properties', () => {
  const ijsonValue = fc.jsonValue().filter((x) => codeOf(() => assertIJson(x)) === 'no error');

  it('is idempotent: canonical text parses back to the same canonical text', () => {
    fc.assert(
      fc.property(ijsonValue, (x) => {
        const once = jcs(x);
        expect(jcs(parseIJson(once))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores member order and whitespace', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), (o) => {
        const entries = Object.entries(o);
        const reversed = Object.fromEntries(entries.reverse());
        fc.pre(codeOf(() => assertIJson(o)) === 'no error');
        expect(jcs(parseIJson(JSON.stringify(reversed, null, 2)))).toBe(jcs(o));
      }),
      { numRuns: 200 },
    );
  });
});

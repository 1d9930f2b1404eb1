import { sha256, toBase64url, utf8 } from '@shuniu/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Text, textHasher } from '../src/sha256.js';

const ref = (s: string): string => toBase64url(sha256(utf8(s)));
const viaBytes = textHasher((b) => sha256(b.slice()));

describe('sha256Text', () => {
  it('equals @shuniu/protocol sha256 at block boundaries', () => {
    for (let n = 0; n < 300; n++) expect(sha256Text('x'.repeat(n))).toBe(ref('x'.repeat(n)));
    for (const s of ['', 'abc', '枢纽 Shuniu', '😀', '\ud800', 'a\udc00b', 'é'.repeat(40), '\u0000']) expect(sha256Text(s)).toBe(ref(s));
    const big = 'ab枢'.repeat(50_000);
    expect(sha256Text(big)).toBe(ref(big));
    expect(viaBytes(big)).toBe(ref(big));
    expect(viaBytes('')).toBe(ref(''));
  });

  it('equals @shuniu/protocol sha256 on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        expect(sha256Text(s)).toBe(ref(s));
        expect(viaBytes(s)).toBe(ref(s));
      }),
      { numRuns: 500 },
    );
  });
});

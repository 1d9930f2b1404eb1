import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromBase64url, fromHex, fromUtf8, toBase64url, toHex, utf8 } from '../src/index.js';
import { codeOf } from './helpers.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('base64url (spec/encoding.md §base64url)', () => {
  it('round-trips every byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const s = toBase64url(b);
        expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(s.length).toBe(Math.ceil((b.length * 4) / 3));
        expect(bytesEqual(fromBase64url(s), b)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts only the canonical spelling: whatever decodes encodes back to itself', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...B64.split('')), { maxLength: 60 }), (chars) => {
        const s = chars.join('');
        const code = codeOf(() => fromBase64url(s));
        if (code === 'no error') expect(toBase64url(fromBase64url(s))).toBe(s);
        else expect(code).toBe('E_ARGUMENT');
      }),
      { numRuns: 500 },
    );
  });

  it('refuses padding, the standard alphabet, stray bits and impossible lengths', () => {
    expect(toBase64url(utf8('A'))).toBe('QQ');
    expect(codeOf(() => fromBase64url('QR'))).toBe('E_ARGUMENT'); // 'A' with a trailing bit set
    expect(codeOf(() => fromBase64url('QQ=='))).toBe('E_ARGUMENT');
    expect(codeOf(() => fromBase64url('+/8'))).toBe('E_ARGUMENT');
    expect(codeOf(() => fromBase64url('Q'))).toBe('E_ARGUMENT');
    expect(codeOf(() => fromBase64url('QQ QQ'))).toBe('E_ARGUMENT');
    expect(codeOf(() => fromBase64url('日本'))).toBe('E_ARGUMENT');
    expect(toHex(fromBase64url('-_8'))).toBe('fbff');
    // 32 bytes: 43 characters, the last one of 16 with its low 2 bits zero.
    expect(toBase64url(new Uint8Array(32).fill(255))).toBe('__________________________________________8');
  });

  it('encodes as Node does at every length, across the 8,192-character chunks it converts at a time', () => {
    const lengths = [0, 1, 2, 3, 31, 32, 33, 64, 6141, 6142, 6143, 6144, 6145, 6146, 12288, 12289, 20000];
    for (const n of lengths) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 167 + (n & 255)) & 255);
      expect(toBase64url(b), `${n} bytes`).toBe(Buffer.from(b).toString('base64url'));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), (b) => {
        expect(toBase64url(b)).toBe(Buffer.from(b).toString('base64url'));
      }),
      { numRuns: 100 },
    );
  });
});

describe('hex', () => {
  it('writes lower case and reads either case', () => {
    expect(toHex(new Uint8Array([0, 15, 16, 255]))).toBe('000f10ff');
    expect(toHex(fromHex('000F10FF'))).toBe('000f10ff');
    expect(codeOf(() => fromHex('abc'))).toBe('E_ARGUMENT');
    expect(codeOf(() => fromHex('zz'))).toBe('E_ARGUMENT');
  });
});

describe('UTF-8', () => {
  it('refuses malformed sequences, overlongs and encoded surrogates instead of inventing U+FFFD', () => {
    expect(fromUtf8(utf8('孝南区 😀'))).toBe('孝南区 😀');
    expect(codeOf(() => fromUtf8(new Uint8Array([0xff])))).toBe('E_JSON');
    expect(codeOf(() => fromUtf8(new Uint8Array([0xc0, 0xaf])))).toBe('E_JSON'); // overlong '/'
    expect(codeOf(() => fromUtf8(new Uint8Array([0xed, 0xa0, 0x80])))).toBe('E_JSON'); // U+D800
    expect(codeOf(() => fromUtf8(new Uint8Array([0xe4, 0xb8])))).toBe('E_JSON'); // truncated
  });

  it('drops one leading byte-order mark (RFC 8259 §8.1 allows ignoring it)', () => {
    expect(fromUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x31]))).toBe('1');
  });
});

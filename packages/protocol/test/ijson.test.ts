import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertIJson, isShuniuError, MAX_DEPTH, parseIJson } from '../src/index.js';
import { codeOf } from './helpers.js';

const nest = (n: number, open: string, close: string, inner = '0') => open.repeat(n) + inner + close.repeat(n);

describe('parseIJson (spec/encoding.md §I-JSON)', () => {
  it.each([
    ['', 'E_JSON'],
    ['   ', 'E_JSON'],
    ['{} {}', 'E_JSON'],
    ['{"a":1,}', 'E_JSON'],
    ['[1,]', 'E_JSON'],
    ["{'a':1}", 'E_JSON'],
    ['{a:1}', 'E_JSON'],
    ['01', 'E_JSON'],
    ['1.', 'E_JSON'],
    ['.5', 'E_JSON'],
    ['+1', 'E_JSON'],
    ['-', 'E_JSON'],
    ['1e', 'E_JSON'],
    ['0x10', 'E_JSON'],
    ['NaN', 'E_JSON'],
    ['Infinity', 'E_JSON'],
    ['tru', 'E_JSON'],
    ['nul', 'E_JSON'],
    ['"\\x41"', 'E_JSON'],
    ['"\\u12"', 'E_JSON'],
    ['"\\u12G4"', 'E_JSON'],
    ['"a\nb"', 'E_JSON'],
    ['"a\u0000"', 'E_JSON'],
    ['"abc', 'E_JSON'],
    ['\ufeff{}', 'E_JSON'],
    ['\f1', 'E_JSON'],
    ['\u00a01', 'E_JSON'],
    ['{"a":1,"a":1}', 'E_IJSON'],
    ['{"a":1,"\\u0061":2}', 'E_IJSON'],
    ['{"__proto__":1,"__proto__":2}', 'E_IJSON'],
    ['"\\ud800"', 'E_IJSON'],
    ['"\\udc00\\ud800"', 'E_IJSON'],
    ['"\ud800"', 'E_IJSON'],
    ['{"\\udfff":1}', 'E_IJSON'],
    ['9007199254740992', 'E_IJSON'],
    ['-9007199254740992', 'E_IJSON'],
    ['123456789012345678901234567890', 'E_IJSON'],
    ['1e400', 'E_IJSON'],
    ['-1e400', 'E_IJSON'],
    [`1${'0'.repeat(399)}.0`, 'E_IJSON'],
  ])('refuses %j with %s', (text, code) => {
    expect(codeOf(() => parseIJson(text))).toBe(code);
  });

  it.each([
    [' \t\r\n{ "a" : [ 1 , 2 ] } \n', { a: [1, 2] }],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['9007199254740993.0', 9007199254740992], // a fraction makes it a double, not an integer token
    ['1e300', 1e300],
    ['1e-400', 0],
    ['-0', -0],
    ['"\\ud83d\\ude00"', '😀'],
    ['"\\u0000\\b\\f\\n\\r\\t\\/\\\\\\""', '\u0000\b\f\n\r\t/\\"'],
    ['"\u007f\u2028"', '\u007f\u2028'],
    ['{"":1}', { '': 1 }],
  ])('accepts %j', (text, value) => {
    expect(parseIJson(text)).toEqual(value);
  });

  it('keeps "__proto__" as an ordinary member', () => {
    const v = parseIJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(`accepts ${MAX_DEPTH} nested arrays or objects and refuses ${MAX_DEPTH + 1}`, () => {
    expect(MAX_DEPTH).toBe(32);
    expect(codeOf(() => parseIJson(nest(32, '[', ']')))).toBe('no error');
    expect(codeOf(() => parseIJson(nest(33, '[', ']')))).toBe('E_JSON');
    expect(codeOf(() => parseIJson(nest(32, '{"a":', '}')))).toBe('no error');
    expect(codeOf(() => parseIJson(nest(33, '{"a":', '}')))).toBe('E_JSON');
    expect(codeOf(() => parseIJson(nest(31, '[', ']', '{}')))).toBe('no error');
    expect(codeOf(() => parseIJson(nest(32, '[', ']', '{}')))).toBe('E_JSON');
    // Deep input fails fast instead of overflowing the stack.
    expect(codeOf(() => parseIJson(nest(100_000, '[', ']')))).toBe('E_JSON');
  });

  it('names the JSON path of the offending value', () => {
    try {
      parseIJson('{"body":{"lines":[{"quantity":1},{"quantity":1e999}]}}');
      expect.unreachable();
    } catch (e) {
      expect(isShuniuError(e) && e.code).toBe('E_IJSON');
      expect(isShuniuError(e) && e.path).toEqual(['body', 'lines', 1, 'quantity']);
      expect((e as Error).message).toContain('$.body.lines[1].quantity');
    }
  });

  it('reads whatever JSON.stringify writes of an I-JSON value, as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        if (codeOf(() => assertIJson(v)) !== 'no error') return;
        expect(parseIJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a ShuniuError E_JSON/E_IJSON on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
        ),
        (text) => {
          const code = codeOf(() => parseIJson(text));
          expect(['no error', 'E_JSON', 'E_IJSON']).toContain(code);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('assertIJson (values about to be signed)', () => {
  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2^53', 2 ** 53],
    ['lone surrogate', 'a\ud800'],
    ['undefined member', { a: undefined }],
    ['function', () => 1],
    ['bigint', 1n],
    ['Date', new Date(0)],
    ['Uint8Array', new Uint8Array(1)],
    ['lone surrogate member name', { '\udc00': 1 }],
  ])('refuses %s', (_n, v) => {
    expect(codeOf(() => assertIJson(v))).toBe('E_IJSON');
  });

  it('limits depth like the parser', () => {
    const deep = (n: number): unknown => (n === 0 ? 0 : [deep(n - 1)]);
    expect(codeOf(() => assertIJson(deep(32)))).toBe('no error');
    expect(codeOf(() => assertIJson(deep(33)))).toBe('E_JSON');
  });

  it('accepts null-prototype objects and fractions', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.x = 1.5;
    expect(codeOf(() => assertIJson(o))).toBe('no error');
  });
});

describe('E_JSON wins over an earlier I-JSON fault (issue 13, spec/encoding.md §2)', () => {
  it.each([
    ['{"a":1,"a":2', 'E_JSON'],
    ['{"a":"\\ud800",', 'E_JSON'],
    ['[9007199254740993,]', 'E_JSON'],
    ['[1e400 x]', 'E_JSON'],
    [`[${'1'.repeat(500)},]`, 'E_JSON'],
    ['{"a":1,"a":2}', 'E_IJSON'],
    [`[${'1'.repeat(500)}]`, 'E_IJSON'],
  ])('%s → %s', (text, code) => {
    expect(codeOf(() => parseIJson(text))).toBe(code);
  });
});

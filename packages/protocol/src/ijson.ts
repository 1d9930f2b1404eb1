import canonicalize from 'canonicalize';
import { utf8 } from './encoding.js';
import { formatPath, ShuniuError } from './errors.js';

/** Deepest nesting of arrays and objects accepted anywhere (spec/encoding.md §Limits). */
export const MAX_DEPTH = 32;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/**
 * Parses JSON text and refuses anything that is not I-JSON (RFC 7493):
 * duplicate member names, lone surrogates (escaped or raw), number tokens
 * that overflow to ±Infinity, and integer tokens (no fraction, no exponent)
 * beyond ±(2^53−1). JSON.parse accepts all of these silently, which would let
 * two nodes read one record two ways.
 *
 * @example parseIJson('{"a":1}') // { a: 1 }
 * @throws ShuniuError E_JSON (syntax, nesting deeper than MAX_DEPTH) or E_IJSON
 */
export function parseIJson(text: string): JsonValue {
  const p = new Parser(text);
  p.ws();
  const v = p.value(0, []);
  p.ws();
  if (p.i !== text.length) p.fail('unexpected data after the JSON value');
  return v;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(msg: string, path: (string | number)[] = [], code: 'E_JSON' | 'E_IJSON' = 'E_JSON'): never {
    throw new ShuniuError(code, `${msg} at offset ${this.i} (${formatPath(path)})`, { path });
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  value(depth: number, path: (string | number)[]): JsonValue {
    const c = this.s[this.i];
    if (c === '{') return this.object(depth + 1, path);
    if (c === '[') return this.array(depth + 1, path);
    if (c === '"') return this.string(path);
    if (c === 't') return this.literal('true', true, path);
    if (c === 'f') return this.literal('false', false, path);
    if (c === 'n') return this.literal('null', null, path);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number(path);
    return this.fail(c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`, path);
  }

  literal<T extends JsonValue>(word: string, v: T, path: (string | number)[]): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail('invalid literal', path);
  }

  object(depth: number, path: (string | number)[]): { [k: string]: JsonValue } {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`, path);
    this.i++;
    // A null-prototype object: "__proto__" is an ordinary member name in JSON.
    const out: { [k: string]: JsonValue } = Object.create(null);
    const seen = new Set<string>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a member name', path);
      const key = this.string(path);
      if (seen.has(key)) this.fail(`duplicate member name ${JSON.stringify(key)}`, path, 'E_IJSON');
      seen.add(key);
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'", path);
      this.i++;
      this.ws();
      out[key] = this.value(depth, [...path, key]);
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        return out;
      }
      this.fail("expected ',' or '}'", path);
    }
  }

  array(depth: number, path: (string | number)[]): JsonValue[] {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`, path);
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth, [...path, out.length]));
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      this.fail("expected ',' or ']'", path);
    }
  }

  string(path: (string | number)[]): string {
    const s = this.s;
    this.i++;
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string', path);
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        break;
      }
      if (c < 0x20) this.fail('control character in string', path);
      if (c === 0x5c) {
        out += s.slice(start, this.i);
        const e = s[this.i + 1];
        this.i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = s.slice(this.i, this.i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape', path);
            out += String.fromCharCode(Number.parseInt(hex, 16));
            this.i += 4;
            break;
          }
          default:
            this.i -= 2;
            this.fail('invalid escape', path);
        }
        start = this.i;
        continue;
      }
      this.i++;
    }
    if (!isWellFormed(out)) this.fail('lone surrogate in string', path, 'E_IJSON');
    return out;
  }

  number(path: (string | number)[]): number {
    const s = this.s;
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(s.slice(this.i, this.i + 400));
    if (!m) return this.fail('invalid number', path);
    const tok = m[0];
    if (tok.length === 400) this.fail('number token too long', path, 'E_IJSON');
    this.i += tok.length;
    const n = Number(tok);
    if (!Number.isFinite(n)) this.fail('number overflows IEEE 754 double', path, 'E_IJSON');
    if (m[2] === undefined && m[3] === undefined && !Number.isSafeInteger(n)) {
      this.fail('integer outside ±(2^53−1)', path, 'E_IJSON');
    }
    return n;
  }
}

/** True when the string has no unpaired UTF-16 surrogate. */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/**
 * Checks an in-memory value before it is canonicalized and signed: only
 * null, booleans, finite numbers, well-formed strings, arrays and plain
 * objects, integers within ±(2^53−1), depth at most MAX_DEPTH.
 *
 * @throws ShuniuError E_IJSON naming the path of the first offending value
 */
export function assertIJson(value: unknown, path: (string | number)[] = [], depth = 0): asserts value is JsonValue {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ShuniuError('E_IJSON', `non-finite number at ${formatPath(path)}`, { path });
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new ShuniuError('E_IJSON', `integer outside ±(2^53−1) at ${formatPath(path)}`, { path });
    }
    return;
  }
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw new ShuniuError('E_IJSON', `lone surrogate at ${formatPath(path)}`, { path });
    return;
  }
  if (typeof value !== 'object') {
    throw new ShuniuError('E_IJSON', `${typeof value} is not a JSON value at ${formatPath(path)}`, { path });
  }
  if (depth >= MAX_DEPTH) throw new ShuniuError('E_JSON', `nesting deeper than ${MAX_DEPTH} at ${formatPath(path)}`, { path });
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertIJson(value[i], [...path, i], depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new ShuniuError('E_IJSON', `not a plain object at ${formatPath(path)}`, { path });
  }
  for (const [k, v] of Object.entries(value)) {
    if (!isWellFormed(k)) throw new ShuniuError('E_IJSON', `lone surrogate in member name at ${formatPath(path)}`, { path });
    if (v === undefined) throw new ShuniuError('E_IJSON', `undefined at ${formatPath([...path, k])}`, { path: [...path, k] });
    assertIJson(v, [...path, k], depth + 1);
  }
}

/**
 * RFC 8785 JSON Canonicalization Scheme of a JSON value, as a string.
 * Members sorted by UTF-16 code units, ECMAScript number formatting, minimal
 * string escaping. The caller checks I-JSON first (assertIJson/parseIJson);
 * non-finite numbers are refused here too (E_IJSON).
 *
 * @example jcs({ b: 1, a: [true, 'x'] }) // '{"a":[true,"x"],"b":1}'
 */
export function jcs(value: unknown): string {
  let out: string | undefined;
  try {
    out = canonicalize(value);
  } catch (cause) {
    // NaN, ±Infinity (RFC 8785 §3.2.2.3) and BigInt: a typed error, not a bare Error.
    throw new ShuniuError('E_IJSON', `value has no RFC 8785 form: ${(cause as Error).message}`, { cause });
  }
  if (out === undefined) throw new ShuniuError('E_IJSON', 'value has no JSON form');
  return out;
}

/** UTF-8 bytes of the RFC 8785 form. */
export function jcsBytes(value: unknown): Uint8Array {
  return utf8(jcs(value));
}

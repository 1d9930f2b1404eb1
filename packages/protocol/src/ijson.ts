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
 * @throws ShuniuError E_JSON (syntax, nesting deeper than MAX_DEPTH; also when the
 * text has an I-JSON fault before its syntax error) or E_IJSON (the text is JSON)
 */
export function parseIJson(text: string): JsonValue {
  try {
    return parseWith(new Parser(text));
  } catch (e) {
    // Text that is not JSON is E_JSON whatever else is wrong with it (spec/encoding.md §2):
    // an I-JSON fault met first is reported only when the whole text is JSON.
    if (e instanceof ShuniuError && e.code === 'E_IJSON') parseWith(new Parser(text, true));
    throw e;
  }
}

function parseWith(p: Parser): JsonValue {
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.i !== p.s.length) p.fail('unexpected data after the JSON value');
  return v;
}

/**
 * Defines a member on an object made by the parser. Plain assignment would
 * turn a member named "__proto__" into the object's prototype; JSON has no
 * such name, so it is defined as an ordinary own data property.
 */
function setMember(out: { [k: string]: JsonValue }, key: string, v: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  else out[key] = v;
}

class Parser {
  i = 0;
  /** JSON path of the value being read: pushed and popped around each member and element, copied only on failure. */
  readonly path: (string | number)[] = [];
  /** `syntaxOnly`: I-JSON faults are let pass, so only JSON syntax and nesting can fail. */
  constructor(
    readonly s: string,
    readonly syntaxOnly = false,
  ) {}

  /** An I-JSON fault (E_IJSON), unless only the syntax is being checked. */
  ijson(msg: string): void {
    if (!this.syntaxOnly) this.fail(msg, 'E_IJSON');
  }

  fail(msg: string, code: 'E_JSON' | 'E_IJSON' = 'E_JSON'): never {
    const path = this.path.slice();
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

  value(depth: number): JsonValue {
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x22) return this.string();
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    const ch = this.s[this.i];
    return this.fail(ch === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(ch)}`);
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail('invalid literal');
  }

  object(depth: number): { [k: string]: JsonValue } {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.i++;
    // An ordinary object whose members are all own data properties, "__proto__" included (setMember).
    const out: { [k: string]: JsonValue } = {};
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    const path = this.path;
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) this.fail('expected a member name');
      const key = this.string();
      if (Object.hasOwn(out, key)) this.ijson(`duplicate member name ${JSON.stringify(key)}`);
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      this.ws();
      path.push(key);
      setMember(out, key, this.value(depth));
      path.pop();
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x7d) {
        this.i++;
        return out;
      }
      this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): JsonValue[] {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    const path = this.path;
    for (;;) {
      this.ws();
      path.push(out.length);
      out.push(this.value(depth));
      path.pop();
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x5d) {
        this.i++;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }

  string(): string {
    const s = this.s;
    this.i++;
    let out = '';
    let start = this.i;
    // Only strings with a surrogate code unit (raw or escaped) need the well-formedness scan.
    let surrogate = false;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        break;
      }
      if (c < 0x20) this.fail('control character in string');
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
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
            const u = Number.parseInt(hex, 16);
            if (u >= 0xd800 && u <= 0xdfff) surrogate = true;
            out += String.fromCharCode(u);
            this.i += 4;
            break;
          }
          default:
            this.i -= 2;
            this.fail('invalid escape');
        }
        start = this.i;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) surrogate = true;
      this.i++;
    }
    if (surrogate && !isWellFormed(out)) this.ijson('lone surrogate in string');
    return out;
  }

  number(): number {
    const s = this.s;
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.syntaxOnly ? s.slice(this.i) : s.slice(this.i, this.i + 400));
    if (!m) return this.fail('invalid number');
    const tok = m[0];
    if (tok.length === 400) this.ijson('number token too long');
    this.i += tok.length;
    const n = Number(tok);
    if (!Number.isFinite(n)) this.ijson('number overflows IEEE 754 double');
    if (m[2] === undefined && m[3] === undefined && !Number.isSafeInteger(n)) {
      this.ijson('integer outside ±(2^53−1)');
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
  checkIJson(value, path.slice(), depth);
}

function ijsonError(code: 'E_JSON' | 'E_IJSON', what: string, stack: (string | number)[]): ShuniuError {
  const path = stack.slice();
  return new ShuniuError(code, `${what} at ${formatPath(path)}`, { path });
}

/** assertIJson's walk: `stack` is the path of `value`, pushed and popped, copied only into an error. */
function checkIJson(value: unknown, stack: (string | number)[], depth: number): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw ijsonError('E_IJSON', 'non-finite number', stack);
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) throw ijsonError('E_IJSON', 'integer outside ±(2^53−1)', stack);
    return;
  }
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw ijsonError('E_IJSON', 'lone surrogate', stack);
    return;
  }
  if (typeof value !== 'object') throw ijsonError('E_IJSON', `${typeof value} is not a JSON value`, stack);
  if (depth >= MAX_DEPTH) throw ijsonError('E_JSON', `nesting deeper than ${MAX_DEPTH}`, stack);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      stack.push(i);
      checkIJson(value[i], stack, depth + 1);
      stack.pop();
    }
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw ijsonError('E_IJSON', 'not a plain object', stack);
  for (const [k, v] of Object.entries(value)) {
    if (!isWellFormed(k)) throw ijsonError('E_IJSON', 'lone surrogate in member name', stack);
    stack.push(k);
    if (v === undefined) throw ijsonError('E_IJSON', 'undefined', stack);
    checkIJson(v, stack, depth + 1);
    stack.pop();
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

/**
 * RFC 8785 form of a value already known to be I-JSON: returned by
 * parseIJson, passed by assertIJson, or built by code that writes only
 * I-JSON (the resolver's state). When every object's members are already in
 * JCS order (as in any record this protocol's signers wrote, and every view
 * the resolver builds), the form is JSON.stringify of the whole value: RFC
 * 8785 §3.2.2 writes strings and numbers as JSON.stringify does, and the
 * order is the only other difference. Otherwise it is `jcs`, the package's
 * one canonicaliser.
 */
export function jcsOfIJson(value: JsonValue): string {
  return inJcsOrder(value) ? JSON.stringify(value) : jcs(value);
}

/**
 * True when every object in `value` lists its members in ascending order of
 * UTF-16 code units (RFC 8785 §3.2.3). Integer-like names, which objects list
 * first in numeric order, fail it unless that order is also the code-unit one.
 */
function inJcsOrder(value: JsonValue): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inJcsOrder(value[i] as JsonValue)) return false;
    return true;
  }
  let prev: string | undefined;
  for (const k of Object.keys(value)) {
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
    if (!inJcsOrder(value[k] as JsonValue)) return false;
  }
  return true;
}

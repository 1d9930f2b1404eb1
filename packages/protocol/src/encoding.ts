import { ShuniuError } from './errors.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Decodes UTF-8, refusing invalid sequences (they would silently become U+FFFD). */
export function fromUtf8(b: Uint8Array): string {
  try {
    return utf8Decoder.decode(b);
  } catch (cause) {
    throw new ShuniuError('E_JSON', 'input is not valid UTF-8', { cause });
  }
}

const HEX = '0123456789abcdef';

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const v = b[i] as number;
    s += HEX[v >> 4] + (HEX[v & 15] as string);
  }
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new ShuniuError('E_ARGUMENT', 'not a hex string of whole bytes');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The base64url alphabet (RFC 4648 §5): character i encodes the 6-bit value i. */
export const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL = B64URL_ALPHABET;
const B64URL_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_INDEX[B64URL.charCodeAt(i)] = i;
const B64URL_CODES = new Uint8Array(64);
for (let i = 0; i < 64; i++) B64URL_CODES[i] = B64URL.charCodeAt(i);

/** Characters converted per String.fromCharCode call (well under any engine's argument limit). */
const B64URL_CHUNK = 8192;
/** Reused code arrays by length, for the short outputs (ids, keys, digests) that are nearly every call. */
const b64urlCodes: number[][] = [];

/**
 * base64url without padding (RFC 4648 §5), as used for every key, id,
 * signature and digest: the package's one encoder (the resolver's state hash
 * uses it for every digest). The result is one flat string built from
 * character codes, not a rope of += pieces, which a cache of a million
 * digests would keep alive.
 */
export function toBase64url(b: Uint8Array): string {
  const n = b.length;
  const len = Math.floor(n / 3) * 4 + (n % 3 === 0 ? 0 : (n % 3) + 1);
  const C = B64URL_CODES;
  let out = '';
  let i = 0;
  for (let start = 0; start < len; start += B64URL_CHUNK) {
    const m = Math.min(B64URL_CHUNK, len - start);
    let a = b64urlCodes[m];
    if (a === undefined) {
      a = new Array<number>(m).fill(0);
      if (m <= 256) b64urlCodes[m] = a;
    }
    let j = 0;
    for (; j + 4 <= m && i + 2 < n; i += 3) {
      const x = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8) | (b[i + 2] as number);
      a[j++] = C[x >>> 18] as number;
      a[j++] = C[(x >>> 12) & 63] as number;
      a[j++] = C[(x >>> 6) & 63] as number;
      a[j++] = C[x & 63] as number;
    }
    if (j < m) {
      // The last 1 or 2 bytes: 2 or 3 characters.
      const x = ((b[i] as number) << 16) | (n - i === 2 ? (b[i + 1] as number) << 8 : 0);
      a[j++] = C[x >>> 18] as number;
      a[j++] = C[(x >>> 12) & 63] as number;
      if (n - i === 2) a[j++] = C[(x >>> 6) & 63] as number;
      i = n;
    }
    const s = String.fromCharCode.apply(null, a);
    out = start === 0 ? s : out + s;
  }
  return out;
}

/**
 * Strict base64url decoding: no padding, no other alphabet, and the unused
 * low bits of the last character must be zero, so every byte string has
 * exactly one encoding (otherwise ids and keys could be spelled two ways).
 */
export function fromBase64url(s: string): Uint8Array {
  if (s.length % 4 === 1) throw new ShuniuError('E_ARGUMENT', 'invalid base64url length');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? (B64URL_INDEX[c] as number) : -1;
    if (v < 0) throw new ShuniuError('E_ARGUMENT', `invalid base64url character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) {
    throw new ShuniuError('E_ARGUMENT', 'non-canonical base64url: trailing bits set');
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

/**
 * Just enough edwards25519 arithmetic (RFC 8032 §5.1) to build the Ed25519
 * strictness vectors of invalid.json: signatures with S = 0 over small-order
 * public keys and small-order or non-canonical R, which a verifier without
 * the checks of spec/keys.md §1 (libsodium's) accepts for any message. For
 * test vectors only: affine BigInt arithmetic, not constant time, never used
 * to sign or verify anything real (libsodium does that, packages/protocol/src/crypto.ts).
 */
import { createHash } from 'node:crypto';

export const P = 2n ** 255n - 19n;
/** The order of the prime-order subgroup. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

export interface Point {
  x: bigint;
  y: bigint;
}
export const IDENTITY: Point = { x: 0n, y: 1n };

function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = mod(b);
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
  }
  return r;
}
function inv(a: bigint): bigint {
  return pow(a, P - 2n);
}

/** Twisted Edwards addition with a = −1 (complete, so it also doubles). */
export function add(p: Point, q: Point): Point {
  const t = mod(D * p.x * q.x * p.y * q.y);
  return { x: mod((p.x * q.y + q.x * p.y) * inv(1n + t)), y: mod((p.y * q.y + p.x * q.x) * inv(1n - t)) };
}

export function mul(k: bigint, p: Point): Point {
  let r = IDENTITY;
  let x = p;
  for (let n = k; n > 0n; n >>= 1n) {
    if (n & 1n) r = add(r, x);
    x = add(x, x);
  }
  return r;
}

export const equal = (p: Point, q: Point): boolean => p.x === q.x && p.y === q.y;

/** 32 bytes little-endian: y with the sign (low bit) of x in the top bit. `y` may be given ≥ p (a non-canonical encoding). */
export function encode(p: Point, y = p.y): Uint8Array {
  const out = new Uint8Array(32);
  let v = y | ((p.x & 1n) << 255n);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function le(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  return v;
}

/**
 * Decodes as a permissive verifier does: y taken modulo p (so y ≥ p is read,
 * not refused), x = 0 with the sign bit set read as x = 0. Undefined when no
 * point has that y.
 */
export function decodeLoose(bytes: Uint8Array): Point | undefined {
  const v = le(bytes);
  const sign = v >> 255n;
  const y = mod(v & ((1n << 255n) - 1n));
  const u = mod(y * y - 1n);
  const w = mod(D * y * y + 1n);
  let x = mod(u * pow(w, 3n) * pow(u * pow(w, 7n), (P - 5n) / 8n));
  if (mod(w * x * x) !== u) {
    if (mod(w * x * x) !== mod(-u)) return undefined;
    x = mod(x * SQRT_M1);
  }
  if ((x & 1n) !== sign && x !== 0n) x = mod(-x);
  return { x, y };
}

/** The challenge k = SHA-512(R ‖ A ‖ M) mod L of RFC 8032 §5.1.7, over the encodings as written. */
export function challenge(r: Uint8Array, a: Uint8Array, msg: Uint8Array): bigint {
  const buf = new Uint8Array(64 + msg.length);
  buf.set(r, 0);
  buf.set(a, 32);
  buf.set(msg, 64);
  return le(createHash('sha512').update(buf).digest()) % L;
}

/**
 * Whether (R, S = 0) passes the cofactorless equation [S]B = R + [k]A, i.e.
 * R + [k]A is the identity, decoding R and A loosely: what a verifier
 * without the small-order and canonical-encoding checks accepts.
 */
export function zeroSForgeryHolds(r: Uint8Array, a: Uint8Array, msg: Uint8Array): boolean {
  const R = decodeLoose(r);
  const A = decodeLoose(a);
  if (!R || !A) return false;
  return equal(add(R, mul(challenge(r, a, msg), A)), IDENTITY);
}

/** A signature (R ‖ S) with S as given, possibly ≥ L (a non-canonical S). */
export function signatureBytes(r: Uint8Array, s: bigint): Uint8Array {
  const out = new Uint8Array(64);
  out.set(r, 0);
  let v = s;
  for (let i = 32; i < 64; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export const scalarOf = (sig: Uint8Array): bigint => le(sig.subarray(32, 64));

/** The eight points of the torsion subgroup (order dividing 8), from one of order 8. */
export function torsion(): Point[] {
  // y of a point of order 8: 2707385501144840649318225287225658788936804267575313519463743609750303402022 (libsodium's blacklist).
  const g = decodeLoose(encode({ x: 0n, y: 0n }, 2707385501144840649318225287225658788936804267575313519463743609750303402022n)) as Point;
  const pts: Point[] = [];
  let p = IDENTITY;
  for (let i = 0; i < 8; i++) {
    pts.push(p);
    p = add(p, g);
  }
  if (!equal(p, IDENTITY) || equal(pts[4] as Point, IDENTITY)) throw new Error('not a point of order 8');
  return pts;
}

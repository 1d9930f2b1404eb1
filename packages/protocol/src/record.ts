import { ed25519Sign, ed25519Verify, sha256 } from './crypto.js';
import { fromBase64url, toBase64url, utf8 } from './encoding.js';
import { formatPath, ShuniuError } from './errors.js';
import { assertIJson, type JsonValue, jcs, jcsOfIJson, parseIJson } from './ijson.js';
import { PROTOCOL_VERSION, type RecordType, recordSchemas, type SignedRecord } from './schemas.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A record before signing. It can never carry a signature. */
export type UnsignedRecord = DistributiveOmit<SignedRecord, 'sig'> & { sig?: never };

declare const verifiedBrand: unique symbol;

/**
 * A record whose schema, signature and chain position have been checked.
 * Only `verifyRecord` (and `assumeVerified`, for records read back from a
 * store that only ever held verified ones) make these, so the resolver and
 * storage cannot be handed an unchecked record by mistake.
 */
export interface Verified<R extends SignedRecord = SignedRecord> {
  readonly id: string;
  readonly record: R;
  readonly [verifiedBrand]: true;
}

/**
 * Marks a record verified without checking. Only for records that were
 * verified before they were stored, and for benchmarks that measure the
 * resolver alone.
 */
export function assumeVerified<R extends SignedRecord>(record: R, id: string = recordId(record)): Verified<R> {
  return { id, record } as Verified<R>;
}

/** Most signed bytes a record may have (spec/encoding.md §4): 64 KiB. */
export const MAX_SIGNED_BYTES = 65_536;

/**
 * Refuses signed bytes longer than MAX_SIGNED_BYTES: a property of the
 * record, so E_SCHEMA with the path of the whole record.
 *
 * @throws ShuniuError E_SCHEMA
 */
export function checkSignedSize(bytes: Uint8Array): void {
  if (bytes.length > MAX_SIGNED_BYTES) throw signedSizeError(bytes.length);
}

/** The E_SCHEMA error for signed bytes of `length` bytes, over MAX_SIGNED_BYTES. */
export function signedSizeError(length: number): ShuniuError {
  const message = `the signed bytes are ${length} bytes, more than the ${MAX_SIGNED_BYTES} allowed (spec/encoding.md §4)`;
  return new ShuniuError('E_SCHEMA', `$: ${message}`, { path: [], issues: [{ code: 'too_big', path: [], message }] });
}

/**
 * The signed bytes of a record (spec/records.md §Signed bytes): RFC 8785 JCS
 * of the record without `sig` and without `sealed`, as UTF-8. The sealed part
 * is covered through `sealedHash`, so it can be erased and the record still
 * verifies.
 */
export function signedBytes(record: UnsignedRecord | SignedRecord): Uint8Array {
  const { sig: _sig, sealed: _sealed, ...rest } = record as SignedRecord;
  assertIJson(rest);
  return utf8(jcsOfIJson(rest));
}

/**
 * The signed bytes of a record that `parseRecord` has just read from JSON
 * text and nobody has changed since: the strict parse already guarantees
 * I-JSON, so the check `signedBytes` makes on arbitrary values is skipped.
 * For any other value use `signedBytes`.
 */
export function signedBytesOfParsed(record: SignedRecord): Uint8Array {
  const { sig: _sig, sealed: _sealed, ...rest } = record;
  return utf8(jcsOfIJson(rest as unknown as JsonValue));
}

/** Record id: base64url(SHA-256(signed bytes)), 43 characters. */
export function recordId(record: UnsignedRecord | SignedRecord): string {
  return toBase64url(sha256(signedBytes(record)));
}

/** base64url(SHA-256(JCS(value))): the digest used for hub ids, sealed parts and state hashes. */
export function digest(value: unknown): string {
  assertIJson(value);
  return toBase64url(sha256(utf8(jcsOfIJson(value))));
}

/**
 * Checks a parsed JSON value against the envelope and the body schema of its
 * type, returning the typed record.
 *
 * @throws ShuniuError E_IJSON, E_VERSION or E_SCHEMA (with zod's issues and the JSON path)
 */
export function parseRecord(input: unknown): SignedRecord {
  const value = typeof input === 'string' ? parseIJson(input) : input;
  if (typeof input !== 'string') assertIJson(value);
  // spec/encoding.md §2.3: an integral value outside ±(2^53−1) is refused however it is spelled
  // (`1e20` as well as `100000000000000000000`, which parseIJson refuses as a token).
  else checkIntegralNumbers(value, []);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ShuniuError('E_SCHEMA', 'a record must be a JSON object', { path: [] });
  }
  const obj = value as Record<string, unknown>;
  if ('v' in obj && obj.v !== PROTOCOL_VERSION) {
    throw new ShuniuError('E_VERSION', `unsupported protocol version ${JSON.stringify(obj.v)} (this node speaks ${PROTOCOL_VERSION})`, { path: ['v'] });
  }
  const type = obj.type;
  if (typeof type !== 'string' || !Object.hasOwn(recordSchemas, type)) {
    throw new ShuniuError('E_SCHEMA', `unknown record type ${JSON.stringify(type)} at $.type`, {
      path: ['type'],
      issues: [{ code: 'invalid_value', path: ['type'], message: 'unknown record type' }],
    });
  }
  const res = recordSchemas[type as RecordType].safeParse(obj);
  if (!res.success) {
    const issues = res.error.issues.map((i) => ({
      code: i.code,
      path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: i.message,
    }));
    const first = issues[0];
    throw new ShuniuError('E_SCHEMA', first ? `${formatPath(first.path)}: ${first.message}` : 'schema violation', {
      path: first?.path ?? [],
      issues,
    });
  }
  // The validated input is returned, not zod's output: zod rebuilds objects
  // by assignment, which turns a member named "__proto__" (legal JSON, and
  // allowed inside `ext`) into a prototype and drops it, so the parsed record
  // would no longer match its signature. A value parsed here from text is
  // returned as is (parseIJson defines every member, "__proto__" too, as an
  // own data property of an ordinary object, and nobody else holds it);
  // a caller's value is copied, so changing it later changes no record.
  if (typeof input === 'string') return obj as unknown as SignedRecord;
  return cloneJson(obj) as SignedRecord;
}

/**
 * Refuses (E_IJSON) a number whose value is an integer outside ±(2^53−1),
 * whatever its spelling: JCS writes such a value below 10^21 as an integer
 * token, which no reader accepts, so a record holding one could not be
 * re-serialized (spec/encoding.md §2.3).
 */
function checkIntegralNumbers(v: unknown, path: (string | number)[]): void {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && !Number.isSafeInteger(v))
      throw new ShuniuError('E_IJSON', `integer outside ±(2^53−1) at ${formatPath(path)} (written with a fraction or exponent)`, { path: path.slice() });
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      checkIntegralNumbers(v[i], path);
      path.pop();
    }
    return;
  }
  for (const k of Object.keys(v)) {
    path.push(k);
    checkIntegralNumbers((v as Record<string, unknown>)[k], path);
    path.pop();
  }
}

/** Deep copy of a JSON value that keeps "__proto__" as an ordinary own member. */
function cloneJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: cloneJson(x), enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Signs a record with an Ed25519 secret key. Returns a new object; the input
 * is not changed. The result is checked against its schema, so nothing
 * invalid is ever signed.
 *
 * @example const signed = signRecord(unsigned, keys.signing.secretKey)
 */
export function signRecord<R extends UnsignedRecord>(unsigned: R, secretKey: Uint8Array): SignedRecord {
  if ((unsigned as { sig?: unknown }).sig !== undefined) throw new ShuniuError('E_ARGUMENT', 'record is already signed');
  const bytes = signedBytes(unsigned);
  checkSignedSize(bytes);
  const sig = toBase64url(ed25519Sign(bytes, secretKey));
  return parseRecord({ ...unsigned, sig });
}

/** True when `sig` is a valid Ed25519 signature of the record's signed bytes by `publicKey` (base64url). */
export function checkSignature(record: SignedRecord, publicKey: string, bytes: Uint8Array = signedBytes(record)): boolean {
  let pk: Uint8Array;
  let sig: Uint8Array;
  try {
    pk = fromBase64url(publicKey);
    sig = fromBase64url(record.sig);
  } catch {
    return false;
  }
  return ed25519Verify(sig, bytes, pk);
}

/** Canonical JSON text of a whole signed record (including sig and sealed), for storage and the wire. */
export function recordJson(record: SignedRecord): string {
  return jcs(record);
}

// Worker thread of the ingest pool (verify-pool.ts): for each record text,
// strict I-JSON parse, schema check, signed bytes, SHA-256 id, and the
// Ed25519 check with the key the worker expects; also bare signature jobs.
// Loaded from dist (compiled by tsc --build; worker-file.ts), also when the node runs from sources.
import { hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import {
  checkSignedSize,
  ed25519Verify,
  fromBase64url,
  isShuniuError,
  type JsonValue,
  jcsOfIJson,
  parseIJson,
  parseRecord,
  ready,
  type SignedRecord,
  signedBytes,
  signedBytesOfParsed,
  signingKeys,
} from '@shuniu/protocol';

/** Prepare a chunk of record texts. */
export interface PrepMessage {
  op: 'prep';
  id: number;
  text: string;
  /** start/end pairs into `text`, one pair per record. */
  offs: Uint32Array;
  /** Parse each text as the element of an array (nesting depth as inside a pushed batch). */
  wrap: boolean;
  /** Signing keys the node expects, hub → key; only what changed since this worker's last message. */
  keys: [string, string][];
}

/** Per record: its id, or [code, message, issues, stage] ('j' = not I-JSON, 'r' = not a valid record). */
export type PrepResult = string | [string, string, unknown[] | undefined, 'j' | 'r'];

export interface PrepReply {
  id: number;
  res: PrepResult[];
  /** Key the signature was checked with ('' when none was known). */
  used: string[];
  /** 1 valid, 0 not (meaningful where `used` is set). */
  ok: Uint8Array;
  /** 1 when the text is exactly JSON.stringify of its parse (plainObjectText COMPACT). */
  compact: Uint8Array;
  /** Per record: 0 no sealed part (or no sealedHash), 1 digest(sealed) = sealedHash, 2 it does not. */
  sealed: Uint8Array;
  /** Signed bytes of record i at [boffs[i], boffs[i+1]). */
  bytes: Uint8Array;
  boffs: Uint32Array;
}

export interface SigMessage {
  op: 'sig';
  id: number;
  n: number;
  buf: ArrayBuffer;
}

const keys = new Map<string, string>();

/**
 * The record id: base64url (RFC 4648 §5, no padding, as toBase64url writes it) of the SHA-256 of
 * the signed bytes, by node:crypto's one-shot hash (OpenSSL): the same digest as the protocol's
 * portable sha256, and ~2 µs a record cheaper than a Hash object and toBase64url.
 */
function recordIdOf(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'base64url');
}

/** Decoded signing keys by their text (a hub signs many records with one key). */
const decodedKeys = new Map<string, Uint8Array>();

function verifyWith(key: string, sig: string, msg: Uint8Array): boolean {
  let pk: Uint8Array;
  let s: Uint8Array;
  try {
    let k = decodedKeys.get(key);
    if (k === undefined) {
      k = fromBase64url(key);
      if (decodedKeys.size >= 10_000) decodedKeys.clear();
      decodedKeys.set(key, k);
    }
    pk = k;
    s = fromBase64url(sig);
  } catch {
    return false;
  }
  return ed25519Verify(s, msg, pk);
}

function prep(m: PrepMessage): PrepReply {
  for (const [hub, key] of m.keys) keys.set(hub, key);
  const n = m.offs.length / 2;
  const res: PrepResult[] = new Array(n);
  const used: string[] = new Array(n).fill('');
  const ok = new Uint8Array(n);
  const compact = new Uint8Array(n);
  const sealed = new Uint8Array(n);
  const parts: Uint8Array[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const text = m.text.slice(m.offs[2 * i], m.offs[2 * i + 1]);
    let record: SignedRecord;
    let bytes: Uint8Array;
    const scan = plainObjectText(text);
    if (scan & COMPACT) compact[i] = 1;
    if (scan) {
      // Fast path, same outcomes: nothing in this text can fail assertIJson
      // after a strict parse, so parseRecord skips it on the text and the
      // signed bytes are the JCS of the record without sig and sealed
      // (signedBytesOfParsed, no second I-JSON check).
      try {
        record = parseRecord(text);
        bytes = signedBytesOfParsed(record);
        checkSignedSize(bytes);
        res[i] = recordIdOf(bytes);
      } catch (e) {
        const code = isShuniuError(e) ? e.code : '';
        res[i] = errorOf(e, code === 'E_JSON' || code === 'E_IJSON' ? 'j' : 'r');
        parts[i] = new Uint8Array(0);
        continue;
      }
    } else {
      let value: unknown;
      try {
        value = m.wrap ? (parseIJson(`[${text}]`) as unknown[])[0] : parseIJson(text);
      } catch (e) {
        res[i] = errorOf(e, 'j');
        parts[i] = new Uint8Array(0);
        continue;
      }
      try {
        record = parseRecord(value);
        bytes = signedBytes(record);
        checkSignedSize(bytes);
        res[i] = recordIdOf(bytes);
      } catch (e) {
        res[i] = errorOf(e, 'r');
        parts[i] = new Uint8Array(0);
        continue;
      }
    }
    parts[i] = bytes;
    total += bytes.length;
    // The sealed part's digest (spec/records.md §8 step 7) natively: a 262,144-character ct takes
    // ~9 ms with the protocol's portable SHA-256 on the main thread, ~0.5 ms here.
    if (record.sealed !== undefined && record.sealedHash !== undefined)
      sealed[i] = hash('sha256', jcsOfIJson(record.sealed as unknown as JsonValue), 'base64url') === record.sealedHash ? 1 : 2;
    // The key this record should be signed with if it continues its chain;
    // the main thread re-checks whatever it expects differently.
    const { signer: key, after } = signingKeys(record, keys.get(record.hub));
    if (after !== undefined) keys.set(record.hub, after);
    if (key === undefined) continue;
    used[i] = key;
    ok[i] = verifyWith(key, record.sig, bytes) ? 1 : 0;
  }
  const bytes = new Uint8Array(total);
  const boffs = new Uint32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    boffs[i] = o;
    bytes.set(parts[i] as Uint8Array, o);
    o += (parts[i] as Uint8Array).length;
  }
  boffs[n] = o;
  return { id: m.id, res, used, ok, compact, sealed, bytes, boffs };
}

/** plainObjectText: the strict parse of the text cannot hold anything assertIJson refuses. */
export const PLAIN = 1;
/** plainObjectText: the text is also exactly what JSON.stringify writes for its parse. */
export const COMPACT = 2;

/**
 * PLAIN when `text` is an object whose strict parse cannot hold anything
 * assertIJson refuses: no number token with a fraction or an exponent (so
 * every number is an integer the parser already held within ±(2^53−1)),
 * nesting far below MAX_DEPTH. Strings are skipped; outside them '.', and
 * 'e'/'E' after a digit, occur only in such numbers. Also COMPACT when, for
 * a text that parses strictly (no duplicate names, no lone surrogates),
 * JSON.stringify(JSON.parse(text)) is the text itself: no whitespace between
 * tokens, no escape in a string but those JSON.stringify writes (\" \\ \b
 * \f \n \r \t), no -0, no member name starting with a digit (JSON.parse
 * puts integer-like names first). The node then stores the text as it came
 * instead of serialising the record again.
 */
export function plainObjectText(text: string): number {
  if (text.charCodeAt(0) !== 0x7b) return 0;
  let depth = 0;
  let compact = COMPACT;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i + 1;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          const e = text.charCodeAt(++i);
          // " \ b f n r t
          if (e !== 0x22 && e !== 0x5c && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) compact = 0;
        } else if (d === 0x22) break;
      }
      // A member name: JSON.parse orders integer-like ones first.
      if (text.charCodeAt(i + 1) === 0x3a) {
        const f = text.charCodeAt(start);
        if (f >= 0x30 && f <= 0x39) compact = 0;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > 24) return 0;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2e) return 0;
    else if (c === 0x65 || c === 0x45) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0x30 && p <= 0x39) return 0;
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) compact = 0;
    else if (c === 0x2d && text.charCodeAt(i + 1) === 0x30) compact = 0;
  }
  return PLAIN | compact;
}

/** A record's refusal; an error that is not a ShuniuError is ours, not the sender's: E_INTERNAL, which fails the request on the main thread. */
function errorOf(e: unknown, stage: 'j' | 'r'): PrepResult {
  if (isShuniuError(e)) return [e.code, e.message, e.issues, stage];
  return ['E_INTERNAL', `ingest worker: ${(e as Error)?.stack ?? String(e)}`, undefined, stage];
}

function sig(m: SigMessage): { id: number; out: Uint8Array } {
  const b = new Uint8Array(m.buf);
  const dv = new DataView(m.buf);
  const out = new Uint8Array(m.n);
  let o = 0;
  for (let i = 0; i < m.n; i++) {
    const pk = b.subarray(o, o + 32);
    const s = b.subarray(o + 32, o + 96);
    const len = dv.getUint32(o + 96);
    const msg = b.subarray(o + 100, o + 100 + len);
    o += 100 + len;
    out[i] = ed25519Verify(s, msg, pk) ? 1 : 0;
  }
  return { id: m.id, out };
}

const port = parentPort;
if (port) {
  void ready().then(() => {
    port.on('message', (m: PrepMessage | SigMessage) => {
      if (m.op === 'prep') {
        const r = prep(m);
        port.postMessage(r, [
          r.bytes.buffer as ArrayBuffer,
          r.boffs.buffer as ArrayBuffer,
          r.ok.buffer as ArrayBuffer,
          r.compact.buffer as ArrayBuffer,
          r.sealed.buffer as ArrayBuffer,
        ]);
      } else {
        const r = sig(m);
        port.postMessage(r, [r.out.buffer as ArrayBuffer]);
      }
    });
  });
}

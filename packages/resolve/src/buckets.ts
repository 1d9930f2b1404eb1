import { sha256, toBase64url, utf8 } from '@shuniu/protocol';

/**
 * RFC 8785 (JCS) text of the resolver's own values: plain objects, arrays,
 * well-formed strings, safe integers and booleans only, for which JCS is
 * JSON.stringify with member names sorted by UTF-16 code units. Several times
 * faster than the general canonicalizer on large states; the tests check it
 * against jcs() on every vector state.
 */
export function canonicalJson(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + canonicalJson(v[i]);
    return `${out}]`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(x)}`;
    first = false;
  }
  return `${out}}`;
}

/** base64url(SHA-256(JCS(v))) for resolver values: equals digest(v) from @shuniu/protocol. */
export function stateDigest(v: unknown): string {
  return toBase64url(sha256(utf8(canonicalJson(v))));
}

/**
 * A map whose canonical digest is kept per bucket (the first two characters of
 * the key), so the state hash re-hashes only the buckets that changed since the
 * last call instead of the whole state (spec/resolution.md §State hash).
 */
export class BucketMap<V> {
  private readonly buckets = new Map<string, Map<string, V>>();
  private readonly digests = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private n = 0;

  get size(): number {
    return this.n;
  }

  get(key: string): V | undefined {
    return this.buckets.get(key.slice(0, 2))?.get(key);
  }

  has(key: string): boolean {
    return this.buckets.get(key.slice(0, 2))?.has(key) ?? false;
  }

  set(key: string, value: V): void {
    const b = key.slice(0, 2);
    let m = this.buckets.get(b);
    if (!m) {
      m = new Map();
      this.buckets.set(b, m);
    }
    if (!m.has(key)) this.n++;
    m.set(key, value);
    this.dirty.add(b);
  }

  delete(key: string): void {
    const b = key.slice(0, 2);
    const m = this.buckets.get(b);
    if (!m?.delete(key)) return;
    this.n--;
    if (m.size === 0) this.buckets.delete(b);
    this.dirty.add(b);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const m of this.buckets.values()) yield* m.entries();
  }

  /** Plain object with keys in sorted order. */
  toObject(): Record<string, V> {
    const keys: string[] = [];
    for (const m of this.buckets.values()) for (const k of m.keys()) keys.push(k);
    keys.sort();
    const out: Record<string, V> = {};
    for (const k of keys) out[k] = this.get(k) as V;
    return out;
  }

  /** { prefix: digest(JCS of that bucket's sub-map) } for every non-empty bucket. */
  bucketDigests(): Record<string, string> {
    for (const b of this.dirty) {
      const m = this.buckets.get(b);
      // Same bytes as digest(): the views are built from verified records with
      // saturated integers, so the I-JSON walk that digest() adds is skipped.
      if (m) this.digests.set(b, stateDigest(Object.fromEntries(m)));
      else this.digests.delete(b);
    }
    this.dirty.clear();
    return Object.fromEntries(this.digests);
  }
}

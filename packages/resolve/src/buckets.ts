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
  return textDigest(canonicalJson(v));
}

/** base64url(SHA-256(UTF-8(text))). */
export function textDigest(text: string): string {
  return toBase64url(sha256(utf8(text)));
}

/**
 * JCS text of a resolver view. The views are built with their members in
 * sorted order (and every nested object too: records' objects are strict, so
 * their member names are fixed and never array indices), which makes
 * JSON.stringify their canonical form; the tests check it against jcs() on
 * every object of every vector and random state.
 */
export const viewJson: (v: unknown) => string = JSON.stringify;

/** JCS text of {k: v} for keys already sorted, v strings: `{"k1":"v1",...}`. */
function stringMapJson(keys: string[], get: (k: string) => string): string {
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    out += `${i ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(get(k))}`;
  }
  return `${out}}`;
}

const EMPTY_ROOT = textDigest('{}');

/**
 * A map whose state-hash contribution is kept as a three-level tree
 * (spec/resolution.md §State hash): each entry's digest is cached, each of the
 * 4,096 buckets (the first two base64url characters of the key) is the digest
 * of {key: entry digest} and the map's root the digest of {prefix: bucket
 * digest}. set() and delete() only mark: the next root() re-hashes the
 * changed entries, then their buckets (about n/4,096 short strings each), then
 * the root.
 */
export class BucketMap<V> {
  private readonly values = new Map<string, V>();
  /** Entry digests, valid unless the key is in dirtyKeys. */
  private readonly leaves = new Map<string, string>();
  private readonly members = new Map<string, Set<string>>();
  private readonly bucketDigest = new Map<string, string>();
  private readonly dirtyKeys = new Set<string>();
  private readonly dirtyBuckets = new Set<string>();
  private rootDigest: string | undefined = EMPTY_ROOT;

  get size(): number {
    return this.values.size;
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  set(key: string, value: V): void {
    const m = this.values;
    if (!m.has(key)) {
      const b = key.slice(0, 2);
      const s = this.members.get(b);
      if (s) s.add(key);
      else this.members.set(b, new Set([key]));
    }
    m.set(key, value);
    this.dirtyKeys.add(key);
    this.rootDigest = undefined;
  }

  delete(key: string): void {
    if (!this.values.delete(key)) return;
    const b = key.slice(0, 2);
    const s = this.members.get(b) as Set<string>;
    s.delete(key);
    if (s.size === 0) this.members.delete(b);
    this.leaves.delete(key);
    this.dirtyKeys.delete(key);
    this.dirtyBuckets.add(b);
    this.rootDigest = undefined;
  }

  entries(): IterableIterator<[string, V]> {
    return this.values.entries();
  }

  /** Plain object with keys in sorted order. */
  toObject(): Record<string, V> {
    const keys = [...this.values.keys()].sort();
    const out: Record<string, V> = {};
    for (const k of keys) out[k] = this.values.get(k) as V;
    return out;
  }

  /** { prefix: digest({key: digest(JCS(value))}) } for every non-empty bucket. */
  bucketDigests(): Record<string, string> {
    this.root();
    const out: Record<string, string> = {};
    for (const b of [...this.bucketDigest.keys()].sort()) out[b] = this.bucketDigest.get(b) as string;
    return out;
  }

  /** digest({prefix: bucket digest}): the map's part of the state hash. */
  root(): string {
    if (this.rootDigest !== undefined) return this.rootDigest;
    for (const k of this.dirtyKeys) {
      this.leaves.set(k, textDigest(viewJson(this.values.get(k))));
      this.dirtyBuckets.add(k.slice(0, 2));
    }
    this.dirtyKeys.clear();
    for (const b of this.dirtyBuckets) {
      const s = this.members.get(b);
      if (s) this.bucketDigest.set(b, textDigest(stringMapJson([...s].sort(), (k) => this.leaves.get(k) as string)));
      else this.bucketDigest.delete(b);
    }
    this.dirtyBuckets.clear();
    const bs = [...this.bucketDigest.keys()].sort();
    this.rootDigest = textDigest(stringMapJson(bs, (b) => this.bucketDigest.get(b) as string));
    return this.rootDigest;
  }
}

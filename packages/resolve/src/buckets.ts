import { B64URL_ALPHABET, type JsonValue, jcsOfIJson } from '@shuniu/protocol';
import { sha256Text } from './sha256.js';

/** base64url(SHA-256(UTF-8(text))): the pure sha256Text or textHasher(native). */
export type TextDigest = (text: string) => string;

/** base64url(SHA-256(JCS(v))) for resolver values (I-JSON): equals digest(v) from @shuniu/protocol. */
export function stateDigest(v: unknown, digest: TextDigest = sha256Text): string {
  return digest(jcsOfIJson(v as JsonValue));
}

const EMPTY_ROOT = sha256Text('{}');

/** Keys JSON writes as they are: every key the resolver makes (ids, conflict ids, region codes). */
const PLAIN_KEY = /^[A-Za-z0-9_./|-]*$/;
/**
 * JSON string of a key: quoted as it is when it is plain, else JSON.stringify
 * (several times dearer). The texts {key: digest} of a bucket and of a map's
 * root are written here, not by jcsOfIJson: a bucket's is the inner loop of
 * the state hash (every changed entry's bucket), its keys sorted by
 * sortByKey; the tests hold both to the definition (views-json.test.ts).
 */
const quoteKey = (k: string): string => (PLAIN_KEY.test(k) ? `"${k}"` : JSON.stringify(k));

/** base64url character code → its value, −1 for any other character. */
const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64[B64URL_ALPHABET.charCodeAt(i)] = i;

/** Slot of a key's two-character prefix when both are base64url (every record id), else −1. */
function slotOf(key: string): number {
  const a = key.charCodeAt(0);
  const b = key.charCodeAt(1);
  if (!(a < 128 && b < 128)) return -1;
  const x = B64[a] as number;
  const y = B64[b] as number;
  return x < 0 || y < 0 ? -1 : (x << 6) | y;
}

const byKey = (x: { key: string }, y: { key: string }): number => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
const SORT_SLOTS = 4096;
let sortKeys = new Float64Array(256);

/**
 * Sorts a bucket's entries by key (UTF-16 code units, as JCS orders members).
 * The keys of a bucket share their first two characters; the next four, as
 * ASCII codes, make a number, so most of the work is a native sort of numbers
 * (a comparator called from JS costs as much as the hashing on a full state);
 * keys equal on those four (rare) are then ordered by the comparator. Keys
 * with other characters there, and huge buckets, take the comparator.
 */
function sortByKey<E extends { key: string }>(es: E[]): void {
  const n = es.length;
  if (n < 2) return;
  if (n > SORT_SLOTS) {
    es.sort(byKey);
    return;
  }
  if (sortKeys.length < n) sortKeys = new Float64Array(Math.max(n, sortKeys.length * 2));
  const a = sortKeys.subarray(0, n);
  for (let i = 0; i < n; i++) {
    const k = (es[i] as E).key;
    let x = 0;
    for (let j = 2; j < 6; j++) {
      // 0 past the end (a shorter key sorts first), else the code + 1.
      const c = j < k.length ? k.charCodeAt(j) + 1 : 0;
      if (c > 128) {
        es.sort(byKey);
        return;
      }
      x = x * 129 + c;
    }
    a[i] = x * SORT_SLOTS + i;
  }
  a.sort();
  const copy = es.slice();
  for (let i = 0; i < n; i++) es[i] = copy[(a[i] as number) % SORT_SLOTS] as E;
  // Runs equal on the four characters: order them by the whole key.
  for (let i = 0; i < n; ) {
    const g = Math.floor((a[i] as number) / SORT_SLOTS);
    let j = i + 1;
    while (j < n && Math.floor((a[j] as number) / SORT_SLOTS) === g) j++;
    if (j - i > 1) {
      const run = es.slice(i, j).sort(byKey);
      for (let r = 0; r < run.length; r++) es[i + r] = run[r] as E;
    }
    i = j;
  }
}

/** The value of an entry whose object left memory (objects.ts): its leaf digest stays, the value is read back through BucketMap.fetch. */
const AWAY: unknown = Object.freeze({ away: true });

interface Entry<V> {
  key: string;
  value: V;
  /** Digest of the value; '' while it needs re-hashing. */
  leaf: string;
  /** False once deleted: the bucket drops it at the next root(). */
  live: boolean;
}

interface Bucket<V> {
  prefix: string;
  entries: Entry<V>[];
  digest: string;
  dirty: boolean;
}

/**
 * A map whose state-hash contribution is kept as a three-level tree
 * (spec/resolution.md §7, State hash): each entry's digest is cached, each of the
 * 4,096 buckets (the first two base64url characters of the key) is the digest
 * of {key: entry digest} and the map's root the digest of {prefix: bucket
 * digest}. set() and delete() only mark: the next root() re-hashes the
 * changed entries, then their buckets (about n/4,096 short strings each), then
 * the root.
 */
export class BucketMap<V> {
  private readonly map = new Map<string, Entry<V>>();
  private readonly buckets = new Map<string, Bucket<V>>();
  /** The same buckets by slotOf(prefix), to find a key's bucket without building its prefix string. */
  private readonly slots: (Bucket<V> | undefined)[] = new Array(4096).fill(undefined);
  private dirtyEntries: Entry<V>[] = [];
  private dirtyBuckets: Bucket<V>[] = [];
  private rootDigest: string | undefined = EMPTY_ROOT;
  /** The buckets' prefixes in JCS order, kept until a bucket is added or removed (root() runs after every write; re-sorting 4,096 prefixes each time was most of it). */
  private order: string[] | undefined;

  /**
   * @param json JCS text of a value: a template of views-json.ts for the
   * large views, the protocol's canonicaliser (jcsOfIJson) otherwise. Not part
   * of a snapshot: the owner sets it again after restore().
   */
  /** Reads back the value of an entry that left memory (set by objects.ts when a resolver lets finished objects go). */
  fetch: ((key: string) => V) | undefined = undefined;
  /** When set, the keys set() since the owner last cleared it (objects.ts: the candidates for letting go). */
  changed: Set<string> | undefined = undefined;

  constructor(public json: (value: V) => string = jcsOfIJson as (value: V) => string) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    return e.value === AWAY ? this.away(key) : e.value;
  }

  private away(key: string): V {
    if (this.fetch === undefined) throw new Error(`BucketMap: ${key} left memory and nothing reads it back`);
    return this.fetch(key);
  }

  /**
   * Lets the value of `key` leave memory, keeping its leaf digest (spec/resolution.md §11, the state
   * hash without every object): get(), entries(), toObject() and snapshot() read it back through
   * `fetch`. Only a hashed entry can go (root() first); returns whether it went.
   */
  evict(key: string): boolean {
    const e = this.map.get(key);
    if (e === undefined || e.leaf === '' || e.value === AWAY) return false;
    e.value = AWAY as V;
    return true;
  }

  /** Puts back the value of an entry that left memory, unchanged: its leaf digest stays (nothing is re-hashed). */
  putBack(key: string, value: V): void {
    const e = this.map.get(key);
    if (e !== undefined && e.value === AWAY) e.value = value;
  }

  /** The cached leaf digest of `key` ('' while it needs re-hashing, undefined when there is no such key). */
  leaf(key: string): string | undefined {
    return this.map.get(key)?.leaf;
  }

  /** Whether the value of `key` is in memory (false when it left, or there is no such key). */
  resident(key: string): boolean {
    const e = this.map.get(key);
    return e !== undefined && e.value !== AWAY;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    const e = this.map.get(key);
    this.rootDigest = undefined;
    this.changed?.add(key);
    if (e) {
      e.value = value;
      if (e.leaf !== '') {
        e.leaf = '';
        this.dirtyEntries.push(e);
      }
      return;
    }
    const n: Entry<V> = { key, value, leaf: '', live: true };
    this.map.set(key, n);
    this.dirtyEntries.push(n);
    const b = this.bucketOf(key);
    if (b) b.entries.push(n);
    else {
      const p = key.slice(0, 2);
      const nb: Bucket<V> = { prefix: p, entries: [n], digest: '', dirty: false };
      this.buckets.set(p, nb);
      this.order = undefined;
      const i = slotOf(p);
      if (i >= 0) this.slots[i] = nb;
    }
  }

  private bucketOf(key: string): Bucket<V> | undefined {
    const i = slotOf(key);
    return i >= 0 ? this.slots[i] : this.buckets.get(key.slice(0, 2));
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    e.live = false;
    this.rootDigest = undefined;
    const b = this.bucketOf(key) as Bucket<V>;
    if (!b.dirty) {
      b.dirty = true;
      this.dirtyBuckets.push(b);
    }
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [k, e] of this.map) yield [k, e.value === AWAY ? this.away(k) : e.value];
  }

  /** Plain object with keys in sorted order. */
  toObject(): Record<string, V> {
    const keys = [...this.map.keys()].sort();
    const out: Record<string, V> = {};
    for (const k of keys) {
      const v = (this.map.get(k) as Entry<V>).value;
      out[k] = v === AWAY ? this.away(k) : v;
    }
    return out;
  }

  /**
   * [[key, value, digest, …], [prefix, bucket digest, …], root digest or
   * null]: what Resolver snapshots keep so that a restore re-hashes nothing
   * (a value null: it left memory, its leaf digest is kept).
   * Taken after root(), so every digest is current.
   */
  snapshot(digest: TextDigest = sha256Text, away = false): unknown[] {
    this.root(digest);
    const entries: unknown[] = [];
    // With `away` (an open-state snapshot, objects.ts), a value that left memory is written as null (no value is null) and stays where it is.
    for (const e of this.map.values()) entries.push(e.key, e.value === AWAY ? (away ? null : this.away(e.key)) : e.value, e.leaf);
    const buckets: unknown[] = [];
    for (const b of this.buckets.values()) buckets.push(b.prefix, b.digest);
    return [entries, buckets, this.rootDigest ?? null];
  }

  /** Inverse of snapshot(). */
  static restore<V>(parts: unknown[], json: (value: V) => string = jcsOfIJson as (value: V) => string): BucketMap<V> {
    const [entries, buckets, root] = parts as [unknown[], unknown[], string | null];
    const b = new BucketMap<V>(json);
    for (let i = 0; i < entries.length; i += 3) {
      const key = entries[i] as string;
      const v = entries[i + 1];
      b.set(key, (v === null ? AWAY : v) as V);
      (b.map.get(key) as Entry<V>).leaf = entries[i + 2] as string;
    }
    b.dirtyEntries = b.dirtyEntries.filter((e) => e.leaf === '');
    const saved = new Map<string, string>();
    for (let i = 0; i < buckets.length; i += 2) saved.set(buckets[i] as string, buckets[i + 1] as string);
    for (const bucket of b.buckets.values()) {
      sortByKey(bucket.entries);
      const d = saved.get(bucket.prefix);
      if (d !== undefined) bucket.digest = d;
      else {
        bucket.dirty = true;
        b.dirtyBuckets.push(bucket);
      }
    }
    b.rootDigest = typeof root === 'string' && b.dirtyEntries.length === 0 && b.dirtyBuckets.length === 0 ? root : undefined;
    return b;
  }

  /** digest({prefix: bucket digest}): the map's part of the state hash. */
  root(digest: TextDigest = sha256Text): string {
    if (this.rootDigest !== undefined) return this.rootDigest;
    for (const e of this.dirtyEntries) {
      if (!e.live) continue;
      e.leaf = digest(this.json(e.value));
      const b = this.bucketOf(e.key) as Bucket<V>;
      if (!b.dirty) {
        b.dirty = true;
        this.dirtyBuckets.push(b);
      }
    }
    this.dirtyEntries = [];
    for (const b of this.dirtyBuckets) {
      b.dirty = false;
      // A deleted entry is dead for good (a later set() of its key makes a new one), so `live` alone tells.
      const es = b.entries.filter((e) => e.live);
      sortByKey(es);
      b.entries = es;
      if (es.length === 0) {
        this.buckets.delete(b.prefix);
        this.order = undefined;
        const i = slotOf(b.prefix);
        if (i >= 0) this.slots[i] = undefined;
        continue;
      }
      let out = '{';
      for (let i = 0; i < es.length; i++) {
        const e = es[i] as Entry<V>;
        out += `${i ? ',' : ''}${quoteKey(e.key)}:"${e.leaf}"`;
      }
      b.digest = digest(`${out}}`);
    }
    this.dirtyBuckets = [];
    // {prefix: bucket digest} in JCS order, written like a bucket (jcsOfIJson would take its general
    // path, as an object lists integer-like prefixes such as "42" first: 13-28 ms against 1 ms for 4,096 buckets).
    this.order ??= [...this.buckets.keys()].sort();
    const ps = this.order;
    let out = '{';
    for (let i = 0; i < ps.length; i++) out += `${i ? ',' : ''}${quoteKey(ps[i] as string)}:"${(this.buckets.get(ps[i] as string) as Bucket<V>).digest}"`;
    this.rootDigest = digest(`${out}}`);
    return this.rootDigest;
  }
}

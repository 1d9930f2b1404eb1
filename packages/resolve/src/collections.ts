/**
 * Small containers the resolver's derivation is built from (spec/resolution.md
 * §9, Cost): a map of a few entries, a sum kept by delta with its members, the
 * queue of record-clock deadlines, and integer saturation (spec notation:
 * integers saturate at 2^53−1). No resolution rule lives here.
 */

const MAX = Number.MAX_SAFE_INTEGER;
/** Quantities saturate at 2^53−1 so the state stays I-JSON whatever the records say. */
export const sat = (x: number): number => Math.min(x, MAX);
/** Base units: quantity × unit size, saturated. */
export const mul = (q: number, size: number): number => sat(q * size);

/** The shared empty array (never written: containers replace it on first insertion). */
export const NONE: never[] = [];

/** A map of a few entries (a shipment's allocations, items, lots): two arrays, far lighter than a Map; none until the first set(). */
export class SmallMap<V> {
  k: string[] = NONE;
  v: V[] = NONE;
  get size(): number {
    return this.k.length;
  }
  get(key: string): V | undefined {
    const i = this.k.indexOf(key);
    return i < 0 ? undefined : this.v[i];
  }
  set(key: string, value: V): this {
    const i = this.k.indexOf(key);
    if (i >= 0) this.v[i] = value;
    else if (this.k === NONE) {
      this.k = [key];
      this.v = [value];
    } else {
      this.k.push(key);
      this.v.push(value);
    }
    return this;
  }
}

/**
 * A sum kept by delta plus its members (record id → receiving hub, quantity),
 * for the custody groups: parallel arrays, most groups having one or two
 * members, with an index once a group grows (so that put/remove stay O(1)).
 * Member order is not meaningful (every reader sorts or counts).
 */
export class Group {
  // NONE until the first put(): arrays grown by push() from empty reserve 16 slots, and most groups hold one member.
  keys: string[] = NONE;
  tos: string[] = NONE;
  qs: number[] = NONE;
  idx: Map<string, number> | undefined = undefined;
  total = 0;
  get size(): number {
    return this.keys.length;
  }
  private find(key: string): number {
    return this.idx === undefined ? this.keys.indexOf(key) : (this.idx.get(key) ?? -1);
  }
  put(key: string, to: string, q: number): void {
    const i = this.find(key);
    if (i >= 0) {
      this.total -= this.qs[i] as number;
      this.tos[i] = to;
      this.qs[i] = q;
    } else if (this.keys === NONE) {
      this.keys = [key];
      this.tos = [to];
      this.qs = [q];
    } else {
      const n = this.keys.push(key);
      this.tos.push(to);
      this.qs.push(q);
      if (this.idx !== undefined) this.idx.set(key, n - 1);
      else if (n > 16) this.idx = new Map(this.keys.map((k, j) => [k, j]));
    }
    this.total = sat(this.total + q);
  }
  remove(key: string): void {
    const i = this.find(key);
    if (i < 0) return;
    this.total -= this.qs[i] as number;
    const last = this.keys.length - 1;
    if (i !== last) {
      this.keys[i] = this.keys[last] as string;
      this.tos[i] = this.tos[last] as string;
      this.qs[i] = this.qs[last] as number;
      this.idx?.set(this.keys[i] as string, i);
    }
    this.keys.pop();
    this.tos.pop();
    this.qs.pop();
    this.idx?.delete(key);
  }
}

/** Stages an object can be queued for when the record clock passes a date (the names are what snapshots store). */
export type TimedStage = 'needView' | 'offerView' | 'ship';

/** Binary min-heap of [deadline ms, stage, id]: objects whose status flips when the record clock passes a date. */
export class DeadlineHeap {
  private readonly a: [number, TimedStage, string][];
  /** `entries`: a heap's entries() (a snapshot restores a heap from them). */
  constructor(entries: [number, TimedStage, string][] = []) {
    this.a = entries;
  }
  /** The entries in heap order (what a snapshot keeps). */
  entries(): [number, TimedStage, string][] {
    return this.a;
  }
  get size(): number {
    return this.a.length;
  }
  peek(): [number, TimedStage, string] | undefined {
    return this.a[0];
  }
  push(e: [number, TimedStage, string]): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as [number, TimedStage, string])[0] <= e[0]) break;
      a[i] = a[p] as [number, TimedStage, string];
      i = p;
    }
    a[i] = e;
  }
  pop(): [number, TimedStage, string] | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && (a[r] as [number, TimedStage, string])[0] < (a[l] as [number, TimedStage, string])[0] ? r : l;
      if ((a[c] as [number, TimedStage, string])[0] >= last[0]) break;
      a[i] = a[c] as [number, TimedStage, string];
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** A new array of the distinct strings of `xs`, sorted (by UTF-16 code units, as Array.prototype.sort). */
export function sorted(xs: readonly string[]): string[] {
  if (xs.length <= 1) return xs.slice();
  const a = xs.slice().sort();
  let n = 1;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[n - 1]) a[n++] = a[i] as string;
  a.length = n;
  return a;
}

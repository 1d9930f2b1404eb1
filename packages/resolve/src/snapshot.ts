import { ShuniuError } from '@shuniu/protocol';

/**
 * Snapshot encoding of the resolver's internal state (records held, indexes,
 * derived objects, the state with its cached digests): plain JSON that a node
 * can store and restore without re-deriving anything.
 *
 * Every string is interned once in `strings`, every plain-object shape (its
 * member names in order) once in `shapes`. In the encoded tree: a JSON number
 * is a string reference; a JSON string is a number written in decimal, or
 * "u" for undefined; booleans and null are themselves; a container is an
 * array whose first element says what it holds:
 * - ["a", value…] an array; ["z", length, index, value, …] a sparse one;
 * - ["o", shape, value…] a plain object;
 * - ["m", key, value, …] a Map; ["s", value…] a Set;
 * - ["b", list] a BucketMap's snapshot() list;
 * - ["c", class name, fields] an instance of a registered class;
 * - ["r", record id] the body of that record (bodies are stored once, with their records);
 * - ["R", id, type, hub, seq, prev, hlc.ms, hlc.c, body, …] the records.
 * One array per container, no wrapper objects, small numbers' strings
 * shared: a snapshot of a million records fits next to the resolver.
 */

/** "0" … "4095", shared rather than allocated per number. */
const SMALL = Array.from({ length: 4096 }, (_, i) => String(i));
const num = (n: number): string => (n >= 0 && n < 4096 && Number.isInteger(n) ? (SMALL[n] as string) : String(n));

export interface Registry {
  /** Class name → prototype, for instances restored field by field. */
  classes: Record<string, object>;
  /** Restores a `b` container from the decoded snapshot() list. */
  bucketMap: (parts: unknown[]) => unknown;
  isBucketMap: (x: object) => x is { snapshot(): unknown[] };
}

interface Rec {
  type: string;
  hub: string;
  seq: number;
  prev: string | null;
  hlc: { ms: number; c: number };
  body: object;
}

export class Encoder {
  readonly strings: string[] = [];
  readonly shapes: number[][] = [];
  private readonly ids = new Map<string, number>();
  private readonly shapeIds = new Map<string, number>();
  private readonly names: Map<object, string>;
  /** Record bodies already written, by the record's id. */
  private readonly bodies = new Map<object, string>();

  constructor(private readonly reg: Registry) {
    this.names = new Map(Object.entries(reg.classes).map(([k, p]) => [p, k]));
  }

  str(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, i);
    }
    return i;
  }

  /** The records map, bodies written here once and referenced elsewhere. */
  records(recs: Map<string, Rec>): unknown {
    const out: unknown[] = ['R'];
    for (const [id, r] of recs) {
      this.bodies.set(r.body, id);
      out.push(this.str(id), this.str(r.type), this.str(r.hub), num(r.seq), r.prev === null ? null : this.str(r.prev));
      out.push(num(r.hlc.ms), num(r.hlc.c), this.object(r.body));
    }
    return out;
  }

  enc(x: unknown): unknown {
    switch (typeof x) {
      case 'string':
        return this.str(x);
      case 'number':
        return num(x);
      case 'boolean':
        return x;
      case 'undefined':
        return 'u';
      case 'object': {
        if (x === null) return null;
        if (Array.isArray(x)) return this.array(x);
        if (x instanceof Map) {
          const out: unknown[] = ['m'];
          for (const [k, v] of x) out.push(this.enc(k), this.enc(v));
          return out;
        }
        if (x instanceof Set) {
          const out: unknown[] = ['s'];
          for (const v of x) out.push(this.enc(v));
          return out;
        }
        if (this.reg.isBucketMap(x)) return ['b', this.enc(x.snapshot())];
        const body = this.bodies.get(x);
        if (body !== undefined) return ['r', this.str(body)];
        const proto = Object.getPrototypeOf(x);
        if (proto === Object.prototype || proto === null) return this.object(x);
        const name = this.names.get(proto);
        if (name === undefined) throw new ShuniuError('E_ARGUMENT', 'snapshot: unregistered class');
        return ['c', this.str(name), this.object(x)];
      }
      default:
        throw new ShuniuError('E_ARGUMENT', `snapshot: cannot encode a ${typeof x}`);
    }
  }

  private array(x: unknown[]): unknown {
    const n = x.length;
    if (n > 64) {
      let k = 0;
      x.forEach(() => {
        k++;
      });
      if (k < n / 2) {
        const out: unknown[] = ['z', num(n)];
        x.forEach((v, i) => out.push(num(i), this.enc(v)));
        return out;
      }
    }
    const out = new Array<unknown>(n + 1);
    out[0] = 'a';
    for (let i = 0; i < n; i++) out[i + 1] = this.enc(x[i]);
    return out;
  }

  private object(x: object): unknown {
    const keys: string[] = [];
    const out: unknown[] = ['o', 0];
    for (const k in x) {
      if (!Object.hasOwn(x, k)) continue;
      const v = (x as Record<string, unknown>)[k];
      if (v === undefined) continue;
      keys.push(k);
      out.push(this.enc(v));
    }
    const sig = keys.join('\u0000');
    let s = this.shapeIds.get(sig);
    if (s === undefined) {
      s = this.shapes.length;
      this.shapes.push(keys.map((k) => this.str(k)));
      this.shapeIds.set(sig, s);
    }
    out[1] = num(s);
    return out;
  }
}

const bad = (what: string): never => {
  throw new ShuniuError('E_ARGUMENT', `not a resolver snapshot: ${what}`);
};

export class Decoder {
  private readonly shapes: string[][];
  private readonly bodies = new Map<string, object>();

  constructor(
    private readonly strings: unknown[],
    shapes: unknown[],
    private readonly reg: Registry,
  ) {
    if (!strings.every((s) => typeof s === 'string')) bad('strings');
    this.shapes = shapes.map((sh) => (Array.isArray(sh) ? sh.map((i) => this.dec(i) as string) : bad('shape')));
  }

  dec(y: unknown): unknown {
    switch (typeof y) {
      case 'number': {
        const s = this.strings[y];
        return typeof s === 'string' ? s : bad('string reference out of range');
      }
      case 'string': {
        if (y === 'u') return undefined;
        const n = Number(y);
        return Number.isNaN(n) ? bad('number expected') : n;
      }
      case 'boolean':
        return y;
      case 'object': {
        if (y === null) return null;
        if (!Array.isArray(y)) return bad('container expected');
        const v = y;
        switch (v[0]) {
          case 'a': {
            const out = new Array<unknown>(v.length - 1);
            for (let i = 1; i < v.length; i++) if (v[i] !== 'u') out[i - 1] = this.dec(v[i]);
            return out;
          }
          case 'o': {
            const shape = this.shapes[this.dec(v[1]) as number] ?? bad('unknown shape');
            const out: Record<string, unknown> = {};
            for (let i = 0; i < shape.length; i++) out[shape[i] as string] = this.dec(v[i + 2]);
            return out;
          }
          case 'm': {
            const m = new Map<unknown, unknown>();
            for (let i = 1; i < v.length; i += 2) m.set(this.dec(v[i]), this.dec(v[i + 1]));
            return m;
          }
          case 's': {
            const out = new Set<unknown>();
            for (let i = 1; i < v.length; i++) out.add(this.dec(v[i]));
            return out;
          }
          case 'z': {
            const out = new Array<unknown>(this.dec(v[1]) as number);
            for (let i = 2; i < v.length; i += 2) out[this.dec(v[i]) as number] = this.dec(v[i + 1]);
            return out;
          }
          case 'b':
            return this.reg.bucketMap(this.dec(v[1]) as unknown[]);
          case 'c': {
            const proto = this.reg.classes[this.dec(v[1]) as string] ?? bad('unknown class');
            return Object.assign(Object.create(proto), this.dec(v[2]));
          }
          case 'r':
            return this.bodies.get(this.dec(v[1]) as string) ?? bad('body of an unknown record');
          case 'R': {
            const recs = new Map<string, Rec>();
            for (let i = 1; i < v.length; i += 8) {
              const id = this.dec(v[i]) as string;
              const body = this.dec(v[i + 7]) as object;
              const prev = this.dec(v[i + 4]) as string | null;
              const hlc = { ms: this.dec(v[i + 5]) as number, c: this.dec(v[i + 6]) as number };
              recs.set(id, { type: this.dec(v[i + 1]) as string, hub: this.dec(v[i + 2]) as string, seq: this.dec(v[i + 3]) as number, prev, hlc, body });
              this.bodies.set(id, body);
            }
            return recs;
          }
          default:
            return bad('unknown container');
        }
      }
      default:
        return bad('unexpected value');
    }
  }
}

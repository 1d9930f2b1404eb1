import { ShuniuError } from '@shuniu/protocol';

/**
 * Snapshot encoding (spec/resolution.md §9, snapshot.ts) of the resolver's internal state (records held, indexes,
 * derived objects, the state with its cached digests): plain JSON that a node
 * can store and restore without re-deriving anything, and small enough in
 * memory that a million records' snapshot fits next to the resolver.
 *
 * Every string is interned once in `strings` (a string, or its UTF-16 code
 * units when it has any above U+00FF, so that the JSON text stays one byte per
 * character), every plain-object shape (its member names in order) once in
 * `shapes`. The values are one stream of numbers, cut into chunks of at most
 * 2^20 (flat number arrays, no object per value):
 * - t ≥ 0: the string strings[t];
 * - −1 undefined, −2 null, −3 false, −4 true, −5 n: the number n;
 * - −6 n v…: an array of n values; −10 n k (i v)…: a sparse array of length n with k values;
 * - −7 s v…: a plain object of shape s (one value per member name);
 * - −8 n (k v)…: a Map; −9 n v…: a Set;
 * - −11 v: a BucketMap (its snapshot() list); −12 t −7 s v…: an instance of the
 *   registered class strings[t], as the object of shape s its codec's save() gives;
 * - −13 t: the body of record strings[t] (bodies are stored once, with their records);
 * - −14: (the records map of formats before 4; no longer written or read);
 * - −15 t: a reference to the node (Registry.nodeId) of id strings[t];
 * - −16 n k f… then n × (id 0 | id 1 type hub seq prev hlc.ms hlc.c body)
 *   then n × (mask v…): the node table, every node's record first (so that
 *   bodies are written once, before any reference), then, node by node in the
 *   same order, a bit mask of its fields f that are defined and their values.
 *
 * Which fields are written, and what they are read back into, is not decided
 * here: snapshot.ts lists them (node fields, class fields) and names the
 * format they make; this module only encodes values.
 */

/** How instances of one class are written (save: its fields, by name) and read back (load). */
export interface ClassCodec {
  proto: object;
  save(x: object): Record<string, unknown>;
  load(fields: Record<string, unknown>): object;
}

export interface Registry {
  /** Class name → its codec. */
  classes: Record<string, ClassCodec>;
  /** Restores a BucketMap from the decoded snapshot() list. */
  bucketMap: (parts: unknown[]) => unknown;
  /** A BucketMap; snapshot(undefined, true) writes the values that left memory as null (open-state snapshots). */
  isBucketMap: (x: object) => x is { snapshot(digest?: undefined, away?: boolean): unknown[] };
  /**
   * A node that left memory (objects.ts), for open-state snapshots: written in the node table as its
   * id and its facts only (NODES' record flag 2), never read field by field. Undefined for any other node.
   */
  stub?: (o: GraphNode) => { facts: unknown } | undefined;
  /** The id of a graph node (written as a reference, never inline), or undefined for any other object. */
  nodeId?: (x: object) => string | undefined;
  /** Sets field `i` (of the node fields the snapshot lists) of a node being read. */
  setNodeField?: (o: object, i: number, v: unknown) => void;
}

interface Rec {
  type: string;
  hub: string;
  seq: number;
  prev: string | null;
  hlc: { ms: number; c: number };
  body: object;
}

const CHUNK = 1 << 20;
const UNDEF = -1;
const NULL = -2;
const FALSE = -3;
const TRUE = -4;
const NUM = -5;
const ARRAY = -6;
const OBJECT = -7;
const MAP = -8;
const SET = -9;
const SPARSE = -10;
const BUCKETS = -11;
const CLASS = -12;
const BODY = -13;
const REF = -15;
const NODES = -16;

/** A node of the resolver's graph, as the node table sees it. */
interface GraphNode {
  rec: Rec | undefined;
}

const wide = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return true;
  return false;
};

const codeUnits = (s: string): number[] => {
  const out = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

export class Encoder {
  readonly strings: (string | number[])[] = [];
  readonly shapes: number[][] = [];
  readonly chunks: number[][] = [];
  private cur: number[] = [];
  private readonly ids = new Map<string, number>();
  /** Shape ids by the shape's first member name ('' for none), and each shape's member names. */
  private readonly shapeCands = new Map<string, number[]>();
  private readonly shapeKeys: string[][] = [];
  /** Member names and values of the objects being written (object()). */
  private readonly ks: string[] = [];
  private readonly vs: unknown[] = [];
  private readonly names: Map<object, string>;
  /** Record bodies already written, by the record's id. */
  private readonly bodies = new Map<object, string>();

  constructor(private readonly reg: Registry) {
    this.names = new Map(Object.entries(reg.classes).map(([k, c]) => [c.proto, k]));
    this.chunks.push(this.cur);
  }

  private put(t: number): void {
    if (this.cur.length >= CHUNK) {
      this.cur = [];
      this.chunks.push(this.cur);
    }
    this.cur.push(t);
  }

  private str(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(wide(s) ? codeUnits(s) : s);
      this.ids.set(s, i);
    }
    return i;
  }

  /** The node table (NODES): records first, then each field of every node (node references inside are REF). */
  nodes(nodes: Map<string, GraphNode>, fields: readonly string[]): void {
    this.put(NODES);
    this.put(nodes.size);
    this.put(fields.length);
    for (const f of fields) this.put(this.str(f));
    const stubs = new Set<GraphNode>();
    for (const [id, o] of nodes) {
      this.put(this.str(id));
      const stub = this.reg.stub?.(o);
      if (stub !== undefined) {
        stubs.add(o);
        this.put(2);
        this.enc(stub.facts ?? null);
        continue;
      }
      const r = o.rec;
      if (r === undefined) {
        this.put(0);
        continue;
      }
      this.put(1);
      this.bodies.set(r.body, id);
      this.put(this.str(r.type));
      this.put(this.str(r.hub));
      this.put(r.seq);
      this.put(r.prev === null ? NULL : this.str(r.prev));
      this.put(r.hlc.ms);
      this.put(r.hlc.c);
      this.enc(r.body, true);
    }
    if (fields.length > 30) throw new ShuniuError('E_ARGUMENT', 'snapshot: at most 30 node fields');
    for (const o of nodes.values()) {
      if (stubs.size > 0 && stubs.has(o)) continue;
      const x = o as unknown as Record<string, unknown>;
      let mask = 0;
      for (let i = 0; i < fields.length; i++) if (x[fields[i] as string] !== undefined) mask |= 1 << i;
      this.put(mask);
      for (let i = 0; i < fields.length; i++) if ((mask & (1 << i)) !== 0) this.enc(x[fields[i] as string]);
    }
  }

  enc(x: unknown, inline = false): void {
    switch (typeof x) {
      case 'string':
        this.put(this.str(x));
        return;
      case 'number':
        this.put(NUM);
        this.put(x);
        return;
      case 'boolean':
        this.put(x ? TRUE : FALSE);
        return;
      case 'undefined':
        this.put(UNDEF);
        return;
      case 'object': {
        if (x === null) {
          this.put(NULL);
          return;
        }
        const nid = this.reg.nodeId?.(x);
        if (nid !== undefined) {
          this.put(REF);
          this.put(this.str(nid));
          return;
        }
        if (Array.isArray(x)) {
          this.array(x);
          return;
        }
        if (x instanceof Map) {
          this.put(MAP);
          this.put(x.size);
          for (const [k, v] of x) {
            this.enc(k);
            this.enc(v);
          }
          return;
        }
        if (x instanceof Set) {
          this.put(SET);
          this.put(x.size);
          for (const v of x) this.enc(v);
          return;
        }
        if (this.reg.isBucketMap(x)) {
          this.put(BUCKETS);
          this.enc(x.snapshot(undefined, this.reg.stub !== undefined));
          return;
        }
        const body = inline ? undefined : this.bodies.get(x);
        if (body !== undefined) {
          this.put(BODY);
          this.put(this.str(body));
          return;
        }
        const proto = Object.getPrototypeOf(x);
        if (proto !== Object.prototype && proto !== null) {
          const name = this.names.get(proto);
          if (name === undefined) throw new ShuniuError('E_ARGUMENT', 'snapshot: unregistered class');
          this.put(CLASS);
          this.put(this.str(name));
          this.object((this.reg.classes[name] as ClassCodec).save(x));
          return;
        }
        this.object(x);
        return;
      }
      default:
        throw new ShuniuError('E_ARGUMENT', `snapshot: cannot encode a ${typeof x}`);
    }
  }

  private array(x: unknown[]): void {
    const n = x.length;
    // An array with holes is written sparse whatever its length: a hole read back as an undefined element
    // is not a hole (forEach visits it: a hub's records by seq, HubData.first, with a seq missing).
    let k = 0;
    x.forEach(() => {
      k++;
    });
    if (k < n) {
      this.put(SPARSE);
      this.put(n);
      this.put(k);
      x.forEach((v, i) => {
        this.put(i);
        this.enc(v);
      });
      return;
    }
    this.put(ARRAY);
    this.put(n);
    for (let i = 0; i < n; i++) this.enc(x[i]);
  }

  /**
   * A plain object: its shape (the names of its defined members, in order),
   * then their values. Shapes are found by comparing member names (interned
   * strings, so pointer comparisons) with the shapes seen under the same
   * first name: no signature string built and hashed per object, which was
   * most of a snapshot's time. Names and values wait on two shared stacks
   * while the values are written (nested objects push above and pop back).
   */
  private object(x: object): void {
    const ks = this.ks;
    const vs = this.vs;
    const base = ks.length;
    for (const k in x) {
      if (!Object.hasOwn(x, k)) continue;
      const v = (x as Record<string, unknown>)[k];
      if (v === undefined) continue;
      ks.push(k);
      vs.push(v);
    }
    const n = ks.length - base;
    const first = n > 0 ? (ks[base] as string) : '';
    let s = -1;
    const cands = this.shapeCands.get(first);
    if (cands !== undefined) {
      for (const id of cands) {
        const sk = this.shapeKeys[id] as string[];
        if (sk.length !== n) continue;
        let j = 0;
        while (j < n && sk[j] === ks[base + j]) j++;
        if (j === n) {
          s = id;
          break;
        }
      }
    }
    if (s < 0) {
      s = this.shapes.length;
      const keys = ks.slice(base);
      this.shapeKeys.push(keys);
      this.shapes.push(keys.map((k) => this.str(k)));
      if (cands !== undefined) cands.push(s);
      else this.shapeCands.set(first, [s]);
    }
    this.put(OBJECT);
    this.put(s);
    for (let i = base; i < base + n; i++) this.enc(vs[i]);
    ks.length = base;
    vs.length = base;
  }
}

const bad = (what: string): never => {
  throw new ShuniuError('E_ARGUMENT', `not a resolver snapshot: ${what}`);
};

export class Decoder {
  /** The node field names of the node table read (NODES), for the caller to check against its own list. */
  nodeFields: string[] | undefined;
  /** The nodes of the node table that left memory (record flag 2) and their facts: the caller makes them stubs (objects.ts). */
  readonly stubs: [GraphNode, unknown][] = [];
  private readonly strings: string[];
  private readonly shapes: string[][];
  private readonly bodies = new Map<string, object>();
  private readonly graph = new Map<string, GraphNode>();
  private chunk: number[] = [];
  private ci = 0;
  private pos = 0;

  constructor(
    strings: unknown[],
    shapes: unknown[],
    private readonly chunks: unknown[],
    private readonly reg: Registry,
    /** Makes the node of an id (for NODES and REF). */
    private readonly makeNode: (id: string) => GraphNode = () => bad('node references'),
  ) {
    this.strings = strings.map((s) =>
      typeof s === 'string' ? s : Array.isArray(s) && s.every((c) => Number.isInteger(c)) ? String.fromCharCode(...(s as number[])) : bad('strings'),
    );
    this.shapes = shapes.map((sh) => (Array.isArray(sh) ? sh.map((i) => this.str(i)) : bad('shape')));
    if (!chunks.every((c) => Array.isArray(c))) bad('chunks');
    this.chunk = (chunks[0] as number[] | undefined) ?? [];
  }

  private str(i: unknown): string {
    const s = this.strings[i as number];
    return typeof s === 'string' ? s : bad('string reference out of range');
  }

  private next(): number {
    while (this.pos >= this.chunk.length) {
      this.ci++;
      if (this.ci >= this.chunks.length) bad('truncated');
      this.chunk = this.chunks[this.ci] as number[];
      this.pos = 0;
    }
    const t = this.chunk[this.pos++];
    return typeof t === 'number' ? t : bad('number expected');
  }

  private node(id: string): GraphNode {
    let o = this.graph.get(id);
    if (o === undefined) {
      o = this.makeNode(id);
      this.graph.set(id, o);
    }
    return o;
  }

  dec(): unknown {
    const t = this.next();
    if (t >= 0) return this.str(t);
    switch (t) {
      case UNDEF:
        return undefined;
      case NULL:
        return null;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case NUM:
        return this.next();
      case ARRAY: {
        const n = this.next();
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.dec();
        return out;
      }
      case SPARSE: {
        const out = new Array<unknown>(this.next());
        const k = this.next();
        for (let i = 0; i < k; i++) {
          const at = this.next();
          out[at] = this.dec();
        }
        return out;
      }
      case OBJECT:
        return this.object();
      case MAP: {
        const n = this.next();
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.dec();
          m.set(k, this.dec());
        }
        return m;
      }
      case SET: {
        const n = this.next();
        const out = new Set<unknown>();
        for (let i = 0; i < n; i++) out.add(this.dec());
        return out;
      }
      case BUCKETS:
        return this.reg.bucketMap(this.dec() as unknown[]);
      case CLASS: {
        const codec = this.reg.classes[this.str(this.next())] ?? bad('unknown class');
        if (this.next() !== OBJECT) bad('class fields expected');
        return codec.load(this.object());
      }
      case BODY:
        return this.bodies.get(this.str(this.next())) ?? bad('body of an unknown record');
      case REF:
        return this.node(this.str(this.next()));
      case NODES: {
        const n = this.next();
        const k = this.next();
        const fields: string[] = [];
        for (let i = 0; i < k; i++) fields.push(this.str(this.next()));
        this.nodeFields = fields;
        const order: GraphNode[] = [];
        const out = new Map<string, GraphNode>();
        for (let i = 0; i < n; i++) {
          const id = this.str(this.next());
          const o = this.node(id);
          out.set(id, o);
          const has = this.next();
          if (has === 2) {
            this.stubs.push([o, this.dec()]);
            continue;
          }
          order.push(o);
          if (has === 0) continue;
          if (has !== 1) bad('node record flag');
          const type = this.str(this.next());
          const hub = this.str(this.next());
          const seq = this.next();
          const p = this.next();
          const prev = p === NULL ? null : this.str(p);
          const ms = this.next();
          const c = this.next();
          const body = this.dec() as object;
          o.rec = { type, hub, seq, prev, hlc: { ms, c }, body };
          this.bodies.set(id, body);
        }
        const set = this.reg.setNodeField ?? bad('node fields');
        for (const o of order) {
          const mask = this.next();
          for (let i = 0; i < k; i++) if ((mask & (1 << i)) !== 0) set(o, i, this.dec());
        }
        return out;
      }
      default:
        return bad('unknown token');
    }
  }

  /** Throws unless the whole stream was read. */
  end(): void {
    if (this.pos < this.chunk.length || this.ci < this.chunks.length - 1) bad('values left over');
  }

  private object(): Record<string, unknown> {
    const shape = this.shapes[this.next()] ?? bad('unknown shape');
    const out: Record<string, unknown> = {};
    for (let i = 0; i < shape.length; i++) out[shape[i] as string] = this.dec();
    return out;
  }
}

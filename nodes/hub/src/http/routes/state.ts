import { getConnInfo } from '@hono/node-server/conninfo';
import { ShuniuError } from '@shuniu/protocol';
import { type Context, Hono } from 'hono';
import type { Ingestor } from '../../ingest.js';
import type { Store } from '../../store/types.js';
import type { Trust } from '../../trust.js';
import { principalOf } from '../access.js';
import { Buckets, intParam } from '../body.js';
import { clientKey } from '../peer-auth.js';
import { feedFilter } from './feed.js';

export interface StateDeps {
  store: Store;
  ingestor: Ingestor;
  trust: Trust;
  /** Pages already written, per state version (default: one of 64 MiB). */
  cache?: StateCache;
}

export const COLLECTIONS = ['needs', 'offers', 'allocations', 'shipments', 'conflicts', 'hubs', 'held', 'pending', 'bundles'] as const;

/** Items per page of /v1/state/{collection}: default and most (spec/node.md §6). */
export const STATE_PAGE_DEFAULT = 1000;
export const STATE_PAGE_MAX = 5000;

type Item = Record<string, unknown>;

const enc = new TextEncoder();
const COMMA = enc.encode(',');

/** Filters resolved items with the feed's parameters, on the members the item has. */
function matches(item: Item, f: ReturnType<typeof feedFilter>): boolean {
  if (f.region) {
    const region = typeof item.region === 'string' ? item.region : undefined;
    if (!region?.startsWith(f.region)) return false;
  }
  if (f.urgency && !(typeof item.urgency === 'string' && f.urgency.includes(item.urgency))) return false;
  if (f.group) {
    const g = (item.beneficiaries as { group?: string } | undefined)?.group ?? item.group;
    if (!(typeof g === 'string' && f.group.includes(g))) return false;
  }
  return true;
}

/** An item's key, the order of pages: its id (a hub's id for hubs). */
function keyOf(item: Item): string {
  return typeof item.id === 'string' ? item.id : typeof item.hub === 'string' ? item.hub : '';
}

/** Items per block: a snapshot's items are written (JSON, UTF-8) in blocks of this many, once per snapshot. */
const BLOCK = 128;

/** The UTF-8 JSON of BLOCK consecutive items joined by commas, and where each item starts. */
interface Block {
  bytes: Uint8Array;
  /** offsets[i]: first byte of item i; offsets[n]: bytes.length + 1 (as if a comma followed the last). */
  offsets: Uint32Array;
}

/** The sorted, filtered items of one (collection, filter) at one state version, and their written blocks. */
interface Snapshot {
  /** Its (collection, filter) key in the cache. */
  key: string;
  version: string;
  /** The state's record clock at that version (the state hash covers it, so one per version). */
  clock?: number;
  at: number;
  items: Item[];
  /** keyOf(items[i]), for the binary search of `after`. */
  keys: string[];
  /** Blocks as written, per reader kind (anonymous readers get offers with donors redacted). */
  blocks: { named: (Block | undefined)[]; public: (Block | undefined)[] };
  /** Bytes of its blocks (counted in the cache's size). */
  bytes: number;
}

/**
 * The state routes' cache (spec/node.md §6): a snapshot (sorted, filtered
 * items) of each (collection, filter), rebuilt at most once per `maxAgeMs`
 * and only when the state version moved, and the written blocks of every
 * snapshot, shared by every page of it whatever its `after` and `limit`,
 * capped in bytes. It also holds the concurrency caps on state responses
 * (spec/node.md §6, §11). Counters are for tests and benchmarks: a page is
 * a hit when every block it needed was already written.
 */
export class StateCache {
  readonly counters = { hits: 0, misses: 0, notModified: 0, evicted: 0, snapshots: 0, blocks: 0, itemsWritten: 0, refused: 0, pacedBytes: 0, pacedWaits: 0 };
  private bytes = 0;
  private readonly snaps = new Map<string, Snapshot>();
  /** State responses being written, per client and in total. */
  private readonly reading = new Map<string, number>();
  private readingTotal = 0;
  /** Most state responses one client (`clientKey`) may have in flight. */
  readsPerClient: number;
  /** Most state responses in flight in total. */
  readsTotal: number;

  /** Bytes a second written to readers that are not named (pace), per client and in all; undefined: not paced. */
  private readonly paced?: { client: Buckets; all: Buckets };

  constructor(
    readonly maxBytes: number,
    /** A snapshot younger than this is served without asking the state for its version. */
    readonly maxAgeMs = 5000,
    caps: {
      readsPerClient?: number;
      readsTotal?: number;
      /** Bytes a second of state answers to one unnamed client (0: not paced), bursts of twice that. */
      bytesPerSecond?: number;
      /** Bytes a second of state answers to all unnamed clients together, bursts of twice that. */
      bytesTotalPerSecond?: number;
      now?: () => number;
    } = {},
  ) {
    this.readsPerClient = caps.readsPerClient ?? 8;
    this.readsTotal = caps.readsTotal ?? 32;
    const per = caps.bytesPerSecond ?? 0;
    const all = caps.bytesTotalPerSecond ?? 0;
    const now = caps.now ?? (() => Date.now());
    if (per > 0 && all > 0) this.paced = { client: new Buckets(per, 2 * per, now), all: new Buckets(all, 2 * all, now) };
  }

  /**
   * Milliseconds a state answer to `client`, a reader that is not named
   * (spec/node.md §6), waits before it writes `bytes` more: the bytes are
   * taken from the client's bucket and the shared one, and the answer waits
   * until both are back at zero. Always 0 when pacing is off.
   */
  pace(client: string, bytes: number): number {
    if (!this.paced) return 0;
    this.counters.pacedBytes += bytes;
    const wait = Math.max(this.paced.client.debit(client, bytes), this.paced.all.debit('*', bytes));
    if (wait > 0) this.counters.pacedWaits++;
    return wait;
  }

  get size(): number {
    return this.bytes;
  }

  /** State responses in flight (all clients). */
  get inFlight(): number {
    return this.readingTotal;
  }

  /**
   * Takes a slot for one state response of `client`, or throws E_RATE_LIMITED
   * (429 with Retry-After) over readsPerClient or readsTotal. The returned
   * function gives it back (once, however often it is called).
   */
  acquire(client: string): () => void {
    const mine = this.reading.get(client) ?? 0;
    if (mine >= this.readsPerClient || this.readingTotal >= this.readsTotal) {
      this.counters.refused++;
      const which =
        mine >= this.readsPerClient ? `${this.readsPerClient} state responses in flight for ${client}` : `${this.readsTotal} state responses in flight`;
      throw new ShuniuError('E_RATE_LIMITED', `more than ${which}`, { detail: { retryAfter: 1 } });
    }
    this.reading.set(client, mine + 1);
    this.readingTotal++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.readingTotal--;
      const n = (this.reading.get(client) ?? 1) - 1;
      if (n <= 0) this.reading.delete(client);
      else this.reading.set(client, n);
    };
  }

  /** The snapshot for `key`: the one kept while younger than maxAgeMs or still at the current version, else a new one. */
  snapshot(key: string, version: () => string, build: () => Item[], now = Date.now(), maxAgeMs = this.maxAgeMs): Snapshot {
    const s = this.snaps.get(key);
    if (s && now - s.at < maxAgeMs) {
      // Most recently used last.
      this.snaps.delete(key);
      this.snaps.set(key, s);
      return s;
    }
    const v = version();
    if (s && s.version === v) {
      s.at = now;
      return s;
    }
    const items = build();
    const n: Snapshot = { key, version: v, at: now, items, keys: items.map(keyOf), blocks: { named: [], public: [] }, bytes: 0 };
    this.counters.snapshots++;
    if (s) this.drop(key, s);
    if (this.snaps.size >= 32) {
      const [k, old] = this.snaps.entries().next().value as [string, Snapshot];
      this.drop(k, old);
    }
    this.snaps.set(key, n);
    return n;
  }

  private drop(key: string, s: Snapshot): void {
    this.snaps.delete(key);
    this.clear(s);
  }

  /** Forgets a snapshot's blocks (they are written again when asked for). */
  private clear(s: Snapshot): void {
    this.bytes -= s.bytes;
    s.bytes = 0;
    s.blocks = { named: [], public: [] };
  }

  /** Whether a snapshot is still the cache's (not replaced by a newer one nor dropped). */
  private current(s: Snapshot): boolean {
    return this.snaps.get(s.key) === s;
  }

  /** Whether every block holding items [from, to) of a snapshot is written already. */
  written(s: Snapshot, from: number, to: number, anonymous: boolean): boolean {
    const list = anonymous ? s.blocks.public : s.blocks.named;
    for (let b = Math.floor(from / BLOCK); b * BLOCK < to; b++) if (list[b] === undefined) return false;
    return true;
  }

  /** Block `b` of a snapshot: the one written already, else written now (and kept while the cache has room). */
  block(s: Snapshot, b: number, anonymous: boolean, fresh: { built: boolean }): Block {
    const list = anonymous ? s.blocks.public : s.blocks.named;
    const have = list[b];
    if (have) return have;
    fresh.built = true;
    this.counters.blocks++;
    const items = s.items.slice(b * BLOCK, (b + 1) * BLOCK);
    // The items' UTF-8 JSON, kept per view (itemBytes), copied into one buffer with commas between:
    // no join, no encoding again when a new snapshot holds the same views.
    const parts = items.map((it) => {
      const v = anonymous ? publicOffer(it) : it;
      if (!bytesOf.has(v)) this.counters.itemsWritten++;
      return itemBytes(v);
    });
    const offsets = new Uint32Array(parts.length + 1);
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      offsets[i] = at;
      at += (parts[i] as Uint8Array).length + 1;
    }
    offsets[parts.length] = at;
    const bytes = new Uint8Array(Math.max(0, at - 1));
    for (let i = 0; i < parts.length; i++) {
      bytes.set(parts[i] as Uint8Array, offsets[i] as number);
      if (i + 1 < parts.length) bytes[(offsets[i + 1] as number) - 1] = 0x2c;
    }
    const block: Block = { bytes, offsets };
    // A snapshot already replaced (a reader still walking it): its block is served, not kept nor
    // counted — nothing would ever take its bytes off the cache's size again.
    if (!this.current(s)) return block;
    // Room for it: older snapshots' blocks go first; past the cap it is served, not kept.
    for (const old of this.snaps.values()) {
      if (this.bytes + block.bytes.length <= this.maxBytes || old === s) break;
      if (old.bytes > 0) {
        this.counters.evicted++;
        this.clear(old);
      }
    }
    if (this.bytes + block.bytes.length <= this.maxBytes) {
      list[b] = block;
      s.bytes += block.bytes.length;
      this.bytes += block.bytes.length;
    }
    return block;
  }
}

/** Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 §13.1.2). */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/**
 * UTF-8 JSON of resolver views, per object: the resolver replaces a view
 * (Buckets.set) whenever it changes — the state hash relies on it too — so
 * an unchanged need is serialized and encoded once, not once per page and
 * version. Kept as bytes (Buffer.from: small ones share pooled slabs outside
 * the JS heap), not as strings the collector walks.
 */
const bytesOf = new WeakMap<object, Uint8Array>();
function itemBytes(it: Item): Uint8Array {
  let j = bytesOf.get(it);
  if (j === undefined) {
    j = Buffer.from(JSON.stringify(it));
    bytesOf.set(it, j);
  }
  return j;
}

/** What anonymous readers see instead of an individual donor's name (spec/node.md §6, issue 10 point 11). */
export const ANONYMOUS_DONOR = '爱心人士';

/**
 * An offer as an anonymous reader gets it: an individual donor who did not
 * agree to be named (`donor.named` not true) is shown as 爱心人士.
 */
export function publicOffer(item: Item): Item {
  const d = item.donor as { name?: string; kind?: string; named?: boolean } | undefined;
  if (!d || d.kind !== 'individual' || d.named === true) return item;
  // One redacted copy per view, so that its JSON (itemBytes) is written once too.
  let p = publicOf.get(item);
  if (p === undefined) {
    p = { ...item, donor: { kind: 'individual', name: ANONYMOUS_DONOR } };
    publicOf.set(item, p);
  }
  return p;
}
const publicOf = new WeakMap<Item, Item>();

/** The remote address, as the node's limits count it (node.ts). */
function remoteAddr(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'in-process';
  }
}

/** Resolved state (spec/node.md §6): collections in pages, with filters, ETag by state version and the state hash. */
export function stateRoutes(deps: StateDeps) {
  const app = new Hono();
  const cache = deps.cache ?? new StateCache(64 * 1024 * 1024);
  app.get('/v1/state/hash', (c) => c.json({ stateHash: deps.ingestor.engine.stateHash(), records: deps.store.maxOrd() }));
  app.get('/v1/state/:collection', (c) => {
    const name = c.req.param('collection');
    if (!(COLLECTIONS as readonly string[]).includes(name)) throw new ShuniuError('E_NOT_FOUND', `no state collection ${name}`);
    const f = feedFilter(c);
    const limit = intParam(c.req.query('limit'), 'limit', STATE_PAGE_DEFAULT, 1, STATE_PAGE_MAX);
    const after = c.req.query('after') ?? '';
    if (after.length > 256) throw new ShuniuError('E_ARGUMENT', 'after must be an item key (an id)');
    const filterKey = JSON.stringify([f.region ?? '', f.urgency ?? [], f.group ?? []]);
    // At most readsPerClient responses in flight per client and readsTotal in all (spec/node.md §6, §11):
    // 429 beyond, before any work. The slot is held until the answer is written or the client goes.
    const client = clientKey(c, remoteAddr(c));
    const release = cache.acquire(client);
    try {
      return answer(c, name, f, limit, after, filterKey, release, client);
    } catch (e) {
      release();
      throw e;
    }
  });

  const answer = (
    c: Context,
    name: string,
    f: ReturnType<typeof feedFilter>,
    limit: number,
    after: string,
    filterKey: string,
    release: () => void,
    client: string,
  ) => {
    // The snapshot of this (collection, filter): rebuilt at most once per maxAgeMs, and only when the
    // state version moved; an operator always gets the current version (a rebuild only when it moved).
    let builtClock: number | undefined;
    const snap = cache.snapshot(
      `${name}\u0000${filterKey}`,
      () => deps.ingestor.engine.stateHash(),
      () => {
        let all = deps.ingestor.engine.collection(name) as Item[] | undefined;
        if (all === undefined && name === 'hubs') {
          all = deps.store.hubProfiles().map((h) => ({
            hub: h.hub,
            headSeq: h.headSeq,
            trusted: deps.trust.isTrusted(h.hub),
            ...(h.profile && typeof h.profile === 'object' ? (h.profile as Item) : {}),
          }));
        }
        if (all === undefined) throw new ShuniuError('E_NOT_FOUND', `state collection ${name} is not available on this node yet`);
        builtClock = deps.ingestor.engine.clock();
        // An allocation is filtered by its need's region, urgency and group; a hub by its profile's region.
        let view = (i: Item): Item => i;
        if (name === 'allocations' && (f.region || f.urgency || f.group)) {
          const needs = new Map((deps.ingestor.engine.collection('needs') as Item[]).map((n) => [n.id as string, n]));
          view = (a) => needs.get(a.need as string) ?? {};
        } else if (name === 'hubs') view = (h) => ({ region: h.region ?? (h.profile as Item | undefined)?.region });
        const kept = all.filter((i) => matches(view(i), f));
        // The resolver's maps are already in key order; sort only when they are not.
        for (let i = 1; i < kept.length; i++) {
          if (keyOf(kept[i - 1] as Item) > keyOf(kept[i] as Item)) {
            return kept
              .map((it) => [keyOf(it), it] as const)
              .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
              .map(([, it]) => it);
          }
        }
        return kept;
      },
      Date.now(),
      principalOf(c).kind === 'operator' ? 0 : cache.maxAgeMs,
    );
    snap.clock ??= builtClock;
    // The state version: the resolver's state hash when the snapshot was made.
    const version = snap.version;
    const etag = `W/"${version}"`;
    const headers = { etag, 'cache-control': 'no-cache', vary: 'authorization' };
    if (notModified(c.req.header('if-none-match'), etag)) {
      cache.counters.notModified++;
      release();
      return c.body(null, 304, headers);
    }
    // Operators, subscribers and trusted peers see donors as recorded; anyone else only the individuals who agreed to be named (issue 10 point 11).
    const p = principalOf(c);
    const named = p.kind === 'operator' || p.kind === 'subscriber' || (p.kind === 'peer' && deps.trust.isTrusted(p.hub));
    const anonymous = name === 'offers' && !named;
    const outgoing = (c.env as { outgoing?: { once?: (e: string, f: () => void) => void } } | undefined)?.outgoing;
    outgoing?.once?.('close', release);
    const { items, keys } = snap;
    // First item with a key above `after` (binary search on the sorted keys).
    let lo = 0;
    let hi = after === '' ? 0 : keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as string) <= after) lo = mid + 1;
      else hi = mid;
    }
    const end = Math.min(lo + limit, items.length);
    const next = end < items.length && end > lo ? (keys[end - 1] as string) : null;
    // Written as a stream from the snapshot's blocks (each written once per snapshot, shared by
    // every reader and page of it), a block or so per pull: no single string of the whole answer,
    // and no long stretch of the event loop.
    if (cache.written(snap, lo, end, anonymous)) cache.counters.hits++;
    else cache.counters.misses++;
    const fresh = { built: false };
    let at = lo;
    let state: 'head' | 'items' | 'tail' | 'done' = 'head';
    let gone = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        // One block per turn of the event loop: pulls chained in microtasks (the socket taking every
        // write at once) would otherwise write whole pages of many readers before any other request runs.
        if (state === 'items') await new Promise<void>((r) => setImmediate(r));
        try {
          if (state === 'head') {
            state = at < end ? 'items' : 'tail';
            ctl.enqueue(enc.encode(`{${JSON.stringify(name)}:[`));
            return;
          }
          if (state === 'items') {
            const b = Math.floor(at / BLOCK);
            const block = cache.block(snap, b, anonymous, fresh);
            const first = at - b * BLOCK;
            const last = Math.min(end - b * BLOCK, block.offsets.length - 1);
            const part = block.bytes.subarray(block.offsets[first] as number, (block.offsets[last] as number) - 1);
            // Readers that are not named are paced in bytes a second, per client and in all (spec/node.md §6):
            // however many of them read, the node's time writing to them stays bounded.
            const wait = named ? 0 : cache.pace(client, part.length);
            if (wait > 0) {
              await new Promise<void>((r) => setTimeout(r, wait));
              if (gone) return;
            }
            if (at > lo) ctl.enqueue(COMMA);
            ctl.enqueue(part);
            at = b * BLOCK + last;
            if (at >= end) state = 'tail';
            return;
          }
          if (state === 'tail') {
            state = 'done';
            const clock = snap.clock === undefined ? '' : `,"clock":${snap.clock}`;
            ctl.enqueue(enc.encode(`],"next":${JSON.stringify(next)},"version":${JSON.stringify(version)}${clock}}`));
            return;
          }
          release();
          ctl.close();
        } catch (e) {
          release();
          ctl.error(e);
        }
      },
      cancel() {
        gone = true;
        release();
      },
    });
    return c.body(body, 200, { ...headers, 'content-type': 'application/json' });
  };
  return app;
}

import { ShuniuError } from '@shuniu/protocol';
import { Hono } from 'hono';
import type { Ingestor } from '../../ingest.js';
import type { Store } from '../../store/types.js';
import type { Trust } from '../../trust.js';
import { principalOf } from '../access.js';
import { intParam } from '../body.js';
import { feedFilter } from './feed.js';

export interface StateDeps {
  store: Store;
  ingestor: Ingestor;
  trust: Trust;
  /** Pages already written, per state version (default: one of 64 MiB). */
  cache?: StateCache;
}

export const COLLECTIONS = ['needs', 'offers', 'allocations', 'shipments', 'conflicts', 'hubs'] as const;

/** Items per page of /v1/state/{collection}: default and most (spec/node.md §6). */
export const STATE_PAGE_DEFAULT = 1000;
export const STATE_PAGE_MAX = 5000;

type Item = Record<string, unknown>;

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

/** A page as written: UTF-8 chunks of about 64 KiB. */
interface Page {
  chunks: Uint8Array[];
  bytes: number;
}

/** The sorted, filtered items of one (collection, filter) at one state version. */
interface Snapshot {
  version: string;
  at: number;
  items: Item[];
}

/**
 * The state routes' cache (spec/node.md §6): a snapshot (sorted, filtered
 * items) of each (collection, filter), rebuilt at most once per `maxAgeMs`
 * and only when the state version moved, and the written pages of every
 * (version, collection, filter, after, limit) in an LRU capped in bytes.
 * Counters are for tests and benchmarks.
 */
export class StateCache {
  readonly counters = { hits: 0, misses: 0, notModified: 0, evicted: 0, snapshots: 0 };
  private readonly pages = new Map<string, Page>();
  private bytes = 0;
  private readonly snaps = new Map<string, Snapshot>();

  constructor(
    readonly maxBytes: number,
    /** A snapshot younger than this is served without asking the state for its version. */
    readonly maxAgeMs = 5000,
  ) {}

  get size(): number {
    return this.bytes;
  }

  page(key: string): Page | undefined {
    const p = this.pages.get(key);
    if (p === undefined) return undefined;
    // Most recently used last.
    this.pages.delete(key);
    this.pages.set(key, p);
    return p;
  }

  keep(key: string, p: Page): void {
    if (p.bytes > this.maxBytes / 4) return;
    this.pages.set(key, p);
    this.bytes += p.bytes;
    for (const [k, old] of this.pages) {
      if (this.bytes <= this.maxBytes) break;
      this.pages.delete(k);
      this.bytes -= old.bytes;
      this.counters.evicted++;
    }
  }

  /** The snapshot for `key`: the one kept while younger than maxAgeMs or still at the current version, else a new one. */
  snapshot(key: string, version: () => string, build: () => Item[], now = Date.now(), maxAgeMs = this.maxAgeMs): Snapshot {
    const s = this.snaps.get(key);
    if (s && now - s.at < maxAgeMs) return s;
    const v = version();
    if (s && s.version === v) {
      s.at = now;
      return s;
    }
    const n: Snapshot = { version: v, at: now, items: build() };
    this.counters.snapshots++;
    this.snaps.delete(key);
    if (this.snaps.size >= 32) this.snaps.delete(this.snaps.keys().next().value as string);
    this.snaps.set(key, n);
    return n;
  }
}

/** Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 §13.1.2). */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

const enc = new TextEncoder();

/**
 * JSON text of resolver views, per object: the resolver replaces a view
 * (Buckets.set) whenever it changes — the state hash relies on it too — so
 * an unchanged need is serialized once, not once per page and version.
 */
const jsonOf = new WeakMap<object, string>();
function itemJson(it: Item): string {
  let j = jsonOf.get(it);
  if (j === undefined) {
    j = JSON.stringify(it);
    jsonOf.set(it, j);
  }
  return j;
}

/** Writes `{"<name>":[items…],"next":…,"version":…}` as chunks of about 64 KiB. */
function writePage(name: string, items: Item[], next: string | null, version: string): Page {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let part = `{${JSON.stringify(name)}:[`;
  const flush = () => {
    const b = enc.encode(part);
    chunks.push(b);
    bytes += b.length;
    part = '';
  };
  items.forEach((it, i) => {
    part += (i === 0 ? '' : ',') + itemJson(it);
    if (part.length >= 65_536) flush();
  });
  part += `],"next":${JSON.stringify(next)},"version":${JSON.stringify(version)}}`;
  flush();
  return { chunks, bytes };
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
  return { ...item, donor: { kind: 'individual', name: ANONYMOUS_DONOR } };
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
    // The snapshot of this (collection, filter): rebuilt at most once per maxAgeMs, and only when the
    // state version moved; an operator always gets the current version (a rebuild only when it moved).
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
        const kept = all.filter((i) => matches(i, f));
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
    // The state version: the resolver's state hash when the snapshot was made.
    const version = snap.version;
    const etag = `W/"${version}"`;
    const headers = { etag, 'cache-control': 'no-cache', vary: 'authorization' };
    if (notModified(c.req.header('if-none-match'), etag)) {
      cache.counters.notModified++;
      return c.body(null, 304, headers);
    }
    // Operators, subscribers and trusted peers see donors as recorded; anyone else only the individuals who agreed to be named (issue 10 point 11).
    const p = principalOf(c);
    const named = p.kind === 'operator' || p.kind === 'subscriber' || (p.kind === 'peer' && deps.trust.isTrusted(p.hub));
    const anonymous = name === 'offers' && !named;
    const key = `${version}\u0000${name}\u0000${filterKey}\u0000${after}\u0000${limit}${anonymous ? '\u0000public' : ''}`;
    let page = cache.page(key);
    if (page) cache.counters.hits++;
    else {
      cache.counters.misses++;
      const items = snap.items;
      // First item with a key above `after` (binary search on the sorted keys).
      let lo = 0;
      let hi = after === '' ? 0 : items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (keyOf(items[mid] as Item) <= after) lo = mid + 1;
        else hi = mid;
      }
      const slice = items.slice(lo, lo + limit);
      const next = lo + limit < items.length ? keyOf(slice[slice.length - 1] as Item) : null;
      page = writePage(name, anonymous ? slice.map(publicOffer) : slice, next, version);
      cache.keep(key, page);
    }
    // Written as a stream, chunk by chunk as the client reads: no single string of the whole answer.
    const chunks = page.chunks;
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        const ch = chunks[i++];
        if (ch === undefined) ctl.close();
        else ctl.enqueue(ch);
      },
    });
    return c.body(body, 200, { ...headers, 'content-type': 'application/json' });
  });
  return app;
}

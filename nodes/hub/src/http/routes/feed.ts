import { beneficiaryGroup, RECORD_TYPES, regionPrefix, ShuniuError, urgency } from '@shuniu/protocol';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Ingestor } from '../../ingest.js';
import type { FeedFilter, Store } from '../../store/types.js';
import { intParam, listParam } from '../body.js';
import { type SealedReaders, stripSealed } from '../sealed.js';

export interface FeedDeps {
  store: Store;
  ingestor: Ingestor;
  /** Seconds between SSE comments that keep idle connections open. */
  heartbeatMs?: number;
  /** Resolves when the node shuts down, ending live streams. */
  closing: Promise<void>;
  /** Who may read sealed parts (operators, trusted peers); everyone else gets records without them. Default: nobody. */
  sealedReaders?: SealedReaders;
}

/** Parses the shared feed filters: region prefix, types, urgency, group (spec/node.md §Feed). */
export function feedFilter(c: Context): FeedFilter {
  const f: FeedFilter = {};
  const region = c.req.query('region');
  if (region !== undefined && region !== '') {
    if (!regionPrefix.safeParse(region).success) throw new ShuniuError('E_ARGUMENT', 'region must be 2, 4 or 6 digits of a GB/T 2260 code');
    f.region = region.replace(/(00)+$/, '') || region;
  }
  const types = listParam(c.req.query('types'), RECORD_TYPES, 'types');
  if (types) f.types = types;
  const u = listParam(c.req.query('urgency'), urgency.options, 'urgency');
  if (u) f.urgency = u;
  const g = listParam(c.req.query('group'), beneficiaryGroup.options, 'group');
  if (g) f.group = g;
  return f;
}

/**
 * The node's own feed in ingest order, and the same as Server-Sent Events.
 * The cursor is the ingest order (`ord`): resuming after it never skips and
 * never repeats, because every event is read back from the store.
 */
export function feedRoutes(deps: FeedDeps) {
  const app = new Hono();
  const mayRead: SealedReaders = deps.sealedReaders ?? (() => false);

  app.get('/v1/feed', (c) => {
    const filter = feedFilter(c);
    const after = intParam(c.req.query('after'), 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c.req.query('limit'), 'limit', 500, 1, 5000);
    const rows = deps.store.feed(after, limit, filter);
    const last = rows[rows.length - 1];
    const cursor = last ? last.ord : after;
    return c.body(`{"records":[${rows.map((r) => `{"ord":${r.ord},"record":${stripSealed(c, mayRead, r.json)}}`).join(',')}],"cursor":${cursor}}`, 200, {
      'content-type': 'application/json',
    });
  });

  app.get('/v1/feed/live', (c) => {
    const filter = feedFilter(c);
    const lastId = c.req.header('last-event-id');
    const start =
      lastId !== undefined && lastId !== ''
        ? intParam(lastId, 'Last-Event-ID', 0, 0, Number.MAX_SAFE_INTEGER)
        : intParam(c.req.query('after'), 'after', deps.store.maxOrd(), 0, Number.MAX_SAFE_INTEGER);
    return streamSSE(c, async (stream) => {
      let cursor = start;
      let wake: (() => void) | undefined;
      let closed = false;
      let commits = 0;
      const off = deps.ingestor.onCommit(() => {
        commits++;
        wake?.();
      });
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      void deps.closing.then(() => {
        closed = true;
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ cursor }) });
        while (!closed && !stream.aborted) {
          const seen = commits;
          const rows = deps.store.feed(cursor, 500, filter);
          for (const r of rows) {
            await stream.writeSSE({ id: String(r.ord), event: 'record', data: stripSealed(c, mayRead, r.json) });
            cursor = r.ord;
          }
          // A commit during the read may not be in it: read again rather than sleep.
          if (rows.length === 500 || commits !== seen) continue;
          const timedOut = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(true), deps.heartbeatMs ?? 15_000);
            wake = () => {
              clearTimeout(t);
              resolve(false);
            };
          });
          wake = undefined;
          if (timedOut && !closed && !stream.aborted) await stream.write(': ping\n\n');
        }
      } finally {
        off();
      }
    });
  });

  return app;
}

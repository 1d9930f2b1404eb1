import { beneficiaryGroup, RECORD_TYPES, regionPrefix, ShuniuError, urgency } from '@shuniu/protocol';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Ingestor } from '../../ingest.js';
import type { FeedFilter, Store } from '../../store/types.js';
import { intParam, listParam } from '../body.js';
import { LiveFeed } from '../live-feed.js';
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
  /** The live feed's shared reader and stream caps (spec/node.md §5.1); default: one with the default limits. */
  live?: LiveFeed;
  /** Who a request counts against for the stream caps (`clientKey`); default one client. */
  clientOf?: (c: Context) => string;
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
  const live = deps.live ?? new LiveFeed(deps.store, { streamsPerClient: 8, streamsTotal: 1000, streamBufferBytes: 4 * 1024 * 1024 });
  deps.ingestor.onCommit(() => live.committed());
  void deps.closing.then(() => live.close());

  app.get('/v1/feed', (c) => {
    const filter = feedFilter(c);
    const after = intParam(c.req.query('after'), 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c.req.query('limit'), 'limit', 500, 1, 5000);
    // At most 20 × limit ords looked at; the cursor moves past all of them, matching or not (spec/node.md §5).
    const head = deps.store.maxOrd();
    const { rows, through: cursor } = deps.store.feedPage(after, limit, filter, limit * 20);
    return c.body(
      `{"records":[${rows.map((r) => `{"ord":${r.ord},"record":${stripSealed(c, mayRead, r.json)}}`).join(',')}],"cursor":${cursor},"head":${head}}`,
      200,
      {
        'content-type': 'application/json',
      },
    );
  });

  app.get('/v1/feed/live', (c) => {
    const filter = feedFilter(c);
    const lastId = c.req.header('last-event-id');
    const start =
      lastId !== undefined && lastId !== ''
        ? intParam(lastId, 'Last-Event-ID', 0, 0, Number.MAX_SAFE_INTEGER)
        : intParam(c.req.query('after'), 'after', deps.store.maxOrd(), 0, Number.MAX_SAFE_INTEGER);
    // Refused (429) before the response starts when the caller or the node has too many streams open.
    const s = live.admit(deps.clientOf?.(c) ?? 'anyone', filter, mayRead(c), start, () =>
      (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket?.destroy(),
    );
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => live.end(s));
      await live.run(s, stream, deps.heartbeatMs ?? 15_000);
    });
  });

  return app;
}

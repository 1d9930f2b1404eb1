import { hubIdSchema, parseIJson, ShuniuError } from '@shuniu/protocol';
import { Hono } from 'hono';
import type { Ack, Ingestor } from '../../ingest.js';
import { arraySpans } from '../../json-spans.js';
import type { Store } from '../../store/types.js';
import { intParam, readJsonText } from '../body.js';
import { problemResponse, STATUS_OF } from '../problem.js';
import { type SealedReaders, stripSealed } from '../sealed.js';

export interface RecordsDeps {
  store: Store;
  ingestor: Ingestor;
  maxBatch: number;
  /**
   * Who sent a push, for echo suppression (spec/node.md §9.2): `hub:<id>`
   * for a peer whose request signature verified, else `addr:<ip>`.
   */
  sourceOf: (c: import('hono').Context) => string;
  /** Who sent it, for the per-sender share of the holding area. Default: `sourceOf`. */
  senderOf?: (c: import('hono').Context) => string;
  /** Who may read sealed parts (operators, trusted peers); everyone else gets records without them. Default: nobody. */
  sealedReaders?: SealedReaders;
}

/**
 * Push and pull of signed records (spec/node.md §Push, §Pull).
 *
 * @example app.route('/', recordRoutes({ store, ingestor, maxBatch: 2000, sourceOf }))
 */
export function recordRoutes(deps: RecordsDeps) {
  const app = new Hono();
  const senderOf = deps.senderOf ?? deps.sourceOf;
  const mayRead: SealedReaders = deps.sealedReaders ?? (() => false);

  app.post('/v1/records', async (c) => {
    const text = await readJsonText(c);
    // An array body goes to the worker pool as text: parsing, schemas,
    // signed bytes and signatures run there (spec/node.md §Ingest).
    const offs = arraySpans(text);
    if (offs && offs.length / 2 <= deps.maxBatch) {
      const acks = await deps.ingestor.ingestText(text, offs, deps.sourceOf(c), senderOf(c));
      c.set('unstoredChars' as never, unstoredChars(acks, (i) => (offs[2 * i + 1] as number) - (offs[2 * i] as number)) as never);
      return c.json({ acks, summary: summarize(acks) });
    }
    const body = parseIJson(text);
    let values: unknown[];
    let single = false;
    if (Array.isArray(body)) values = body;
    else if (body && typeof body === 'object' && Array.isArray((body as { records?: unknown }).records)) values = (body as { records: unknown[] }).records;
    else {
      values = [body];
      single = true;
    }
    if (values.length > deps.maxBatch) throw new ShuniuError('E_TOO_LARGE', `a batch holds at most ${deps.maxBatch} records`);
    const acks = await deps.ingestor.ingest(values, deps.sourceOf(c), senderOf(c));
    c.set('unstoredChars' as never, unstoredChars(acks, () => text.length / values.length) as never);
    if (!single) return c.json({ acks, summary: summarize(acks) });
    return singleResponse(c, acks[0] as Ack);
  });

  app.get('/v1/records/:id', (c) => {
    const r = deps.store.recordById(c.req.param('id'));
    if (!r) throw new ShuniuError('E_NOT_FOUND', `no record ${c.req.param('id')}`);
    return c.body(stripSealed(c, mayRead, r.json), 200, { 'content-type': 'application/json' });
  });

  app.get('/v1/heads', (c) => c.json({ heads: deps.store.heads(), offChain: deps.store.offChainSummary() }));

  // The records stored beside the chains (fork proofs, a forked hub's other branch, what a
  // recovery cut off), by this node's ingest order: what a pull fetches besides the chain logs (spec/node.md §9.3).
  app.get('/v1/offchain', (c) => {
    const after = intParam(c.req.query('after'), 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c.req.query('limit'), 'limit', 500, 1, 5000);
    const rows = deps.store.offChain(after, limit);
    const last = rows.length === limit ? Number((rows[rows.length - 1] as { ord: number }).ord) : null;
    const body = `{"records":[${rows.map((r) => stripSealed(c, mayRead, r.json)).join(',')}],"next":${last === null ? 'null' : last}}`;
    return c.body(body, 200, { 'content-type': 'application/json' });
  });

  app.get('/v1/hubs/:hub/log', (c) => {
    const hub = c.req.param('hub');
    if (!hubIdSchema.safeParse(hub).success) throw new ShuniuError('E_ARGUMENT', 'not a hub id');
    const after = intParam(c.req.query('after'), 'after', -1, -1, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c.req.query('limit'), 'limit', 500, 1, 5000);
    // The records' stored texts, joined in SQLite and sent as the UTF-8 bytes it holds: no row
    // object, JS string or re-encoding per record on the serving node's main thread.
    const page = deps.store.logPage(hub, after, limit);
    const head = deps.store.heads()[hub];
    if (head === undefined) throw new ShuniuError('E_NOT_FOUND', `this node holds no record of hub ${hub}`);
    const last = page.lastSeq;
    let joined: Uint8Array = page.joined;
    // Sealed parts only for those who may read them: the page's texts one by one otherwise (spec/node.md §8.1).
    if (!mayRead(c) && Buffer.from(joined.buffer, joined.byteOffset, joined.byteLength).includes('"sealed":')) {
      joined = Buffer.from(
        deps.store
          .log(hub, after, limit)
          .map((r) => stripSealed(c, mayRead, r.json))
          .join(','),
      );
    }
    const open = Buffer.from(`{"hub":${JSON.stringify(hub)},"head":${head},"records":[`);
    const close = Buffer.from(`],"next":${last !== null && last < head ? last : 'null'}}`);
    const body = Buffer.concat([open, joined, close]);
    return c.body(body, 200, {
      'content-type': 'application/json',
    });
  });

  return app;
}

/** Characters of the pushed records the node did not store (held, blocked or rejected): what strangerBytes charges (spec/node.md §7). */
function unstoredChars(acks: Ack[], sizeOf: (index: number) => number): number {
  let n = 0;
  for (let i = 0; i < acks.length; i++) {
    const s = (acks[i] as Ack).status;
    if (s !== 'accepted' && s !== 'duplicate') n += sizeOf(i);
  }
  return Math.round(n);
}

export function summarize(acks: Ack[]): Record<string, number> {
  const s: Record<string, number> = { accepted: 0, duplicate: 0, held: 0, blocked: 0, rejected: 0 };
  for (const a of acks) s[a.status] = (s[a.status] ?? 0) + 1;
  return s;
}

/** A single pushed record answers with the status of its one acknowledgement. */
function singleResponse(c: import('hono').Context, ack: Ack): Response {
  switch (ack.status) {
    case 'accepted':
      return c.json({ ack }, 201);
    case 'duplicate':
      return c.json({ ack }, 200);
    case 'held':
      return c.json({ ack }, 202);
    default: {
      const err = new ShuniuError(ack.code as ConstructorParameters<typeof ShuniuError>[0], ack.message, {
        ...(ack.status === 'rejected' && ack.issues ? { issues: ack.issues as never } : {}),
        ...(ack.status === 'rejected' && ack.hub !== undefined ? { detail: { hub: ack.hub, seq: ack.seq, ids: ack.ids } } : {}),
      });
      if (!(err.code in STATUS_OF)) return c.json({ ack }, 400);
      return problemResponse(c, err);
    }
  }
}

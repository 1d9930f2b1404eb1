import { ShuniuError } from '@shuniu/protocol';
import { REAL_RUNTIME, type Timers } from '../runtime.js';
import { withoutSealed } from '../store/sqlite.js';
import type { FeedFilter, FeedRow, Store } from '../store/types.js';

/** Limits of the live feed (spec/node.md §5.1, §11). */
export interface LiveFeedLimits {
  /** Open streams one client (`clientKey`: `hub:<id>` or `addr:<ip>`) may hold. */
  streamsPerClient: number;
  /** Open streams in total. */
  streamsTotal: number;
  /** Bytes of events queued for one stream; a stream that falls further behind is closed. */
  streamBufferBytes: number;
  /** Rows read per page, by the shared reader and by a stream catching up (default 500). */
  page?: number;
  /** Ords one catch-up read looks at, at most (default 2,000). */
  scan?: number;
}

/** The write side of a stream: hono's SSEStreamingApi, or a test double. */
export interface EventSink {
  write(text: string): Promise<unknown>;
  readonly aborted: boolean;
}

interface Stream {
  client: string;
  filter: FeedFilter;
  /** Whether this reader gets sealed parts (operators, trusted peers). */
  sealed: boolean;
  /** Every matching row with ord <= cursor is queued or written. */
  cursor: number;
  /** The last `id:` written (a record's ord, or a cursor event's). */
  lastId: number;
  queue: string[];
  queued: number;
  /** Ord of the last frame queued. */
  tail: number;
  closed: boolean;
  wake?: (() => void) | undefined;
  /** Ends the connection (the client does not read). */
  kill: () => void;
}

/** Whether a row's filter columns match (the same rules as the SQL in SqliteStore.feedPage). */
export function rowMatches(f: FeedFilter, r: FeedRow): boolean {
  if (f.region && !(r.region ?? '').startsWith(f.region)) return false;
  if (f.types && f.types.length > 0 && !f.types.includes(r.type)) return false;
  if (f.urgency && f.urgency.length > 0 && !(r.urgency !== null && f.urgency.includes(r.urgency))) return false;
  if (f.group && f.group.length > 0 && !(r.grp !== null && f.group.includes(r.grp))) return false;
  return true;
}

function frame(ord: number, json: string): string {
  return `event: record\n${json
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}`)
    .join('\n')}\nid: ${ord}\n\n`;
}

/**
 * The live feed's one reader (spec/node.md §5.1). After each commit the new
 * rows (ord above the last dispatched) are read once, in pages, and each is
 * queued to every caught-up stream whose filter matches; the stream's cursor
 * moves past every row read, matching or not. A stream that starts behind
 * (after=, Last-Event-ID) reads its own backlog in bounded pages until it
 * reaches the shared reader. Every event still comes from the store by ord,
 * so exactly-once on resume holds.
 */
export class LiveFeed {
  private dispatched: number;
  private readonly streams = new Set<Stream>();
  private readonly perClient = new Map<string, number>();
  private pumping = false;
  private readonly waiting: (() => void)[] = [];
  private turning = false;
  private stopped = false;
  private readonly page: number;
  private readonly scan: number;
  /** For tests, /v1/status and benchmarks: ords looked at by the shared reader and by catch-ups, refusals, streams closed for not reading. */
  readonly counters = { sharedScanned: 0, catchUpScanned: 0, refused: 0, overflowed: 0 };

  constructor(
    private readonly store: Store,
    private readonly limits: LiveFeedLimits,
    /** The idle streams' heartbeat timers (runtime.ts): Node's unless a simulator passes its own. */
    private readonly timers: Timers = REAL_RUNTIME.timers,
  ) {
    this.dispatched = store.maxOrd();
    this.page = limits.page ?? 500;
    this.scan = limits.scan ?? 2_000;
  }

  get open(): number {
    return this.streams.size;
  }

  /** Called after every commit (Ingestor.onCommit): schedules the shared read. */
  committed(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    setImmediate(() => this.pump());
  }

  /** Ends every stream (shutdown). */
  close(): void {
    this.stopped = true;
    for (const s of this.streams) {
      s.closed = true;
      s.wake?.();
    }
  }

  /** Reads one page of new rows and dispatches it; again on the next turn until caught up. */
  private pump(): void {
    if (this.stopped || this.dispatched >= this.store.maxOrd()) {
      this.pumping = false;
      return;
    }
    const from = this.dispatched;
    let caughtUp = false;
    for (const s of this.streams)
      if (!s.closed && s.cursor >= from) {
        caughtUp = true;
        break;
      }
    if (!caughtUp) {
      // No stream to hand the rows to (a stream behind reads its own backlog): nothing is read.
      this.dispatched = this.store.maxOrd();
      this.pumping = false;
      return;
    }
    const { rows, through } = this.store.feedPage(from, this.page, {}, this.page);
    this.counters.sharedScanned += through - from;
    // Each row's frame is made once per kind of reader (with or without sealed parts), shared by the streams.
    const full = new Map<number, string>();
    const open = new Map<number, string>();
    for (const s of this.streams) {
      // Behind: it reads its own backlog (see run), and reaches here later.
      if (s.closed || s.cursor < from) continue;
      let added = false;
      for (const r of rows) {
        if (r.ord <= s.cursor || !rowMatches(s.filter, r)) continue;
        const cache = s.sealed ? full : open;
        let f = cache.get(r.ord);
        if (f === undefined) {
          f = frame(r.ord, s.sealed || !r.json.includes('"sealed":') ? r.json : withoutSealed(r.json));
          cache.set(r.ord, f);
        }
        s.queue.push(f);
        s.queued += f.length;
        s.tail = r.ord;
        added = true;
      }
      if (through > s.cursor) s.cursor = through;
      if (s.queued > this.limits.streamBufferBytes) {
        this.counters.overflowed++;
        s.closed = true;
        s.queue = [];
        this.release(s);
        s.kill();
      }
      if (added || s.closed) s.wake?.();
    }
    this.dispatched = through;
    setImmediate(() => this.pump());
  }

  /**
   * Registers a stream for `client`, or throws E_RATE_LIMITED (429 with
   * Retry-After) over streamsPerClient or streamsTotal. Then serve it with run().
   */
  admit(client: string, filter: FeedFilter, sealed: boolean, start: number, kill: () => void): Stream {
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.streamsPerClient || this.streams.size >= this.limits.streamsTotal) {
      this.counters.refused++;
      const which =
        mine >= this.limits.streamsPerClient
          ? `${this.limits.streamsPerClient} live streams from ${client}`
          : `${this.limits.streamsTotal} live streams in total`;
      throw new ShuniuError('E_RATE_LIMITED', `more than ${which}`, { detail: { retryAfter: 30 } });
    }
    const s: Stream = { client, filter, sealed, cursor: start, lastId: start, queue: [], queued: 0, tail: start, closed: this.stopped, kill };
    this.streams.add(s);
    this.perClient.set(client, mine + 1);
    return s;
  }

  /** Writes the stream until it ends: ready, its backlog, then what the shared reader queues; a ping when idle. */
  async run(s: Stream, out: EventSink, heartbeatMs: number): Promise<void> {
    try {
      await out.write(`event: ready\ndata: {"cursor":${s.cursor}}\n\n`);
      let announce = false;
      while (!s.closed && !out.aborted) {
        if (s.queue.length === 0 && s.cursor < this.dispatched) {
          // Catching up: one bounded page of its own, cursor past every ord looked at; one such
          // read per turn of the event loop for all streams, so requests are served in between.
          await this.turn();
          if (s.closed || out.aborted) break;
          if (s.queue.length > 0 || s.cursor >= this.dispatched) continue;
          const from = s.cursor;
          const { rows, through } = this.store.feedPage(from, this.page, s.filter, this.scan);
          this.counters.catchUpScanned += through - from;
          for (const r of rows) {
            const f = frame(r.ord, s.sealed || !r.json.includes('"sealed":') ? r.json : withoutSealed(r.json));
            s.queue.push(f);
            s.queued += f.length;
            s.tail = r.ord;
          }
          announce = true;
          // The shared reader may have gone past maxOrd's read here: never behind it, never twice.
          if (through > s.cursor) s.cursor = through;
        }
        if (s.queue.length > 0) {
          const text = s.queue.join('');
          const last = s.tail;
          s.queue = [];
          s.queued = 0;
          await out.write(text);
          s.lastId = last;
          continue;
        }
        if (s.cursor < this.dispatched) continue;
        if (announce && s.cursor > s.lastId) {
          // Caught up past its last event: a resumable id, so a reconnect does not read the backlog again.
          announce = false;
          await this.sendCursor(s, out);
          continue;
        }
        const timedOut = await new Promise<boolean>((resolve) => {
          const t = this.timers.setTimeout(() => resolve(true), heartbeatMs);
          s.wake = () => {
            this.timers.clearTimeout(t);
            resolve(false);
          };
        });
        s.wake = undefined;
        // Woken, or something was queued meanwhile: write that first (a cursor id must never pass an unwritten event).
        if (!timedOut || s.closed || out.aborted || s.queue.length > 0 || s.cursor < this.dispatched) continue;
        // Idle: the cursor when it moved past the last event (rows that did not match), else a comment.
        if (s.cursor > s.lastId) await this.sendCursor(s, out);
        else await out.write(': ping\n\n');
      }
    } finally {
      this.release(s);
    }
  }

  private async sendCursor(s: Stream, out: EventSink): Promise<void> {
    const at = s.cursor;
    await out.write(`event: cursor\ndata: {"cursor":${at}}\nid: ${at}\n\n`);
    if (at > s.lastId) s.lastId = at;
  }

  /** Resolves on a later turn of the event loop, one waiter a turn (catch-up reads take turns). */
  private turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.turning) {
        this.turning = true;
        setImmediate(() => this.nextTurn());
      }
    });
  }

  private nextTurn(): void {
    this.waiting.shift()?.();
    if (this.waiting.length > 0) setImmediate(() => this.nextTurn());
    else this.turning = false;
  }

  /** Ends a stream (client gone) and frees its slot. */
  end(s: Stream): void {
    this.release(s);
    s.wake?.();
  }

  private release(s: Stream): void {
    if (!this.streams.delete(s)) return;
    s.closed = true;
    s.queue = [];
    const n = (this.perClient.get(s.client) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(s.client);
    else this.perClient.set(s.client, n);
  }
}

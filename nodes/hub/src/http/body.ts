import type { IncomingMessage } from 'node:http';
import { parseIJson, ShuniuError } from '@shuniu/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';

/** Refuses bodies over `max` bytes with E_TOO_LARGE before reading them whole. */
export function limitBody(max: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: max,
    onError: () => {
      throw new ShuniuError('E_TOO_LARGE', `request body is larger than ${max} bytes`);
    },
  });
}

/**
 * Request bodies being handled at once, in bytes (spec/node.md §7 Limits): a
 * request whose declared body (Content-Length, or `max` when it streams
 * without one) would take the total past `budget` is answered 503 E_BUSY with
 * `Retry-After` before its body is read, unless it is small (at most `small`
 * bytes: an operator's form, a peer's few records) or nothing else is in
 * flight. Its share is given back when its answer has been made. What a
 * node holds while it reads, parses and checks bodies (several times their
 * size) is so bounded whatever many clients send at once.
 */
export function bodiesInFlight(opts: { budget: number; max: number; small?: number }): MiddlewareHandler {
  const small = opts.small ?? 64 * 1024;
  let inFlight = 0;
  return async (c, next) => {
    if (opts.budget <= 0 || c.req.raw.body === null) return next();
    const declared = c.req.header('content-length');
    const size = declared !== undefined && /^\d+$/.test(declared) ? Math.min(Number(declared), opts.max) : opts.max;
    if (size <= small) return next();
    if (inFlight > 0 && inFlight + size > opts.budget)
      throw new ShuniuError('E_BUSY', `request bodies in flight would pass limits.bodyBytesInFlight (${opts.budget} bytes); send it again shortly`, {
        detail: { retryAfter: 1 },
      });
    inFlight += size;
    try {
      await next();
    } finally {
      inFlight -= size;
    }
  };
}

/**
 * Keeps a kept-alive connection usable after a request whose body was not
 * read (refused first: 401, 413, 415, 429, 404…). Left unread, the rest of
 * the body sits on the connection and the server closes it after the
 * answer, so the client's next request on it fails ("other side closed").
 * Here the rest is read and dropped before the answer is sent, up to `max`
 * bytes (the body limit); a body declared or found larger than that, or one
 * a handler began reading and left, gets `Connection: close` instead, so the
 * client opens a new connection rather than reusing a closing one.
 * Outside a Node server (app.request in tests) it does nothing.
 */
export function drainUnread(max: number): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming || typeof incoming.on !== 'function' || incoming.readableEnded) return;
    const length = incoming.headers['content-length'];
    const chunked = incoming.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || Number(length) === 0)) return;
    const kept = !incoming.destroyed && !(Number(length) > max) && (await discard(c.req.raw.body, max));
    if (!kept) c.header('connection', 'close');
  };
}

/**
 * Reads and drops the rest of a request body (through the request's own
 * stream: a middleware may have opened it without reading); false if
 * someone else is reading it, it fails, or it passes `max` bytes.
 */
async function discard(body: ReadableStream<Uint8Array> | null, max: number): Promise<boolean> {
  if (!body) return true;
  if (body.locked) return false;
  const reader = body.getReader();
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      n += value.byteLength;
      if (n > max) {
        await reader.cancel().catch(() => {});
        return false;
      }
    }
  } catch {
    return false;
  } finally {
    reader.releaseLock();
  }
}

/** Reads a JSON body strictly (I-JSON): 415 unless application/json, 400 with E_JSON/E_IJSON otherwise. */
export async function readJson(c: Context): Promise<unknown> {
  return parseIJson(await readJsonText(c));
}

/** An empty body is `{}` (for routes whose members are all optional); anything else is read as `readJson` does. */
export async function optionalJson(c: Context): Promise<unknown> {
  const len = c.req.header('content-length');
  if (len === '0' || (len === undefined && c.req.header('content-type') === undefined)) return {};
  return readJson(c);
}

/** A request body checked by a route's zod schema: its value, or E_SCHEMA naming the first issue's path (`$.a.b: message`) with every issue. */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ code: i.code, path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
  const first = issues[0];
  throw new ShuniuError('E_SCHEMA', first ? `$.${first.path.join('.')}: ${first.message}` : 'invalid request', { issues });
}

/** The text of a JSON body, unparsed (415 unless application/json). */
export async function readJsonText(c: Context): Promise<string> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ShuniuError('E_UNSUPPORTED_MEDIA', 'send application/json');
  return c.req.text();
}

/**
 * Token buckets by key, refilled at `rate` a second up to `burst`. A key
 * whose bucket is full again is forgotten once more than 10,000 are kept.
 */
export class Buckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number,
  ) {}

  /**
   * Takes `cost` from the bucket of `key` if it holds at least `need` (the
   * bucket may go below zero: a debt the client waits out); else the
   * seconds to wait until it holds `need`.
   */
  take(key: string, cost: number, need = cost): number | undefined {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens < need) return Math.max(1, Math.ceil((need - b.tokens) / this.rate));
    b.tokens -= cost;
    if (this.buckets.size > 10_000) for (const [k, v] of this.buckets) if (v.tokens >= this.burst) this.buckets.delete(k);
    return undefined;
  }

  /**
   * Takes `cost` from the bucket of `key` whatever it holds (it may go below
   * zero) and gives the milliseconds until it is back at zero: 0 when it did
   * not go below. A paced writer waits that long before it goes on.
   */
  debit(key: string, cost: number): number {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate) - cost;
    b.at = t;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) for (const [k, v] of this.buckets) if (v.tokens >= this.burst) this.buckets.delete(k);
    return b.tokens >= 0 ? 0 : Math.ceil((-b.tokens / this.rate) * 1000);
  }
}

/**
 * Token bucket per client (spec/node.md §7 Limits): `rate` requests a second,
 * bursts of `burst`. The key is the client (`hub:<id>` or `addr:<ip>`).
 */
export function rateLimit(opts: {
  rate: number;
  burst: number;
  keyOf: (c: Context) => string;
  now?: () => number;
  /** The refusal's message (default: "more than <rate> requests a second from <key>"). */
  message?: (key: string) => string;
}): MiddlewareHandler {
  const buckets = new Buckets(opts.rate, opts.burst, opts.now ?? (() => Date.now()));
  return async (c, next) => {
    if (opts.rate <= 0) return next();
    const key = opts.keyOf(c);
    const retryAfter = buckets.take(key, 1);
    if (retryAfter !== undefined)
      throw new ShuniuError('E_RATE_LIMITED', opts.message?.(key) ?? `more than ${opts.rate} requests a second from ${key}`, { detail: { retryAfter } });
    return next();
  };
}

/**
 * Bytes pushed that the node does not store (spec/node.md §7 Limits): each
 * client has a bucket of `rate` bytes a second (bursts of `burst`), and all
 * clients share one of `totalRate` (bursts of `totalBurst`). After a push,
 * the characters of its records that were held, blocked or rejected (set by
 * the records route as `unstoredChars`) are taken from both, which may leave
 * them below zero; while either is at or below zero, the client's pushes are
 * refused with 429 E_RATE_LIMITED and Retry-After before their bodies are
 * read. Operators and trusted peers are never charged; records the node
 * stores (its trusted hubs') cost nothing, whoever relays them; strangers' records, which the node can only hold or refuse,
 * are so bounded in the time the node spends on them whatever they send.
 */
export function unstoredBytes(opts: {
  rate: number;
  burst: number;
  totalRate: number;
  totalBurst: number;
  keyOf: (c: Context) => string;
  /** Clients never charged: the node's operators and trusted peers. */
  exempt: (c: Context) => boolean;
  now?: () => number;
}): MiddlewareHandler {
  const now = opts.now ?? (() => Date.now());
  const perClient = new Buckets(opts.rate, opts.burst, now);
  const all = new Buckets(opts.totalRate, opts.totalBurst, now);
  return async (c, next) => {
    if (opts.rate <= 0 || opts.exempt(c)) return next();
    const key = opts.keyOf(c);
    const wait = perClient.take(key, 0, Number.MIN_VALUE) ?? (opts.totalRate > 0 ? all.take('*', 0, Number.MIN_VALUE) : undefined);
    if (wait !== undefined)
      throw new ShuniuError(
        'E_RATE_LIMITED',
        `records this node could not store: more than ${opts.rate} bytes a second from ${key}, or ${opts.totalRate} from all clients`,
        { detail: { retryAfter: wait } },
      );
    await next();
    const cost = (c.get('unstoredChars' as never) as number | undefined) ?? 0;
    if (cost <= 0) return;
    perClient.take(key, cost, Number.NEGATIVE_INFINITY);
    if (opts.totalRate > 0) all.take('*', cost, Number.NEGATIVE_INFINITY);
  };
}

export function intParam(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined || v === '') return dflt;
  if (!/^-?\d+$/.test(v)) throw new ShuniuError('E_ARGUMENT', `${name} must be an integer`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ShuniuError('E_ARGUMENT', `${name} must be between ${min} and ${max}`);
  return n;
}

export function listParam(v: string | undefined, allowed: readonly string[], name: string): string[] | undefined {
  if (v === undefined || v === '') return undefined;
  const parts = v.split(',').map((s) => s.trim());
  for (const p of parts) if (!allowed.includes(p)) throw new ShuniuError('E_ARGUMENT', `${name}: unknown value ${JSON.stringify(p)}`);
  return parts;
}

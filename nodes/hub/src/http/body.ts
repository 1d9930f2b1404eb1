import type { IncomingMessage } from 'node:http';
import { parseIJson, ShuniuError } from '@shuniu/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

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

/** The text of a JSON body, unparsed (415 unless application/json). */
export async function readJsonText(c: Context): Promise<string> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ShuniuError('E_UNSUPPORTED_MEDIA', 'send application/json');
  return c.req.text();
}

/**
 * Token bucket per client (spec/node.md §Limits): `rate` requests a second,
 * bursts of `burst`. The key is the peer's address (or its token subject).
 */
export function rateLimit(opts: { rate: number; burst: number; keyOf: (c: Context) => string; now?: () => number }): MiddlewareHandler {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const now = opts.now ?? (() => Date.now());
  return async (c, next) => {
    if (opts.rate <= 0) return next();
    const key = opts.keyOf(c);
    const t = now();
    const b = buckets.get(key) ?? { tokens: opts.burst, at: t };
    b.tokens = Math.min(opts.burst, b.tokens + ((t - b.at) / 1000) * opts.rate);
    b.at = t;
    if (b.tokens < 1) {
      buckets.set(key, b);
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / opts.rate));
      throw new ShuniuError('E_RATE_LIMITED', `more than ${opts.rate} requests a second from ${key}`, { detail: { retryAfter } });
    }
    b.tokens -= 1;
    buckets.set(key, b);
    if (buckets.size > 10_000) for (const [k, v] of buckets) if (v.tokens >= opts.burst) buckets.delete(k);
    return next();
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

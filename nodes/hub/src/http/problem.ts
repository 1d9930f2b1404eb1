import { type ErrorCode, isShuniuError, ShuniuError } from '@shuniu/protocol';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { forkMembers } from '../ingest.js';
import type { Problem } from '../wire.js';

/**
 * The one map from error codes to HTTP statuses of a problem document
 * (spec/errors.md §2.1). A record acknowledged `held` (E_GAP,
 * E_NOT_ADMITTED) is not a problem: a single push answers it 202 with its
 * ack. A record refused with E_GAP (not held) is a rejection: 422.
 */
export const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  E_JSON: 400,
  E_IJSON: 400,
  E_SCHEMA: 400,
  E_VERSION: 400,
  E_ARGUMENT: 400,
  E_SIG: 422,
  E_HUB_ID: 422,
  E_CHAIN: 422,
  E_SEALED: 422,
  E_KEY: 422,
  E_CLOCK_SKEW: 422,
  E_FORK: 409,
  E_GAP: 422,
  E_AUTH: 401,
  E_FORBIDDEN: 403,
  E_NOT_AUTHOR: 403,
  E_NOT_ADMITTED: 403,
  E_BLOCKED: 403,
  E_TOO_LARGE: 413,
  E_RATE_LIMITED: 429,
  E_NOT_FOUND: 404,
  E_UNSUPPORTED_MEDIA: 415,
  E_STORAGE: 503,
  E_BUSY: 503,
  E_INTERNAL: 500,
};

const TITLES: Partial<Record<ErrorCode, string>> = {
  E_JSON: 'Malformed JSON',
  E_IJSON: 'Not I-JSON',
  E_SCHEMA: 'Schema violation',
  E_AUTH: 'Authentication required',
  E_FORBIDDEN: 'Forbidden',
  E_NOT_AUTHOR: 'Not this hub’s to sign',
  E_NOT_FOUND: 'Not found',
  E_TOO_LARGE: 'Payload too large',
  E_RATE_LIMITED: 'Too many requests',
  E_STORAGE: 'Storage unavailable',
  E_BUSY: 'Busy: over the time budget',
  E_INTERNAL: 'Internal error',
};

export type { Problem };

export function problemOf(err: ShuniuError): Problem {
  const status = STATUS_OF[err.code] ?? 500;
  const p: Problem = {
    type: `https://shuniu.org/errors/${err.code}`,
    title: TITLES[err.code] ?? err.code,
    status,
    detail: err.code === 'E_INTERNAL' ? 'internal error' : err.message,
    code: err.code,
  };
  if (err.issues) p.issues = err.issues;
  if (err.code === 'E_FORK') Object.assign(p, forkMembers(err.detail));
  // E_NOT_AUTHOR names the hub that may sign (spec/errors.md §1).
  if (err.code === 'E_NOT_AUTHOR' && typeof err.detail?.signer === 'string') p.signer = err.detail.signer;
  return p;
}

export function problemResponse(c: Context, err: ShuniuError, headers: Record<string, string> = {}): Response {
  const p = problemOf(err);
  return c.body(JSON.stringify(p), p.status as ContentfulStatusCode, { 'content-type': 'application/problem+json', ...headers });
}

/** app.onError: codes become problem documents; anything else is a 500 that leaks nothing. */
export function onError(log: (msg: string, e: unknown) => void) {
  return (err: Error, c: Context): Response => {
    if (isShuniuError(err)) {
      if (err.code === 'E_INTERNAL' || err.code === 'E_STORAGE') log(`${c.req.method} ${c.req.path}`, err);
      const headers: Record<string, string> = {};
      const retry = err.detail?.retryAfter;
      if (typeof retry === 'number') headers['retry-after'] = String(retry);
      return problemResponse(c, err, headers);
    }
    if (err instanceof HTTPException) {
      const code: ErrorCode = err.status === 413 ? 'E_TOO_LARGE' : err.status === 404 ? 'E_NOT_FOUND' : err.status === 401 ? 'E_AUTH' : 'E_ARGUMENT';
      return problemResponse(c, new ShuniuError(code, err.message || code));
    }
    log(`${c.req.method} ${c.req.path}`, err);
    return problemResponse(c, new ShuniuError('E_INTERNAL', 'internal error'));
  };
}

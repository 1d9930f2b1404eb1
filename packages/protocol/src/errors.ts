/**
 * Every failure the protocol can report has one stable code. The list is
 * closed and mirrored in spec/errors.md; nodes map codes to HTTP statuses.
 */
export const ERROR_CODES = [
  'E_JSON', // not parseable as JSON, or nested too deeply
  'E_IJSON', // JSON but not I-JSON (RFC 7493): duplicate key, lone surrogate, unsafe integer, non-finite number
  'E_SCHEMA', // well-formed JSON that breaks a record schema
  'E_VERSION', // protocol version this implementation does not speak
  'E_SIG', // signature does not verify under the author's current key
  'E_HUB_ID', // inception whose hub id is not derived from its body
  'E_CHAIN', // seq/prev/hlc do not continue the author's chain
  'E_GAP', // predecessor not held yet: held aside, not applied
  'E_FORK', // second record at a sequence number already taken
  'E_CLOCK_SKEW', // hlc too far ahead of the receiver's clock
  'E_SEALED', // sealed part absent/mismatched or cannot be opened
  'E_KEY', // malformed key material
  'E_ARGUMENT', // wrong argument passed to a library function
  'E_NOT_ADMITTED', // author hub not admitted by a chain leading to a trusted root
  'E_BLOCKED', // author hub on the local block list
  'E_AUTH', // missing, expired or invalid bearer token
  'E_FORBIDDEN', // token valid but lacks the scope
  'E_NOT_AUTHOR', // an operator write of a record only another hub may sign (an allocation of another hub's offer)
  'E_TOO_LARGE', // body or batch over the limit
  'E_RATE_LIMITED', // too many requests from one peer or client
  'E_NOT_FOUND', // no such object or route
  'E_UNSUPPORTED_MEDIA', // wrong Content-Type
  'E_STORAGE', // the store cannot commit (disk full, locked)
  'E_BUSY', // the node declines costly work now (over its time budget); retry after Retry-After
  'E_INTERNAL', // a bug; details are logged, never sent
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One issue of a failed validation, in zod's shape. */
export interface Issue {
  code: string;
  path: (string | number)[];
  message: string;
}

/**
 * The single error type of Shuniu. `code` is stable and machine-readable;
 * `message` names what was wrong and where (a JSON path when there is one).
 *
 * @example
 * try { parseIJson('{"a":1,"a":2}') } catch (e) { if (e instanceof ShuniuError) e.code // 'E_IJSON' }
 */
export class ShuniuError extends Error {
  override readonly name = 'ShuniuError';
  readonly code: ErrorCode;
  readonly path: (string | number)[] | undefined;
  readonly issues: Issue[] | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      path?: (string | number)[];
      issues?: Issue[];
      cause?: unknown;
      detail?: Record<string, unknown>;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.issues = options.issues;
    this.detail = options.detail;
  }

  /** A plain object safe to send on the wire. */
  toJSON(): { code: ErrorCode; message: string; path?: (string | number)[]; issues?: Issue[] } {
    const out: { code: ErrorCode; message: string; path?: (string | number)[]; issues?: Issue[] } = {
      code: this.code,
      message: this.message,
    };
    if (this.path) out.path = this.path;
    if (this.issues) out.issues = this.issues;
    return out;
  }
}

export function isShuniuError(e: unknown): e is ShuniuError {
  return e instanceof ShuniuError;
}

/** Renders a JSON path as `$.body.lines[0].quantity`. */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '$';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

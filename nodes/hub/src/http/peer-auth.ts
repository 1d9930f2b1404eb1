import type { IncomingMessage } from 'node:http';
import { ed25519Sign, ed25519Verify, fromBase64url, fromUtf8, hubIdOf, hubIdSchema, ShuniuError, sha256, utf8 } from '@shuniu/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import * as sf from 'structured-headers';
import { skipValue } from '../json-spans.js';
import { type Principal, principalOf } from './access.js';

/**
 * Peer authentication (spec/node.md §9.4): every request a node sends to a
 * peer carries an RFC 9421 HTTP Message Signature made with its hub's
 * record-signing key (Ed25519), over the method, authority, path, query and,
 * for a body, its RFC 9530 Content-Digest. The receiving node verifies it
 * against the signing key in force for that hub in its own copy of the hub's
 * chain; a request that verifies is from `{kind:'peer', hub}`.
 */

/** The label of the signature in Signature-Input and Signature. */
export const SIGNATURE_LABEL = 'shuniu';
/** The `tag` parameter naming the application (RFC 9421 §2.3). */
export const SIGNATURE_TAG = 'shuniu-peer';
/** Largest distance in seconds between `created` and the verifier's clock, and the signature's lifetime. */
export const MAX_AGE_S = 300;
/** Components a signature must cover; `content-digest` too when the request has a body. */
export const REQUIRED_COMPONENTS = ['@method', '@authority', '@path', '@query'] as const;

/** The key a node signs its requests with: its hub id and Ed25519 secret key (libsodium form, 64 bytes). */
export interface PeerKey {
  hub: string;
  secretKey: Uint8Array;
}

/** What a signature covers, as the signer and the verifier each see the request. */
export interface RequestParts {
  method: string;
  /** Host and port as in the Host header: lower case, no default port. */
  authority: string;
  /** The absolute path, "/" when empty, as sent (not decoded). */
  path: string;
  /** "?" and the query as sent; "?" alone when there is none (RFC 9421 §2.2.7). */
  query: string;
  /** Header fields by lower-case name (for `content-digest` and any other field covered). */
  header: (name: string) => string | undefined;
}

export interface SignatureParams {
  created: number;
  expires?: number;
  keyid: string;
  alg: string;
  tag?: string;
}

/** RFC 9530 Content-Digest of a body with SHA-256: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${Buffer.from(sha256(body)).toString('base64')}:`;
}

/** The method, authority, path and query of an absolute URL, as RFC 9421 §2.2 derives them. */
export function partsOf(method: string, url: string, headers: Record<string, string> = {}): RequestParts {
  const u = new URL(url);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: method.toUpperCase(),
    authority: u.host.toLowerCase(),
    path: u.pathname === '' ? '/' : u.pathname,
    query: u.search === '' ? '?' : u.search,
    header: (n) => lower[n],
  };
}

// --- RFC 8941 structured fields (Signature-Input, Signature, Content-Digest): the `structured-headers` library ---

/** Parses a Dictionary field; a malformed one is E_AUTH (the request claimed a signature it does not carry). */
function dictionary(field: string, name: string): sf.Dictionary {
  try {
    return sf.parseDictionary(field);
  } catch (e) {
    throw new ShuniuError('E_AUTH', `malformed ${name} header: ${(e as Error).message}`);
  }
}

const isInnerList = (m: sf.Item | sf.InnerList): m is sf.InnerList => Array.isArray(m[0]);
const bytesOf = (v: sf.BareItem): Uint8Array | undefined => (v instanceof ArrayBuffer ? new Uint8Array(v) : undefined);

/** The `@signature-params` value (RFC 9421 §2.3): the covered components and the parameters, serialized. */
export function signatureParamsValue(components: readonly string[], p: SignatureParams): string {
  const ps: sf.Parameters = new Map<string, sf.BareItem>([['created', p.created]]);
  if (p.expires !== undefined) ps.set('expires', p.expires);
  ps.set('keyid', p.keyid).set('alg', p.alg);
  if (p.tag !== undefined) ps.set('tag', p.tag);
  return sf.serializeInnerList([components.map((c): sf.Item => [c, new Map()]), ps]);
}

/** The value of one covered component (RFC 9421 §2.1, §2.2); undefined when the request has none. */
function componentValue(name: string, r: RequestParts): string | undefined {
  switch (name) {
    case '@method':
      return r.method;
    case '@authority':
      return r.authority;
    case '@path':
      return r.path;
    case '@query':
      return r.query;
    default:
      if (name.startsWith('@')) return undefined;
      return r.header(name)?.trim();
  }
}

/**
 * The signature base (RFC 9421 §2.5): one line per covered component,
 * `"<name>": <value>`, then `"@signature-params": <params>`, joined by LF,
 * no final LF.
 */
export function signatureBase(components: readonly string[], paramsValue: string, r: RequestParts): string {
  const lines: string[] = [];
  for (const c of components) {
    const v = componentValue(c, r);
    if (v === undefined) throw new ShuniuError('E_AUTH', `the signature covers ${c}, which this request does not have`);
    if (/[\r\n]/.test(v)) throw new ShuniuError('E_AUTH', `${c} holds a line break`);
    lines.push(`"${c}": ${v}`);
  }
  lines.push(`"@signature-params": ${paramsValue}`);
  return lines.join('\n');
}

/**
 * Signs a request as a peer (spec/node.md §9.4). Returns the headers to send
 * with it: `content-digest` when there is a body, `signature-input` and
 * `signature`. `now` is in milliseconds.
 *
 * @example
 * const headers = signRequest(key, { method: 'GET', url: `${peer}/v1/heads` })
 * await fetch(`${peer}/v1/heads`, { headers })
 */
export function signRequest(
  key: PeerKey,
  req: { method: string; url: string; body?: string | Uint8Array | undefined },
  now: number = Date.now(),
  sign: (message: Uint8Array, secretKey: Uint8Array) => Uint8Array = ed25519Sign,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const components: string[] = [...REQUIRED_COMPONENTS];
  if (req.body !== undefined) {
    headers['content-digest'] = contentDigest(typeof req.body === 'string' ? utf8(req.body) : req.body);
    components.push('content-digest');
  }
  const created = Math.floor(now / 1000);
  const params = signatureParamsValue(components, { created, expires: created + MAX_AGE_S, keyid: key.hub, alg: 'ed25519', tag: SIGNATURE_TAG });
  const base = signatureBase(components, params, partsOf(req.method, req.url, headers));
  const sig = sign(utf8(base), key.secretKey);
  headers['signature-input'] = `${SIGNATURE_LABEL}=${params}`;
  headers.signature = `${SIGNATURE_LABEL}=:${Buffer.from(sig).toString('base64')}:`;
  return headers;
}

export type VerifyOutcome =
  /** No `shuniu` signature: an anonymous request. */
  | { kind: 'none' }
  /** Well formed, but this node holds no chain of the hub named by keyid: cannot be verified, anonymous. */
  | { kind: 'unknown'; hub: string }
  /** Verified: sent by this hub; `digest` is the Content-Digest the body must match (when covered). */
  | { kind: 'peer'; hub: string; digest?: string };

/**
 * Verifies the `shuniu` signature of a request (no body check: the caller
 * compares the body with the returned digest). Throws E_AUTH when a
 * signature is present but malformed, out of its time window, missing a
 * required component or not verifying. `authorities` are the values of
 * `@authority` the node answers to (the Host header first, then its public
 * URL's host); the first that verifies wins.
 */
export function verifyRequest(
  r: RequestParts,
  opts: {
    keyOf: (hub: string) => string | undefined;
    now: number;
    hasBody: boolean;
    authorities?: readonly string[];
    /** The Ed25519 check (libsodium's, strict, by default). */
    verify?: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
  },
): VerifyOutcome {
  const inputHeader = r.header('signature-input');
  const sigHeader = r.header('signature');
  if (inputHeader === undefined && sigHeader === undefined) return { kind: 'none' };
  const inputs = dictionary(inputHeader ?? '', 'Signature-Input');
  const sigs = dictionary(sigHeader ?? '', 'Signature');
  const input = inputs.get(SIGNATURE_LABEL);
  const sig = sigs.get(SIGNATURE_LABEL);
  if (!input && !sig) return { kind: 'none' };
  if (!input || !isInnerList(input)) throw new ShuniuError('E_AUTH', `Signature-Input has no inner list labelled ${SIGNATURE_LABEL}`);
  const sigBytes = sig && !isInnerList(sig) ? bytesOf(sig[0]) : undefined;
  if (!sigBytes) throw new ShuniuError('E_AUTH', `Signature has no byte sequence labelled ${SIGNATURE_LABEL}`);
  const components: string[] = [];
  for (const [value, params] of input[0]) {
    if (typeof value !== 'string' || params.size > 0 || value !== value.toLowerCase())
      throw new ShuniuError('E_AUTH', 'covered components must be lower-case strings without parameters');
    if (components.includes(value)) throw new ShuniuError('E_AUTH', `${value} is covered twice`);
    components.push(value);
  }
  const param = (k: string) => input[1].get(k);
  const { created, expires, keyid, alg, tag } = {
    created: param('created'),
    expires: param('expires'),
    keyid: param('keyid'),
    alg: param('alg'),
    tag: param('tag'),
  };
  if (alg !== 'ed25519') throw new ShuniuError('E_AUTH', 'the signature must have alg="ed25519"');
  if (tag !== SIGNATURE_TAG) throw new ShuniuError('E_AUTH', `the signature must have tag="${SIGNATURE_TAG}"`);
  if (typeof keyid !== 'string' || !hubIdSchema.safeParse(keyid).success) throw new ShuniuError('E_AUTH', 'keyid must be a hub id');
  if (typeof created !== 'number' || !Number.isInteger(created)) throw new ShuniuError('E_AUTH', 'the signature needs an integer created');
  if (expires !== undefined && (typeof expires !== 'number' || !Number.isInteger(expires))) throw new ShuniuError('E_AUTH', 'expires must be an integer');
  const nowS = Math.floor(opts.now / 1000);
  if (Math.abs(nowS - created) > MAX_AGE_S)
    throw new ShuniuError('E_AUTH', `signature created ${created} is more than ${MAX_AGE_S} s away from this node's clock (${nowS})`);
  if (expires !== undefined && expires < nowS) throw new ShuniuError('E_AUTH', `signature expired at ${expires} (now ${nowS})`);
  for (const c of REQUIRED_COMPONENTS) if (!components.includes(c)) throw new ShuniuError('E_AUTH', `the signature must cover ${c}`);
  if (opts.hasBody && !components.includes('content-digest')) throw new ShuniuError('E_AUTH', 'a request with a body must have content-digest covered');
  const key = opts.keyOf(keyid);
  if (key === undefined) return { kind: 'unknown', hub: keyid };
  const paramsValue = sf.serializeInnerList(input);
  const publicKey = fromBase64url(key);
  const candidates = [...new Set([r.authority, ...(opts.authorities ?? [])])];
  for (const authority of candidates) {
    const base = signatureBase(components, paramsValue, { ...r, authority });
    if ((opts.verify ?? ed25519Verify)(sigBytes, utf8(base), publicKey)) {
      const digest = components.includes('content-digest') ? r.header('content-digest') : undefined;
      return digest === undefined ? { kind: 'peer', hub: keyid } : { kind: 'peer', hub: keyid, digest };
    }
  }
  throw new ShuniuError('E_AUTH', `the request signature does not verify with the signing key in force of hub ${keyid}`);
}

/** Whether a Content-Digest field value holds a sha-256 member equal to the body's. */
export function digestMatches(field: string, body: Uint8Array): boolean {
  let members: sf.Dictionary;
  try {
    members = sf.parseDictionary(field);
  } catch {
    return false;
  }
  const m = members.get('sha-256');
  const got = m && !isInnerList(m) ? bytesOf(m[0]) : undefined;
  if (!got) return false;
  const want = sha256(body);
  return got.length === want.length && got.every((b, i) => b === want[i]);
}

/**
 * The signing key of `hub` as its inception names it, if `json` (a record, a
 * pushed array or `{records}`) holds an inception whose body hashes to `hub`:
 * the hub id commits to that key, so whoever holds the inception can check a
 * new hub's first signatures before storing anything of it.
 */
export function inceptionKey(hub: string, json: unknown): string | undefined {
  const list = Array.isArray(json) ? json : Array.isArray((json as { records?: unknown })?.records) ? (json as { records: unknown[] }).records : [json];
  for (const r of list as { type?: unknown; hub?: unknown; seq?: unknown; body?: unknown }[]) {
    if (!r || typeof r !== 'object' || r.type !== 'hub.inception' || r.hub !== hub || r.seq !== 0) continue;
    try {
      const body = r.body as Parameters<typeof hubIdOf>[0];
      if (hubIdOf(body) === hub) return body.signingKey;
    } catch {
      // Not an inception body: no key from it.
    }
  }
  return undefined;
}

/** The first element of a pushed array, parsed; undefined if there is none or it is not JSON. */
export function firstRecord(text: string): unknown {
  let i = 0;
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  if (text[i] !== '[') return undefined;
  let start = i + 1;
  while (start < text.length && /\s/.test(text[start] as string)) start++;
  const end = skipValue(text, start);
  if (end < 0) return undefined;
  try {
    return JSON.parse(text.slice(start, end));
  } catch {
    return undefined;
  }
}

function setPrincipal(c: Context, p: Principal): void {
  c.set('principal' as never, p as never);
}

/**
 * The key limits and shares are counted under (spec/node.md §9.4):
 * `hub:<id>` for an authenticated peer, `addr:<ip>` for everyone else.
 */
export function clientKey(c: Context, addr: string): string {
  const p = principalOf(c);
  return p.kind === 'peer' ? `hub:${p.hub}` : `addr:${addr}`;
}

/** The request's parts as received: the raw request target when served by Node, else the URL. */
function receivedParts(c: Context): RequestParts {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const url = new URL(c.req.url);
  let path = url.pathname;
  let query = url.search === '' ? '?' : url.search;
  const target = incoming?.url;
  if (typeof target === 'string' && target.startsWith('/')) {
    const q = target.indexOf('?');
    path = q < 0 ? target : target.slice(0, q);
    query = q < 0 ? '?' : target.slice(q);
  }
  const host = c.req.header('host') ?? url.host;
  return { method: c.req.method.toUpperCase(), authority: host.toLowerCase(), path, query, header: (n) => c.req.header(n) };
}

/** Reads the whole body (at most `max` bytes) and puts it back on the request for the handlers. */
async function takeBody(c: Context, max: number): Promise<Uint8Array> {
  const length = c.req.header('content-length');
  if (length !== undefined && Number(length) > max) throw new ShuniuError('E_TOO_LARGE', `request body is larger than ${max} bytes`);
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => {});
      throw new ShuniuError('E_TOO_LARGE', `request body is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(Buffer.concat(chunks));
  c.req.raw = new Request(c.req.raw, { body: bytes });
  return bytes;
}

/**
 * Verifies incoming peer signatures and sets the `principal` context
 * variable: `{kind:'peer', hub}` when the `shuniu` signature verifies with
 * the signing key in force of that hub (`keyOf`, from the store's chain
 * view) and the body matches its Content-Digest; anonymous when there is no
 * signature or the hub is unknown to this node; 401 E_AUTH otherwise. Runs
 * before the rate limiter, which counts under `clientKey`.
 */
export function peerAuth(opts: {
  /** The signing key in force of a hub this node holds, or of one whose inception it holds aside. */
  keyOf: (hub: string) => string | undefined;
  maxBodyBytes: number;
  /** `@authority` values accepted besides the Host header (the node's public URL's host). */
  authorities?: () => readonly string[];
  now?: () => number;
  /** The Ed25519 check of signatures (runtime.ts `verify`; libsodium's by default). */
  verify?: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
}): MiddlewareHandler {
  const now = opts.now ?? (() => Date.now());
  return async (c, next) => {
    if (c.get('principal' as never) === undefined) setPrincipal(c, { kind: 'anonymous' });
    const r = receivedParts(c);
    if (r.header('signature-input') === undefined && r.header('signature') === undefined) return next();
    const hasBody = c.req.raw.body !== null && (c.req.header('transfer-encoding') !== undefined || Number(c.req.header('content-length') ?? '0') > 0);
    const verify = (keyOf: (hub: string) => string | undefined) =>
      verifyRequest(r, {
        keyOf,
        now: now(),
        hasBody,
        authorities: opts.authorities?.() ?? [],
        ...(opts.verify ? { verify: opts.verify } : {}),
      });
    let out = verify(opts.keyOf);
    let body: Uint8Array | undefined;
    if (out.kind === 'unknown' && hasBody) {
      // A hub met for the first time pushes its inception first: the key the hub id commits to.
      // Only that first record is parsed here, before the rate limit.
      body = await takeBody(c, opts.maxBodyBytes);
      const hub = out.hub;
      const key = inceptionKey(hub, firstRecord(fromUtf8(body)));
      if (key !== undefined) out = verify((h) => (h === hub ? key : undefined));
    }
    if (out.kind !== 'peer') return next();
    if (hasBody) {
      body ??= await takeBody(c, opts.maxBodyBytes);
      if (out.digest === undefined || !digestMatches(out.digest, body))
        throw new ShuniuError('E_AUTH', `the body does not match the signed content-digest of hub ${out.hub}`);
    }
    setPrincipal(c, { kind: 'peer', hub: out.hub });
    return next();
  };
}

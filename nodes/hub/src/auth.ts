import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ShuniuError, sha256, signingKeyPairFromSeed, toBase64url, utf8 } from '@shuniu/protocol';
import { decodeProtectedHeader, type JWK, jwtVerify, SignJWT } from 'jose';
import { writePrivateFile } from './files.js';
import type { TokenRecords } from './tokens.js';

export type Scope = 'operator' | 'subscriber';

/** The longest a token of each scope may live, in seconds (config `tokens`, spec/node.md §8). */
export interface TokenLimits {
  operator: number;
  subscriber: number;
}

export const DEFAULT_TOKEN_LIMITS: TokenLimits = { operator: 30 * 86400, subscriber: 365 * 86400 };

/** The token key's file in the data directory (spec/node.md §8, §11). */
export const TOKEN_KEY_FILE = 'token.key.json';

/** An Ed25519 token key: its JWKs and its `kid`, the RFC 7638 thumbprint of the public JWK. */
export interface TokenKey {
  kid: string;
  publicJwk: JWK;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * RFC 7638 thumbprint of an Ed25519 public JWK (SHA-256 over the JCS of
 * `crv`, `kty`, `x`): the same value as jose's `calculateJwkThumbprint`,
 * computed synchronously.
 */
export function jwkThumbprint(x: string): string {
  return toBase64url(sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)));
}

/** The token key made from a 32-byte seed. */
export function tokenKeyFromSeed(seed: Uint8Array): TokenKey {
  const x = toBase64url(signingKeyPairFromSeed(seed).publicKey);
  const d = toBase64url(seed);
  const kid = jwkThumbprint(x);
  return {
    kid,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' },
    privateKey: createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' }),
    publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
  };
}

function tokenKeyText(seed: Uint8Array): string {
  return `${JSON.stringify({ tokenSeed: toBase64url(seed), created: new Date().toISOString() }, null, 2)}\n`;
}

function readTokenSeed(path: string): Uint8Array {
  let f: { tokenSeed?: unknown };
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as { tokenSeed?: unknown };
  } catch (cause) {
    throw new ShuniuError('E_KEY', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  if (typeof f?.tokenSeed !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(f.tokenSeed))
    throw new ShuniuError('E_KEY', `${path}: tokenSeed must be 32 bytes of base64url`);
  return new Uint8Array(Buffer.from(f.tokenSeed, 'base64url'));
}

/**
 * Creates DIR/token.key.json (0600, a fresh random seed) unless it exists:
 * at init, and at the first start of a data directory made by an older
 * version (whose tokens, signed with the key derived from the signing seed,
 * then stop working). Returns whether it created the file.
 */
export function ensureTokenKeyFile(dir: string): boolean {
  try {
    writePrivateFile(join(dir, TOKEN_KEY_FILE), tokenKeyText(randomBytes(32)), true);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Replaces the token key with a fresh one (`shuniu token rotate-key`): the
 * new file is written beside the old one and renamed over it, so a running
 * node reads either the old key or the new one, never half a file. Every
 * token signed with the old key stops verifying at once; nothing else changes.
 * Returns the new key's kid.
 */
export function rotateTokenKeyFile(dir: string): string {
  const seed = randomBytes(32);
  const tmp = join(dir, `${TOKEN_KEY_FILE}.new`);
  writePrivateFile(tmp, tokenKeyText(seed));
  renameSync(tmp, join(dir, TOKEN_KEY_FILE));
  return tokenKeyFromSeed(seed).kid;
}

/** Where the current token key comes from. */
export type TokenKeySource = () => TokenKey;

/**
 * The key in DIR/token.key.json, read again whenever the file changes (a
 * `stat` per use): a rotation by the CLI takes effect at once in a running node.
 */
export function fileTokenKey(dir: string): TokenKeySource {
  const path = join(dir, TOKEN_KEY_FILE);
  let seen = '';
  let key: TokenKey | undefined;
  return () => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch (cause) {
      // Fail closed: without its key file the node verifies no token (`shuniu token rotate-key` makes a new one).
      throw new ShuniuError('E_AUTH', `no token key: ${(cause as Error).message}`, { cause });
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (!key || stamp !== seen) {
      key = tokenKeyFromSeed(readTokenSeed(path));
      seen = stamp;
    }
    return key;
  };
}

/** Who a verified token speaks for. */
export interface TokenClaims {
  scope: Scope;
  jti: string;
  sub: string;
  /** The key it was signed with and its expiry (s), for `stillValid`. */
  kid: string;
  exp: number;
}

const JTI = /^[A-Za-z0-9_-]{22}$/;

/**
 * Bearer tokens (spec/node.md §8): JWTs signed with EdDSA by the token key
 * of DIR/token.key.json, never the key that signs records, rotated on its
 * own. Issuer and audience are the hub id; `scope` is operator or
 * subscriber; every token has a random 128-bit `jti` recorded in the
 * `tokens` table when issued, and is accepted only while that row exists
 * and is not revoked (read on every request, no cache) and while its
 * lifetime `exp - iat` is within the node's limit for its scope.
 */
export class TokenAuth {
  private readonly key: TokenKeySource;

  constructor(
    readonly hubId: string,
    key: TokenKeySource | Uint8Array,
    private readonly opts: { records?: TokenRecords; limits?: TokenLimits; now?: () => number } = {},
  ) {
    if (key instanceof Uint8Array) {
      const k = tokenKeyFromSeed(key);
      this.key = () => k;
    } else this.key = key;
  }

  /** The current key's public JWK (for the JWKS) and kid. */
  get publicJwk(): JWK {
    return this.key().publicJwk;
  }

  get kid(): string {
    return this.key().kid;
  }

  get limits(): TokenLimits {
    return this.opts.limits ?? DEFAULT_TOKEN_LIMITS;
  }

  private nowS(): number {
    return Math.floor((this.opts.now?.() ?? Date.now()) / 1000);
  }

  /**
   * Refuses a lifetime beyond this node's limit for `scope` (E_ARGUMENT),
   * with the limit in the message.
   */
  checkTtl(scope: Scope, ttlSeconds: number): void {
    const max = this.limits[scope];
    if (!(ttlSeconds <= max))
      throw new ShuniuError(
        'E_ARGUMENT',
        `a ${scope} token may live at most ${max} s (${formatSeconds(max)}) on this node; asked for ${ttlSeconds} s (config tokens.maxTtl${scope === 'operator' ? 'Operator' : 'Subscriber'}Seconds)`,
      );
    if (!Number.isSafeInteger(ttlSeconds)) throw new ShuniuError('E_ARGUMENT', `a token lifetime must be a whole number of seconds, not ${ttlSeconds}`);
  }

  /**
   * Issues a token that lives `ttlSeconds` (at most the scope's limit) and
   * records it (jti, scope, sub, iat, exp, note) before returning it.
   */
  async issue(scope: Scope, ttlSeconds: number, subject: string = scope, note?: string): Promise<string> {
    this.checkTtl(scope, ttlSeconds);
    const key = this.key();
    const jti = toBase64url(randomBytes(16));
    const iat = this.nowS();
    const exp = iat + ttlSeconds;
    const token = await new SignJWT({ scope })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.hubId)
      .setAudience(this.hubId)
      .setSubject(subject)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    this.opts.records?.add({ jti, scope, sub: subject, iat, exp, note: note ?? null, kid: key.kid });
    return token;
  }

  /** @throws ShuniuError E_AUTH when the token is missing, expired, revoked, too long-lived, or not ours. */
  async check(authorization: string | undefined): Promise<TokenClaims> {
    const m = authorization?.match(/^Bearer\s+([A-Za-z0-9_.-]+)$/);
    if (!m) throw new ShuniuError('E_AUTH', 'missing bearer token');
    const token = m[1] as string;
    let payload: Record<string, unknown>;
    let key: TokenKey;
    try {
      key = this.key();
      const kid = decodeProtectedHeader(token).kid;
      if (kid !== key.kid) throw new Error(`signed with key ${String(kid)}, not this node's current token key (it was rotated, or never ours)`);
      ({ payload } = await jwtVerify(token, key.publicKey, {
        issuer: this.hubId,
        audience: this.hubId,
        algorithms: ['EdDSA'],
        requiredClaims: ['jti', 'iat', 'exp', 'sub'],
        currentDate: new Date(this.nowS() * 1000),
      }));
    } catch (cause) {
      throw new ShuniuError('E_AUTH', `invalid bearer token: ${(cause as Error).message}`, { cause });
    }
    const { scope, jti, sub, iat, exp } = payload;
    if (scope !== 'operator' && scope !== 'subscriber') throw new ShuniuError('E_AUTH', 'invalid bearer token: unknown scope');
    if (typeof jti !== 'string' || !JTI.test(jti)) throw new ShuniuError('E_AUTH', 'invalid bearer token: jti is not 128 bits of base64url');
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > this.limits[scope])
      throw new ShuniuError('E_AUTH', `invalid bearer token: it lives longer than a ${scope} token may on this node (${this.limits[scope]} s)`);
    const row = this.opts.records?.get(jti);
    if (!row || row.scope !== scope || row.sub !== sub || row.exp !== exp)
      throw new ShuniuError('E_AUTH', 'invalid bearer token: this node has no record of issuing it');
    if (row.revokedMs !== null) throw new ShuniuError('E_AUTH', 'invalid bearer token: revoked');
    return { scope, jti, sub: String(sub), kid: key.kid, exp };
  }

  /**
   * Whether a token that verified earlier still would: same key, not
   * expired, its row not revoked. No signature check: for long responses
   * (a live feed) re-checked before each chunk they send.
   */
  stillValid(t: TokenClaims): boolean {
    let kid: string;
    try {
      kid = this.key().kid;
    } catch {
      return false;
    }
    if (kid !== t.kid || t.exp <= this.nowS()) return false;
    const row = this.opts.records?.get(t.jti);
    return row !== undefined && row.revokedMs === null;
  }
}

function formatSeconds(s: number): string {
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** The limits of config `tokens`, checked: whole positive numbers of seconds. */
export function tokenLimitsOf(t: { maxTtlOperatorSeconds: number; maxTtlSubscriberSeconds: number }): TokenLimits {
  for (const [k, v] of Object.entries(t))
    if (!Number.isSafeInteger(v) || v <= 0) throw new ShuniuError('E_ARGUMENT', `config tokens.${k} must be a positive whole number of seconds`);
  return { operator: t.maxTtlOperatorSeconds, subscriber: t.maxTtlSubscriberSeconds };
}

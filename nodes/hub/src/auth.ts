import { ShuniuError, sha256, signingKeyPairFromSeed, toBase64url, utf8 } from '@shuniu/protocol';
import type { MiddlewareHandler } from 'hono';
import { type CryptoKey, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';

export type Scope = 'operator' | 'subscriber';

/**
 * Bearer tokens (spec/node.md §Tokens): JWT signed with EdDSA by a key
 * derived from the hub's signing seed, SHA-256("shuniu/jwt/v1" ‖ seed), so
 * it is never the key that signs records yet needs no file of its own.
 * Issuer and audience are the hub id; `scope` is operator or subscriber.
 */
export class TokenAuth {
  readonly kid = 'shuniu-jwt-v1';
  readonly publicJwk: JWK;
  private privateKey?: CryptoKey;
  private publicKey?: CryptoKey;

  constructor(
    readonly hubId: string,
    private readonly privateJwk: JWK,
  ) {
    this.publicJwk = { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x as string, kid: this.kid, alg: 'EdDSA', use: 'sig' };
  }

  static fromSigningSeed(hubId: string, signingSeed: Uint8Array): TokenAuth {
    const seed = sha256(new Uint8Array([...utf8('shuniu/jwt/v1'), ...signingSeed]));
    const kp = signingKeyPairFromSeed(seed);
    return new TokenAuth(hubId, { kty: 'OKP', crv: 'Ed25519', x: toBase64url(kp.publicKey), d: toBase64url(seed) });
  }

  private async keys(): Promise<{ priv: CryptoKey; pub: CryptoKey }> {
    this.privateKey ??= (await importJWK(this.privateJwk, 'EdDSA')) as CryptoKey;
    this.publicKey ??= (await importJWK(this.publicJwk, 'EdDSA')) as CryptoKey;
    return { priv: this.privateKey, pub: this.publicKey };
  }

  /** Issues a token; `ttlSeconds` bounds its life. */
  async issue(scope: Scope, ttlSeconds: number, subject: string = scope): Promise<string> {
    const { priv } = await this.keys();
    return new SignJWT({ scope })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.hubId)
      .setAudience(this.hubId)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(priv);
  }

  /** @throws ShuniuError E_AUTH when the token is missing, expired, or not ours. */
  async check(authorization: string | undefined): Promise<Scope> {
    const m = authorization?.match(/^Bearer\s+([A-Za-z0-9_.-]+)$/);
    if (!m) throw new ShuniuError('E_AUTH', 'missing bearer token');
    const { pub } = await this.keys();
    try {
      const { payload } = await jwtVerify(m[1] as string, pub, { issuer: this.hubId, audience: this.hubId, algorithms: ['EdDSA'] });
      if (payload.scope !== 'operator' && payload.scope !== 'subscriber') throw new Error('unknown scope');
      return payload.scope;
    } catch (cause) {
      throw new ShuniuError('E_AUTH', `invalid bearer token: ${(cause as Error).message}`, { cause });
    }
  }

  /** Middleware: operator tokens pass everywhere; subscriber tokens only where `scope` is subscriber. */
  require(scope: Scope): MiddlewareHandler {
    return async (c, next) => {
      const got = await this.check(c.req.header('authorization'));
      if (scope === 'operator' && got !== 'operator') throw new ShuniuError('E_FORBIDDEN', 'this route needs an operator token');
      await next();
    };
  }
}

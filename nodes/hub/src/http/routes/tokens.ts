import { ShuniuError } from '@shuniu/protocol';
import { Hono } from 'hono';
import type { TokenRecords, TokenRow } from '../../tokens.js';

export interface TokenRouteDeps {
  records: TokenRecords;
  /** The current token key's kid: a token signed with another key is dead. */
  kid: () => string;
}

/** A token as listed: everything recorded, never the token's text. */
export function tokenView(t: TokenRow, kid: string, nowS = Math.floor(Date.now() / 1000)) {
  const state = t.revokedMs !== null ? 'revoked' : t.kid !== kid ? 'key-rotated' : t.exp <= nowS ? 'expired' : 'live';
  return { jti: t.jti, scope: t.scope, sub: t.sub, iat: t.iat, exp: t.exp, revokedMs: t.revokedMs, note: t.note, kid: t.kid, state };
}

/**
 * Issued tokens and their revocation (spec/node.md §8): operator routes
 * (the access table says so). A revocation is refused at the caller's next
 * request: the node reads the row on every request.
 */
export function tokenRoutes(deps: TokenRouteDeps) {
  const app = new Hono();
  app.get('/v1/tokens', (c) => {
    const kid = deps.kid();
    return c.json({ tokens: deps.records.list().map((t) => tokenView(t, kid)) });
  });
  app.delete('/v1/tokens/:jti', (c) => {
    const jti = c.req.param('jti');
    if (!deps.records.revoke(jti)) throw new ShuniuError('E_NOT_FOUND', `no token ${jti}`);
    return c.body(null, 204);
  });
  // "Sign out everywhere": every token, the caller's included.
  app.post('/v1/tokens/revoke-all', (c) => c.json({ revoked: deps.records.revokeAll() }));
  return app;
}

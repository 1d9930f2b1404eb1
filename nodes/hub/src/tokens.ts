import type { SqlDb } from './store/types.js';

/** One issued token as the node records it (never the token's text). */
export interface TokenRow {
  jti: string;
  scope: 'operator' | 'subscriber';
  sub: string;
  /** Issued at and expiry, in seconds since the epoch (the token's `iat` and `exp`). */
  iat: number;
  exp: number;
  /** When it was revoked (ms), or null. */
  revokedMs: number | null;
  note: string | null;
  /** The token key it was signed with: a token whose kid is no longer the current key's is dead. */
  kid: string;
}

type Raw = { jti: string; scope: string; sub: string; iat: number; exp: number; revoked_ms: number | null; note: string | null; kid: string };

const row = (r: Raw): TokenRow => ({
  jti: r.jti,
  scope: r.scope as TokenRow['scope'],
  sub: r.sub,
  iat: r.iat,
  exp: r.exp,
  revokedMs: r.revoked_ms,
  note: r.note,
  kid: r.kid,
});

/**
 * The `tokens` table (migration 5, spec/node.md §8): every token the node or
 * `shuniu token` issued. A token verifies only while its row exists and is
 * not revoked; the row is read on every request (no cache), so a revocation
 * by the route or by the CLI on the same database is refused at the next request.
 */
export class TokenRecords {
  private readonly st: Record<'add' | 'get' | 'revoke' | 'revokeAll' | 'list', ReturnType<SqlDb['prepare']>>;

  constructor(db: SqlDb) {
    this.st = {
      add: db.prepare('INSERT INTO tokens (jti, scope, sub, iat, exp, revoked_ms, note, kid) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)'),
      get: db.prepare('SELECT * FROM tokens WHERE jti = ?'),
      revoke: db.prepare('UPDATE tokens SET revoked_ms = ? WHERE jti = ? AND revoked_ms IS NULL'),
      revokeAll: db.prepare('UPDATE tokens SET revoked_ms = ? WHERE revoked_ms IS NULL'),
      list: db.prepare('SELECT * FROM tokens ORDER BY iat, jti'),
    };
  }

  add(t: Omit<TokenRow, 'revokedMs'>): void {
    this.st.add.run(t.jti, t.scope, t.sub, t.iat, t.exp, t.note, t.kid);
  }

  get(jti: string): TokenRow | undefined {
    const r = this.st.get.get(jti) as Raw | undefined;
    return r ? row(r) : undefined;
  }

  /** Revokes one token; false when there is no such token. Revoking twice keeps the first time. */
  revoke(jti: string, nowMs = Date.now()): boolean {
    this.st.revoke.run(nowMs, jti);
    return this.get(jti) !== undefined;
  }

  /** "Sign out everywhere": revokes every token not yet revoked, the caller's too; returns how many. */
  revokeAll(nowMs = Date.now()): number {
    return this.st.revokeAll.run(nowMs).changes;
  }

  list(): TokenRow[] {
    return (this.st.list.all() as Raw[]).map(row);
  }
}

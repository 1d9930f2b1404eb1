import {
  ed25519Sign,
  ed25519Verify,
  fromBase64url,
  hubIdSchema,
  hubLevel,
  jcsBytes,
  randomBytes,
  regionCode,
  ShuniuError,
  sha256,
  signatureSchema,
  text,
  toBase64url,
  utf8,
} from '@shuniu/protocol';
import { z } from 'zod';
import { inceptionKey } from './http/peer-auth.js';
import type { SqlDb } from './store/types.js';

/**
 * Join codes and admission requests (spec/node.md §7.1). A parent's operator
 * makes a join code (single-use, expiring); the child sends its signed
 * admission request with it; the request waits in the pending list until the
 * parent's operator approves it (the node signs `hub.admitted`) or refuses it.
 */

/** Default and longest lifetime of a join code, in seconds. */
export const JOIN_CODE_TTL_DEFAULT = 24 * 3600;
export const JOIN_CODE_TTL_MAX = 7 * 24 * 3600;
/** Open and pending codes a node keeps at most (config limits.joinCodes). */
export const JOIN_CODES_DEFAULT = 100;
/** Largest body of POST /v1/join-requests (a public route): the request and a small inception fit many times over. */
export const JOIN_REQUEST_BYTES = 16 * 1024;
/** Decided, cancelled and expired rows are forgotten this long after (ms). */
export const JOIN_KEEP_MS = 30 * 24 * 3600 * 1000;

/** What the child signs: the domain-separated JCS of the request with the code. */
export const JOIN_CONTEXT = 'shuniu/join-request/v1';

export const joinRequestFields = z.strictObject({
  parent: hubIdSchema,
  child: hubIdSchema,
  level: hubLevel,
  region: regionCode,
  name: text(200),
  url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
});
export type JoinRequestFields = z.infer<typeof joinRequestFields>;

/** POST /v1/join-requests body. */
export const joinRequestBody = z.strictObject({
  code: z.string().min(1).max(100),
  request: joinRequestFields,
  /** The child's signed hub.inception: its signing key (and, by its digest, the hub id). */
  inception: z.record(z.string(), z.unknown()),
  sig: signatureSchema,
});
export type JoinRequestBody = z.infer<typeof joinRequestBody>;

/** POST /v1/join-codes body. */
export const joinCodeBody = z.strictObject({
  level: hubLevel.optional(),
  region: regionCode.optional(),
  note: text(500).optional(),
  ttlSeconds: z.int().min(60).max(JOIN_CODE_TTL_MAX).optional(),
});

export function joinMessage(code: string, request: JoinRequestFields): Uint8Array {
  return jcsBytes({ context: JOIN_CONTEXT, code, ...request });
}

/** The child's side: the body of POST /v1/join-requests, signed with its record-signing key. */
export function signJoinRequest(code: string, request: JoinRequestFields, inception: unknown, secretKey: Uint8Array): JoinRequestBody {
  return { code, request, inception: inception as Record<string, unknown>, sig: toBase64url(ed25519Sign(joinMessage(code, request), secretKey)) };
}

const codeHash = (code: string) => toBase64url(sha256(utf8(code)));

export type JoinState = 'open' | 'expired' | 'pending' | 'admitted' | 'refused' | 'cancelled';

/** One join code as the operator routes show it (never the code's text). */
export interface JoinView {
  id: string;
  state: JoinState;
  level: string | null;
  region: string | null;
  note: string | null;
  createdMs: number;
  expiresMs: number;
  request: (JoinRequestFields & { requestedMs: number }) | null;
  decidedMs: number | null;
  admission: string | null;
  reason: string | null;
}

type Raw = {
  id: string;
  code_hash: string;
  level: string | null;
  region: string | null;
  note: string | null;
  created_ms: number;
  expires_ms: number;
  state: string;
  request: string | null;
  requested_ms: number | null;
  decided_ms: number | null;
  admission: string | null;
  reason: string | null;
};

const view = (r: Raw, now: number): JoinView => ({
  id: r.id,
  state: r.state === 'open' && r.expires_ms <= now ? 'expired' : (r.state as JoinState),
  level: r.level,
  region: r.region,
  note: r.note,
  createdMs: r.created_ms,
  expiresMs: r.expires_ms,
  request: r.request ? { ...(JSON.parse(r.request) as JoinRequestFields), requestedMs: r.requested_ms as number } : null,
  decidedMs: r.decided_ms,
  admission: r.admission,
  reason: r.reason,
});

/** The `join_codes` table (migration 8). */
export class JoinCodes {
  constructor(
    private readonly db: SqlDb,
    private readonly opts: { hubId: string; max: number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Forgets what no longer matters: expired open codes, and decided or cancelled ones, JOIN_KEEP_MS after. */
  private prune(now: number): void {
    this.db
      .prepare("DELETE FROM join_codes WHERE (state = 'open' AND expires_ms <= ?) OR (state IN ('admitted', 'refused', 'cancelled') AND decided_ms <= ?)")
      .run(now - JOIN_KEEP_MS, now - JOIN_KEEP_MS);
  }

  /** A new code: its text (shown once), id and expiry. E_RATE_LIMITED when `max` codes are open or pending. */
  create(o: z.infer<typeof joinCodeBody>): { id: string; code: string; expiresMs: number } {
    const now = this.now();
    this.prune(now);
    const live = (
      this.db.prepare("SELECT count(*) AS n FROM join_codes WHERE (state = 'open' AND expires_ms > ?) OR state = 'pending'").get(now) as { n: number }
    ).n;
    if (live >= this.opts.max)
      throw new ShuniuError(
        'E_RATE_LIMITED',
        `${live} join codes are open or pending (limits.joinCodes is ${this.opts.max}): decide the pending requests or cancel open codes first`,
      );
    const id = toBase64url(randomBytes(12));
    const code = toBase64url(randomBytes(16));
    const expiresMs = now + (o.ttlSeconds ?? JOIN_CODE_TTL_DEFAULT) * 1000;
    this.db
      .prepare('INSERT INTO join_codes (id, code_hash, level, region, note, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, codeHash(code), o.level ?? null, o.region ?? null, o.note ?? null, now, expiresMs);
    return { id, code, expiresMs };
  }

  list(): JoinView[] {
    const now = this.now();
    this.prune(now);
    const rows = this.db.prepare('SELECT * FROM join_codes ORDER BY created_ms DESC, id').all() as Raw[];
    return rows.map((r) => view(r, now));
  }

  get(id: string): JoinView | undefined {
    const r = this.db.prepare('SELECT * FROM join_codes WHERE id = ?').get(id) as Raw | undefined;
    return r ? view(r, this.now()) : undefined;
  }

  /**
   * A child's request (spec/node.md §7.1 steps): the code must be known, open
   * and unexpired (403 E_FORBIDDEN), allow the requested level and region
   * (E_FORBIDDEN), the request be addressed to this hub (E_ARGUMENT), the
   * inception be the child's (E_HUB_ID) and the signature verify under its
   * signing key (E_SIG). Then the code is used: the request is pending.
   */
  submit(body: JoinRequestBody): JoinView {
    const now = this.now();
    const r = this.db.prepare('SELECT * FROM join_codes WHERE code_hash = ?').get(codeHash(body.code)) as Raw | undefined;
    if (!r) throw new ShuniuError('E_FORBIDDEN', 'unknown join code: ask the parent operator for a new one');
    if (r.state !== 'open') throw new ShuniuError('E_FORBIDDEN', `join code already used (${r.state}): a code admits one request; ask for a new one`);
    if (r.expires_ms <= now) throw new ShuniuError('E_FORBIDDEN', `join code expired at ${new Date(r.expires_ms).toISOString()}: ask for a new one`);
    const req = body.request;
    if (r.level !== null && r.level !== req.level) throw new ShuniuError('E_FORBIDDEN', `this join code is for level ${r.level}, not ${req.level}`);
    if (r.region !== null && r.region !== req.region) throw new ShuniuError('E_FORBIDDEN', `this join code is for region ${r.region}, not ${req.region}`);
    if (req.parent !== this.opts.hubId) throw new ShuniuError('E_ARGUMENT', `the request is addressed to hub ${req.parent}, this is ${this.opts.hubId}`);
    const key = inceptionKey(req.child, body.inception);
    if (key === undefined) throw new ShuniuError('E_HUB_ID', "inception is not the child's: its body does not digest to request.child");
    let ok = false;
    try {
      ok = ed25519Verify(fromBase64url(body.sig), joinMessage(body.code, req), fromBase64url(key));
    } catch {
      ok = false;
    }
    if (!ok) throw new ShuniuError('E_SIG', "the request's signature does not verify under the child's signing key");
    // Synchronous: nothing else runs between the check above and this update (single-use).
    const changed = this.db
      .prepare("UPDATE join_codes SET state = 'pending', request = ?, requested_ms = ? WHERE id = ? AND state = 'open'")
      .run(JSON.stringify(req), now, r.id).changes;
    if (changed !== 1) throw new ShuniuError('E_FORBIDDEN', 'join code already used: a code admits one request; ask for a new one');
    return this.get(r.id) as JoinView;
  }

  /** The pending request of code `id`, or E_NOT_FOUND / E_ARGUMENT (not pending). */
  pending(id: string): JoinView & { request: JoinRequestFields & { requestedMs: number } } {
    const v = this.get(id);
    if (!v) throw new ShuniuError('E_NOT_FOUND', `no join request ${id}`);
    if (v.state !== 'pending' || !v.request) throw new ShuniuError('E_ARGUMENT', `join request ${id} is ${v.state}, not pending`);
    return v as JoinView & { request: JoinRequestFields & { requestedMs: number } };
  }

  decide(id: string, state: 'admitted' | 'refused', o: { admission?: string; reason?: string }): JoinView {
    this.db
      .prepare("UPDATE join_codes SET state = ?, decided_ms = ?, admission = ?, reason = ? WHERE id = ? AND state = 'pending'")
      .run(state, this.now(), o.admission ?? null, o.reason ?? null, id);
    return this.get(id) as JoinView;
  }

  /** Cancels an open code (false: no open code with that id). */
  cancel(id: string): boolean {
    return this.db.prepare("UPDATE join_codes SET state = 'cancelled', decided_ms = ? WHERE id = ? AND state = 'open'").run(this.now(), id).changes === 1;
  }
}

import { item, needPostedBody, parseIJson, randomBytes, ShuniuError, sha256, text, toBase64url, utf8 } from '@shuniu/protocol';
import type { NeedState } from '@shuniu/resolve';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { type Privacy, sealToSchema } from '../../privacy.js';
import type { Publisher } from '../../publisher.js';
import type { IntakeRow, Store } from '../../store/types.js';
import { intParam, limitBody, listParam, optionalJson, parseBody, rateLimit, readJsonText } from '../body.js';
import { publishWithPrivate } from './operator.js';

/**
 * Intake from groups that run no node (spec/node.md §8.7): a hospital, a
 * community or a frontline group submits a need with its contact through a
 * public form (no sign-in); the submission waits in a verification queue; an
 * operator checks it (calls back), then publishes it as a need signed by this
 * hub with the contact sealed (the operator write path of §8.5), or rejects
 * it. The submitter follows it with an unguessable tracking token that shows
 * the need's progress and nothing private.
 */

/** The need as submitted: a need.posted body whose item code the operator may fill in (submitters rarely know the catalogue). */
export const intakeNeed = needPostedBody.omit({ campaign: true, ext: true }).extend({ item: item.partial({ code: true }) });

/** POST /v1/intake body. */
export const intakeSubmission = z.strictObject({
  need: intakeNeed,
  /** Who the operator calls back: sealed in the published need, never public. */
  contact: z.strictObject({ name: text(200), phone: text(50) }),
  address: text(500).optional(),
  /** A word for the operator only (sealed as the private note). */
  note: text(2000).optional(),
});

/** POST /v1/intake/{id}/publish body: members replacing the submitted need's, and the recipients of the sealed contact (§8.5). */
export const intakePublishBody = z.strictObject({ need: needPostedBody.partial().optional(), sealTo: sealToSchema.optional() });
export const intakeRejectBody = z.strictObject({ reason: text(2000).optional() });

export const INTAKE_STATES = ['pending', 'verified', 'published', 'rejected'] as const;
/** The stages a tracking page shows, in order (`rejected` ends the way after `submitted`). */
export const INTAKE_STAGES = ['submitted', 'verified', 'rejected', 'open', 'allocated', 'in_transit', 'delivered', 'closed'] as const;

/** What the operator sees of a submission (GET /v1/intake): everything, the contact too until it is published or rejected. */
export const intakeView = z.object({
  id: z.string(),
  state: z.enum(INTAKE_STATES),
  need: z.record(z.string(), z.unknown()).describe('the submitted need (after publication: the body signed)'),
  private: z
    .object({ contact: z.object({ name: z.string(), phone: z.string() }), address: z.string().optional(), note: z.string().optional() })
    .nullable()
    .describe('null once published (then sealed in the need) or rejected'),
  submittedMs: z.int(),
  verifiedMs: z.int().nullable(),
  decidedMs: z.int().nullable(),
  record: z.string().nullable().describe('the need.posted id, once published'),
  reason: z.string().nullable(),
});
export type IntakeView = z.infer<typeof intakeView>;

/** What the tracking token shows (GET /v1/intake/track/{token}): public parts of the need and its progress, nothing private. */
export const trackView = z.object({
  state: z.enum(INTAKE_STATES),
  stage: z.enum(INTAKE_STAGES),
  submittedMs: z.int(),
  verifiedMs: z.int().nullable(),
  decidedMs: z.int().nullable(),
  reason: z.string().nullable().describe('why it was rejected'),
  record: z.string().nullable(),
  item: z.object({ name: z.string(), code: z.string().optional() }),
  quantity: z.int(),
  unit: z.object({ name: z.string(), base: z.string(), size: z.int() }),
  region: z.string(),
  progress: z
    .object({
      status: z.string(),
      quantity: z.int(),
      allocated: z.int(),
      inTransit: z.int(),
      received: z.int(),
      delivered: z.int(),
    })
    .nullable()
    .describe("the resolved need's figures in base units, once published and resolved"),
});
export type TrackView = z.infer<typeof trackView>;

export interface IntakeLimits {
  bodyBytes: number;
  perHour: number;
  burst: number;
  pending: number;
  pendingBytes: number;
}

export const INTAKE_DEFAULTS: IntakeLimits = { bodyBytes: 16 * 1024, perHour: 30, burst: 10, pending: 1000, pendingBytes: 4 * 1024 * 1024 };

export interface IntakeDeps {
  store: Store;
  publisher: Publisher;
  privacy?: Privacy;
  /** The resolved needs (by id). */
  need: (id: string) => NeedState | undefined;
  /** The per-client key (`hub:<id>` or `addr:<ip>`, spec/node.md §7). */
  clientOf: (c: Context) => string;
  publicUrl: () => string;
  limits: IntakeLimits;
  now?: () => number;
}

const TOKEN = /^[A-Za-z0-9_-]{22}$/;
const tokenHash = (token: string) => toBase64url(sha256(utf8(token)));

export function viewOf(r: IntakeRow): IntakeView {
  return {
    id: r.id,
    state: r.state,
    need: JSON.parse(r.need) as Record<string, unknown>,
    private: r.private === null ? null : (JSON.parse(r.private) as IntakeView['private']),
    submittedMs: r.submittedMs,
    verifiedMs: r.verifiedMs,
    decidedMs: r.decidedMs,
    record: r.record,
    reason: r.reason,
  };
}

/** The stage of a published need from its resolved figures: the furthest it has reached. */
export function stageOf(n: NeedState): TrackView['stage'] {
  if (n.delivered > 0) return 'delivered';
  if (n.inTransit > 0 || n.received > 0) return 'in_transit';
  if (n.allocated > 0) return 'allocated';
  if (n.closed) return 'closed';
  return 'open';
}

/** The tracking view: the need's public members and figures, never the contact, address or note. */
export function trackOf(r: IntakeRow, resolved: NeedState | undefined): TrackView {
  const need = JSON.parse(r.need) as z.infer<typeof intakeNeed>;
  const stage: TrackView['stage'] = r.state === 'pending' ? 'submitted' : r.state === 'published' ? (resolved ? stageOf(resolved) : 'verified') : r.state;
  return {
    state: r.state,
    stage,
    submittedMs: r.submittedMs,
    verifiedMs: r.verifiedMs,
    decidedMs: r.decidedMs,
    reason: r.state === 'rejected' ? r.reason : null,
    record: r.record,
    item: { name: need.item.name, ...(need.item.code ? { code: need.item.code } : {}) },
    quantity: need.quantity,
    unit: need.unit,
    region: need.region,
    progress: resolved
      ? {
          status: resolved.status,
          quantity: resolved.quantity,
          allocated: resolved.allocated,
          inTransit: resolved.inTransit,
          received: resolved.received,
          delivered: resolved.delivered,
        }
      : null,
  };
}

export function intakeRoutes(deps: IntakeDeps) {
  const app = new Hono();
  const now = deps.now ?? (() => Date.now());
  const { limits } = deps;
  const publishing = new Set<string>();

  const undecided = (id: string): IntakeRow => {
    const row = deps.store.intake(id);
    if (!row) throw new ShuniuError('E_NOT_FOUND', `no intake submission ${id}`);
    if (row.state !== 'pending' && row.state !== 'verified') throw new ShuniuError('E_ARGUMENT', `intake submission ${id} is already ${row.state}`);
    return row;
  };

  // Public: bounded by its own body limit, a per-client rate (per hour) and the queue's rows and bytes.
  app.post(
    '/v1/intake',
    limitBody(limits.bodyBytes),
    rateLimit({
      rate: limits.perHour / 3600,
      burst: limits.burst,
      keyOf: deps.clientOf,
      message: (key) => `more than ${limits.perHour} intake submissions an hour (bursts of ${limits.burst}) from ${key}`,
    }),
    async (c) => {
      const text = await readJsonText(c);
      if (Buffer.byteLength(text, 'utf8') > limits.bodyBytes)
        throw new ShuniuError('E_TOO_LARGE', `an intake submission is at most ${limits.bodyBytes} bytes (spec/node.md §8.7)`);
      const { need, contact, address, note } = parseBody(intakeSubmission, parseIJson(text));
      const needText = JSON.stringify(need);
      const privateText = JSON.stringify({ contact, ...(address !== undefined ? { address } : {}), ...(note !== undefined ? { note } : {}) });
      const token = toBase64url(randomBytes(16));
      const row: IntakeRow = {
        id: toBase64url(randomBytes(12)),
        tokenHash: tokenHash(token),
        state: 'pending',
        need: needText,
        private: privateText,
        bytes: Buffer.byteLength(needText, 'utf8') + Buffer.byteLength(privateText, 'utf8'),
        submittedMs: now(),
        verifiedMs: null,
        decidedMs: null,
        record: null,
        reason: null,
      };
      const added = deps.store.addIntake(row, limits.pending, limits.pendingBytes);
      if (added !== 'added')
        throw new ShuniuError(
          'E_RATE_LIMITED',
          added === 'rows'
            ? `the verification queue holds ${limits.pending} submissions (limits.intakePending): try again once the operators have decided some`
            : `the verification queue holds ${limits.pendingBytes} bytes of submissions (limits.intakePendingBytes): try again once the operators have decided some`,
        );
      return c.json({ token, state: 'pending' as const, track: `${deps.publicUrl()}/#/track?t=${token}` }, 201);
    },
  );

  app.get('/v1/intake/track/:token', (c) => {
    const token = c.req.param('token');
    const row = TOKEN.test(token) ? deps.store.intake(tokenHash(token), 'token') : undefined;
    if (!row) throw new ShuniuError('E_NOT_FOUND', 'no intake submission with this tracking token');
    return c.json(trackOf(row, row.record ? deps.need(row.record) : undefined));
  });

  app.get('/v1/intake', (c) => {
    const states = (listParam(c.req.query('state'), INTAKE_STATES, 'state') ?? []) as IntakeRow['state'][];
    const limit = intParam(c.req.query('limit'), 'limit', 500, 1, 5000);
    return c.json({ intake: deps.store.intakeList(states, limit).map(viewOf) });
  });

  // The operator called back and the need is real: marked verified (publishing marks it too).
  app.post('/v1/intake/:id/verify', async (c) => {
    parseBody(z.strictObject({}), await optionalJson(c));
    const row = undecided(c.req.param('id'));
    deps.store.transaction(() => deps.store.updateIntake(row.id, { state: 'verified', verifiedMs: row.verifiedMs ?? now() }));
    return c.json({ intake: viewOf(deps.store.intake(row.id) as IntakeRow) });
  });

  app.post('/v1/intake/:id/publish', async (c) => {
    const o = parseBody(intakePublishBody, await optionalJson(c));
    const row = undecided(c.req.param('id'));
    if (publishing.has(row.id)) throw new ShuniuError('E_ARGUMENT', `intake submission ${row.id} is being published`);
    publishing.add(row.id);
    try {
      const body = {
        ...(JSON.parse(row.need) as Record<string, unknown>),
        ...(o.need ?? {}),
        ...(row.private !== null ? { private: JSON.parse(row.private) as unknown } : {}),
        ...(o.sealTo ? { sealTo: o.sealTo } : {}),
      };
      const { id, record, ack, warnings } = await publishWithPrivate(deps, 'need.posted', body);
      if (ack.status !== 'accepted' && ack.status !== 'held' && ack.status !== 'duplicate')
        throw new ShuniuError(ack.code as ConstructorParameters<typeof ShuniuError>[0], ack.message);
      const t = now();
      deps.store.transaction(() =>
        deps.store.updateIntake(row.id, {
          state: 'published',
          need: JSON.stringify(record.body),
          private: null,
          verifiedMs: row.verifiedMs ?? t,
          decidedMs: t,
          record: id,
        }),
      );
      // The contact now lives only sealed in the record: its plain copy leaves the database file and its log (§8.6).
      deps.store.flushDeleted();
      return c.json({ id, record, intake: viewOf(deps.store.intake(row.id) as IntakeRow), ...(warnings ? { warnings } : {}) }, 201);
    } finally {
      publishing.delete(row.id);
    }
  });

  app.post('/v1/intake/:id/reject', async (c) => {
    const o = parseBody(intakeRejectBody, await optionalJson(c));
    const row = undecided(c.req.param('id'));
    deps.store.transaction(() =>
      deps.store.updateIntake(row.id, { state: 'rejected', private: null, decidedMs: now(), ...(o.reason ? { reason: o.reason } : {}) }),
    );
    deps.store.flushDeleted();
    return c.json({ intake: viewOf(deps.store.intake(row.id) as IntakeRow) });
  });

  return app;
}

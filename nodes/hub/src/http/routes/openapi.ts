import { OpenAPIHono } from '@hono/zod-openapi';
import { bodySchemas, PROTOCOL_VERSION, signedRecordSchema } from '@shuniu/protocol';
import { STATE_COLLECTIONS, stateHashAnswerSchema, statePageSchema } from '@shuniu/resolve/schema';
import { z } from 'zod';
import { registerExchangePaths } from '../../export/openapi.js';
import { joinCodeBody, joinRequestBody, joinRequestFields } from '../../join.js';
import { privateFields, SEALABLE, sealToSchema } from '../../privacy.js';
import { ackSchema, problemSchema } from '../../wire.js';
import { INTAKE_STATES, intakePublishBody, intakeRejectBody, intakeSubmission, intakeView, trackView } from './intake.js';
import { WRITE_ROUTES } from './operator.js';
import { COLLECTIONS } from './state.js';

const problem = problemSchema;
const ack = ackSchema;
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const feedQuery = z.object({
  after: z.string().optional(),
  limit: z.string().optional(),
  region: z.string().optional().describe('2, 4 or 6 digits of a GB/T 2260 code'),
  types: z.string().optional().describe('comma-separated record types'),
  urgency: z.string().optional(),
  group: z.string().optional(),
});

/**
 * The OpenAPI 3.1 document of the node's API (spec/node.md §12), built once
 * from the protocol's zod schemas and the route tables, on its first request
 * (registering every path costs a few milliseconds a node start would pay).
 */
export function openApiDocument(serverUrl: () => string): () => unknown {
  let cached: unknown;
  return () => {
    cached ??= buildDocument(serverUrl());
    return cached;
  };
}

function buildDocument(serverUrl: string): unknown {
  const doc = new OpenAPIHono();
  const r = doc.openAPIRegistry;
  r.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  r.registerPath({
    method: 'post',
    path: '/v1/records',
    summary: 'Push a batch of signed records (or one record)',
    request: {
      body: {
        content: {
          'application/json': { schema: z.union([z.array(signedRecordSchema), z.object({ records: z.array(signedRecordSchema) }), signedRecordSchema]) },
        },
      },
    },
    responses: {
      200: json(z.object({ acks: z.array(ack), summary: z.record(z.string(), z.int()) }), 'acknowledgements, one per record'),
      201: json(z.object({ ack }), 'single record accepted'),
      202: json(z.object({ ack }), 'single record held (E_GAP or E_NOT_ADMITTED, applied later)'),
      400: problemResponse('malformed'),
      403: problemResponse('single record: author blocked, or not admitted and not held'),
      409: problemResponse('single record: E_FORK'),
      422: problemResponse('single record fails verification, or E_GAP not held'),
      413: problemResponse('too large'),
      429: problemResponse('rate limited'),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/heads',
    summary: 'Last sequence number of every hub held',
    responses: {
      200: json(
        z.object({
          heads: z.record(z.string(), z.int()),
          offChain: z.object({ count: z.int(), last: z.int() }).describe('records stored beside the chains: how many, and the highest ingest order among them'),
        }),
        'heads',
      ),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/offchain',
    summary: 'Records stored beside the chains (fork proofs, a forked hub’s other branch, what a recovery cut off), by ingest order',
    request: { query: z.object({ after: z.string().optional(), limit: z.string().optional() }) },
    responses: {
      200: json(
        z.object({ records: z.array(signedRecordSchema), next: z.int().nullable() }),
        'a page of them; next is the ingest order to ask after, null at the end',
      ),
      400: problemResponse('bad after or limit'),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/hubs/{hub}/log',
    summary: "A hub's records after a sequence number",
    request: { params: z.object({ hub: z.string() }), query: z.object({ after: z.string().optional(), limit: z.string().optional() }) },
    responses: {
      200: json(z.object({ hub: z.string(), head: z.int(), records: z.array(signedRecordSchema), next: z.int().nullable() }), 'a page of the log'),
      404: problemResponse('hub not held'),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/records/{id}',
    summary: 'One record by id',
    request: { params: z.object({ id: z.string() }) },
    responses: { 200: json(signedRecordSchema, 'the record'), 404: problemResponse('not held') },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/feed',
    summary: "The node's feed in ingest order",
    request: { query: feedQuery },
    responses: {
      200: json(
        z.object({
          records: z.array(z.object({ ord: z.int(), record: signedRecordSchema })),
          cursor: z.int().describe('highest ord looked at: read on with after=cursor while cursor < head'),
          head: z.int(),
        }),
        'a page of the feed',
      ),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/feed/live',
    summary: 'The feed as Server-Sent Events, resumable with Last-Event-ID',
    request: { query: feedQuery },
    responses: {
      200: { description: 'text/event-stream of `record` events whose id is the ingest order, and `cursor` events (id: the ord scanned up to)' },
      429: problemResponse('too many live streams from this client or in total (Retry-After)'),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/state/hash',
    summary: 'State hash',
    responses: { 200: json(stateHashAnswerSchema, 'the state hash (spec/schemas/state/hash.json)') },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/state/{collection}',
    summary: 'Resolved state',
    request: {
      params: z.object({ collection: z.enum(COLLECTIONS) }),
      query: feedQuery.pick({ region: true, urgency: true, group: true }).extend({
        limit: z.string().optional().describe('1…5000, default 1000'),
        after: z.string().optional().describe('item key (id): items after it'),
      }),
    },
    responses: {
      // The page schemas of spec/schemas/state/page.<collection>.json (spec/resolution.md §7.1).
      200: json(
        z.union(STATE_COLLECTIONS.map((c) => statePageSchema(c)) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]),
        'a page of the collection, in key order',
      ),
      304: { description: 'If-None-Match names the current version' },
      404: problemResponse('unknown collection'),
    },
  });
  for (const w of WRITE_ROUTES) {
    const path = w.path.replace(':id', '{id}');
    const plain = w.target ? (bodySchemas[w.type] as z.ZodType) : bodySchemas[w.type];
    // Needs and offers also take private fields, sealed to the chosen hubs (spec/node.md §8.5).
    const body = SEALABLE.has(w.type) ? z.intersection(plain, z.object({ private: privateFields.optional(), sealTo: sealToSchema.optional() })) : plain;
    r.registerPath({
      method: 'post',
      path,
      summary: `Sign and ingest a ${w.type} record as this hub${w.target ? ` (the path id fills body.${w.target})` : ''}`,
      security: [{ bearer: [] }],
      ...(w.target
        ? { request: { params: z.object({ id: z.string() }), body: { content: { 'application/json': { schema: body } } } } }
        : { request: { body: { content: { 'application/json': { schema: body } } } } }),
      responses: {
        201: json(
          z.object({
            id: z.string(),
            ord: z.int(),
            record: signedRecordSchema,
            warnings: z
              .array(
                z.object({ code: z.enum(['unknown_item', 'unit_not_catalogue_base']), path: z.array(z.union([z.string(), z.int()])), message: z.string() }),
              )
              .optional()
              .describe('items outside the relief-item catalogue (spec/catalogue.md §4); absent when none'),
          }),
          'signed and stored',
        ),
        400: problemResponse('invalid body'),
        401: problemResponse('no token'),
        403: problemResponse(
          w.type === 'allocation'
            ? 'E_FORBIDDEN: not an operator token; E_NOT_AUTHOR: the offer is another hub’s (only its author may allocate it)'
            : w.type === 'bundle.updated'
              ? 'E_FORBIDDEN: not an operator token; E_NOT_AUTHOR: the bundle is another hub’s (only its author may update it)'
              : 'not an operator token',
        ),
      },
    });
  }
  // Private fields (spec/node.md §8.5, §8.6): operator routes.
  r.registerPath({
    method: 'get',
    path: '/v1/records/{id}/private',
    summary: "The record's private fields, opened with this hub's encryption key",
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: json(z.object({ id: z.string(), to: z.array(z.string()), private: privateFields }), 'the opened private fields'),
      404: problemResponse('not held'),
      422: problemResponse('E_SEALED: none here, not sealed to this hub, or erased'),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/records/{id}/erase',
    summary: "Erase the record's sealed part here; sign sealed.erased when this hub is its author or a recipient",
    security: [{ bearer: [] }],
    request: {
      params: z.object({ id: z.string() }),
      body: { content: { 'application/json': { schema: z.object({ reason: z.string().max(2000).optional() }) } } },
    },
    responses: {
      200: json(z.object({ id: z.string(), erased: z.boolean(), request: z.string().optional() }), 'erased here (and requested everywhere)'),
      404: problemResponse('not held'),
      422: problemResponse('E_SEALED: the record never had a sealed part'),
    },
  });
  // Issued tokens and their revocation (spec/node.md §8.2): operator routes.
  const tokenRow = z.object({
    jti: z.string(),
    scope: z.enum(['operator', 'subscriber']),
    sub: z.string(),
    iat: z.int(),
    exp: z.int(),
    revokedMs: z.int().nullable(),
    note: z.string().nullable(),
    kid: z.string(),
    state: z.enum(['live', 'expired', 'revoked', 'key-rotated']),
  });
  const auth = { 401: problemResponse('no valid token'), 403: problemResponse('not an operator token') };
  r.registerPath({
    method: 'get',
    path: '/v1/tokens',
    summary: 'Tokens this node issued (never their text)',
    security: [{ bearer: [] }],
    responses: { 200: json(z.object({ tokens: z.array(tokenRow) }), 'issued tokens'), ...auth },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/tokens/{jti}',
    summary: 'Revoke one token: refused from the next request on',
    security: [{ bearer: [] }],
    request: { params: z.object({ jti: z.string() }) },
    responses: { 204: { description: 'revoked' }, 404: problemResponse('no such token'), ...auth },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/tokens/revoke-all',
    summary: 'Sign out everywhere: revoke every token, the caller’s too',
    security: [{ bearer: [] }],
    responses: { 200: json(z.object({ revoked: z.int() }), 'how many were revoked'), ...auth },
  });
  // Join codes and admission requests (spec/node.md §7.1).
  const joinView = z.object({
    id: z.string(),
    state: z.enum(['open', 'expired', 'pending', 'admitted', 'refused', 'cancelled']),
    level: z.string().nullable(),
    region: z.string().nullable(),
    note: z.string().nullable(),
    createdMs: z.int(),
    expiresMs: z.int(),
    request: joinRequestFields.extend({ requestedMs: z.int() }).nullable(),
    decidedMs: z.int().nullable(),
    admission: z.string().nullable(),
    reason: z.string().nullable(),
  });
  r.registerPath({
    method: 'post',
    path: '/v1/join-codes',
    summary: 'Make a join code (single use, expiring; its text is shown only here)',
    security: [{ bearer: [] }],
    request: { body: { content: { 'application/json': { schema: joinCodeBody } } } },
    responses: {
      201: json(joinView.extend({ code: z.string(), parent: z.string() }), 'the code'),
      429: problemResponse('E_RATE_LIMITED: limits.joinCodes codes open or pending'),
      ...auth,
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/join-codes',
    summary: 'Join codes and the admission requests they carry (never a code’s text)',
    security: [{ bearer: [] }],
    responses: { 200: json(z.object({ codes: z.array(joinView) }), 'newest first'), ...auth },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/join-codes/{id}',
    summary: 'Cancel an open join code',
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: { 204: { description: 'cancelled' }, 404: problemResponse('no open code with that id'), ...auth },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/join-requests',
    summary: "A hub's signed admission request, with its parent's join code",
    request: { body: { content: { 'application/json': { schema: joinRequestBody } } } },
    responses: {
      201: json(z.object({ id: z.string(), state: z.literal('pending'), parent: z.string() }), 'pending'),
      400: problemResponse('E_SCHEMA, or E_ARGUMENT: addressed to another hub'),
      403: problemResponse('E_FORBIDDEN: join code unknown, used, expired, or bound to another level or region'),
      422: problemResponse('E_HUB_ID or E_SIG'),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/join-requests/{id}/approve',
    summary: 'Approve a pending request: signs hub.admitted (refused when the admission would not count)',
    security: [{ bearer: [] }],
    request: {
      params: z.object({ id: z.string() }),
      body: { content: { 'application/json': { schema: z.object({ level: z.string().optional(), region: z.string().optional() }) } } },
    },
    responses: {
      201: json(z.object({ id: z.string(), record: signedRecordSchema, request: joinView }), 'the admission'),
      400: problemResponse('E_ARGUMENT: not pending, or out of this hub’s admission scope'),
      404: problemResponse('no such request'),
      ...auth,
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/join-requests/{id}/refuse',
    summary: 'Refuse a pending request',
    security: [{ bearer: [] }],
    request: {
      params: z.object({ id: z.string() }),
      body: { content: { 'application/json': { schema: z.object({ reason: z.string().max(2000).optional() }) } } },
    },
    responses: { 200: json(z.object({ request: joinView }), 'refused'), 400: problemResponse('not pending'), 404: problemResponse('no such request'), ...auth },
  });
  // Intake from groups that run no node (spec/node.md §8.7).
  r.registerPath({
    method: 'post',
    path: '/v1/intake',
    summary: 'Submit a need with its contact (public, no sign-in): it waits for an operator to verify and publish it',
    request: { body: { content: { 'application/json': { schema: intakeSubmission } } } },
    responses: {
      201: json(
        z.object({
          token: z.string().describe('the tracking token, shown only here'),
          state: z.literal('pending'),
          track: z.string().describe('the tracking page'),
        }),
        'queued',
      ),
      400: problemResponse('E_SCHEMA, E_JSON or E_IJSON'),
      413: problemResponse('E_TOO_LARGE: over limits.intakeBodyBytes'),
      415: problemResponse('E_UNSUPPORTED_MEDIA'),
      429: problemResponse(
        'E_RATE_LIMITED: this client’s submissions (Retry-After), or the queue is full (limits.intakePending, limits.intakePendingBytes; no Retry-After)',
      ),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/intake/track/{token}',
    summary: 'A submission’s progress by its tracking token (public): nothing private',
    request: { params: z.object({ token: z.string() }) },
    responses: { 200: json(trackView, 'progress'), 404: problemResponse('no submission with this token') },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/intake',
    summary: 'The verification queue and decided submissions, newest first (with contacts while undecided)',
    security: [{ bearer: [] }],
    request: {
      query: z.object({
        state: z
          .string()
          .optional()
          .describe(`comma-separated: ${INTAKE_STATES.join(', ')}`),
        limit: z.string().optional().describe('1…5000, default 500'),
      }),
    },
    responses: { 200: json(z.object({ intake: z.array(intakeView) }), 'submissions'), ...auth },
  });
  const decided = { 400: problemResponse('E_ARGUMENT: already published or rejected'), 404: problemResponse('no such submission'), ...auth };
  r.registerPath({
    method: 'post',
    path: '/v1/intake/{id}/verify',
    summary: 'Mark a submission verified (the operator called back)',
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: { 200: json(z.object({ intake: intakeView }), 'verified'), ...decided },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/intake/{id}/publish',
    summary: 'Sign the submission as a need.posted of this hub, its contact sealed (§8.5)',
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }), body: { content: { 'application/json': { schema: intakePublishBody } } } },
    responses: {
      201: json(z.object({ id: z.string(), record: signedRecordSchema, intake: intakeView, warnings: z.array(z.unknown()).optional() }), 'published'),
      ...decided,
      400: problemResponse('E_SCHEMA: the need is not complete (e.g. no item code); E_ARGUMENT: already decided'),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/intake/{id}/reject',
    summary: 'Reject a submission; its contact is dropped, the reason shown on its tracking page',
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }), body: { content: { 'application/json': { schema: intakeRejectBody } } } },
    responses: { 200: json(z.object({ intake: intakeView }), 'rejected'), ...decided },
  });
  // Offline bundles, exports and webhooks (spec/node.md §13-15).
  registerExchangePaths(r);
  return doc.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Shuniu hub node', version: `protocol ${PROTOCOL_VERSION}`, description: 'spec/node.md' },
    servers: [{ url: serverUrl }],
  });
}

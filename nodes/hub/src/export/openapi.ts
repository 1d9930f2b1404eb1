import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { WEBHOOK_EVENTS, webhookInput } from '../webhooks.js';
import { problemSchema } from '../wire.js';
import { bundleHeaderSchema } from './bundle.js';
import { HXL_KINDS } from './hxl.js';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemSchema } } });

/** The OpenAPI paths of offline bundles, exports and webhooks (spec/node.md §13-15). */
export function registerExchangePaths(r: OpenAPIHono['openAPIRegistry']): void {
  const auth = { 401: problem('no valid token'), 403: problem('not an operator token') };
  const heads = z.object({ heads: z.record(z.string(), z.int()) });
  r.registerPath({
    method: 'post',
    path: '/v1/bundle/export',
    summary: 'An offline bundle of the records a peer lacks, given its heads (§13)',
    security: [{ bearer: [] }],
    request: { query: z.object({ stripSealed: z.enum(['true', 'false']).optional() }), body: { content: { 'application/json': { schema: heads } } } },
    responses: {
      200: { description: "gzip'd JSON lines: a header, then one record per line", content: { 'application/gzip': { schema: z.string() } } },
      400: problem('not a heads file'),
      ...auth,
    },
  });
  const importResult = z.object({
    header: bundleHeaderSchema,
    summary: z.record(z.string(), z.int()),
    refused: z.array(z.object({ line: z.int(), status: z.string(), id: z.string().optional(), code: z.string(), message: z.string() })),
  });
  r.registerPath({
    method: 'post',
    path: '/v1/bundle/import',
    summary: 'Import an offline bundle through the normal ingest (§13)',
    security: [{ bearer: [] }],
    request: { body: { content: { 'application/gzip': { schema: z.string() } } } },
    responses: {
      200: json(importResult, 'every record verified: stored, held or refused (by line)'),
      400: problem('not gzip (E_ARGUMENT), bad header (E_JSON, E_SCHEMA), another format version (E_VERSION), cut file (E_ARGUMENT)'),
      413: problem('too large'),
      415: problem('not application/gzip'),
      ...auth,
    },
  });
  const region = z.object({ region: z.string().optional().describe('GB/T 2260 code or prefix, 2-6 digits') });
  r.registerPath({
    method: 'get',
    path: '/v1/export/hxl/{kind}',
    summary: 'Needs, offers, allocations or deliveries as CSV with HXL hashtags on row 2 (§14.1)',
    request: { params: z.object({ kind: z.enum(HXL_KINDS) }), query: region },
    responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, 400: problem('bad region'), 404: problem('no such table') },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/export/epcis',
    summary: 'Custody handoffs, receipts and deliveries as an EPCIS 2.0 JSON-LD document (§14.2)',
    request: { query: region },
    responses: {
      200: { description: 'EPCISDocument', content: { 'application/ld+json': { schema: z.record(z.string(), z.unknown()) } } },
      400: problem('bad region'),
    },
  });
  const hook = webhookInput.omit({ secret: true }).extend({ id: z.string(), created: z.string(), signed: z.boolean() });
  const delivery = z.object({
    id: z.string(),
    hook: z.string(),
    event: z.enum(WEBHOOK_EVENTS),
    title: z.string(),
    attempts: z.int(),
    state: z.enum(['pending', 'delivered', 'failed']),
    status: z.int().optional(),
    error: z.string().optional(),
    at: z.string(),
    nextAt: z.string().optional(),
  });
  r.registerPath({
    method: 'get',
    path: '/v1/webhooks',
    summary: 'Outbound webhooks (§15), secrets left out',
    security: [{ bearer: [] }],
    responses: { 200: json(z.object({ webhooks: z.array(hook) }), 'webhooks'), ...auth },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/webhooks',
    summary: 'Add an outbound webhook (§15)',
    security: [{ bearer: [] }],
    request: { body: { content: { 'application/json': { schema: webhookInput } } } },
    responses: { 201: json(z.object({ webhook: hook }), 'added'), 400: problem('E_SCHEMA'), 413: problem('too many webhooks'), ...auth },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/webhooks/{id}',
    summary: 'Remove a webhook',
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: { 204: { description: 'removed' }, 404: problem('no such webhook'), ...auth },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/webhooks/{id}/test',
    summary: 'Send a test message through the delivery queue',
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: { 202: json(z.object({ delivery }), 'queued'), 404: problem('no such webhook'), ...auth },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/webhooks/log',
    summary: 'The last deliveries, newest first',
    security: [{ bearer: [] }],
    responses: { 200: json(z.object({ deliveries: z.array(delivery) }), 'delivery log'), ...auth },
  });
}

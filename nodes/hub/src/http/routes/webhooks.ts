import { Hono } from 'hono';
import type { Webhooks } from '../../webhooks.js';
import { readJson } from '../body.js';

/** Outbound webhooks (spec/node.md §15): operator only (the access table). */
export function webhookRoutes(deps: { webhooks: Webhooks }) {
  const app = new Hono();
  const w = deps.webhooks;
  app.get('/v1/webhooks', (c) => c.json({ webhooks: w.list() }));
  app.post('/v1/webhooks', async (c) => c.json({ webhook: w.add(await readJson(c)) }, 201));
  app.delete('/v1/webhooks/:id', (c) => {
    w.remove(c.req.param('id'));
    return c.body(null, 204);
  });
  app.post('/v1/webhooks/:id/test', (c) => c.json({ delivery: w.test(c.req.param('id')) }, 202));
  app.get('/v1/webhooks/log', (c) => c.json({ deliveries: w.log() }));
  return app;
}

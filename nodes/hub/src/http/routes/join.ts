import { type HubLevel, hubLevel, parseIJson, regionCode, ShuniuError } from '@shuniu/protocol';
import { admissionInScope } from '@shuniu/resolve';
import { Hono } from 'hono';
import { z } from 'zod';
import { JOIN_REQUEST_BYTES, type JoinCodes, joinCodeBody, joinRequestBody } from '../../join.js';
import type { Publisher } from '../../publisher.js';
import type { Store } from '../../store/types.js';
import { optionalJson, parseBody, readJsonText } from '../body.js';

export interface JoinDeps {
  codes: JoinCodes;
  publisher: Publisher;
  store: Store;
  hubId: string;
  /** Whether this hub is one of the node's roots, and its standing: level and region in the resolved state, else its config's. */
  standing: () => { root: boolean; level?: HubLevel; region?: string };
  onPeersChanged: () => void;
}

const approveBody = z.strictObject({ level: hubLevel.optional(), region: regionCode.optional() });
const refuseBody = z.strictObject({ reason: z.string().min(1).max(2000).optional() });

/**
 * Join codes and admission requests (spec/node.md §7.1): the operator makes
 * codes and decides requests (operator token); a child posts its signed
 * request with a code (public: the code is the authority).
 */
export function joinRoutes(deps: JoinDeps) {
  const app = new Hono();

  app.post('/v1/join-codes', async (c) => {
    const o = parseBody(joinCodeBody, await optionalJson(c));
    const made = deps.codes.create(o);
    return c.json({ ...deps.codes.get(made.id), code: made.code, parent: deps.hubId }, 201);
  });
  app.get('/v1/join-codes', (c) => c.json({ codes: deps.codes.list() }));
  app.delete('/v1/join-codes/:id', (c) => {
    if (!deps.codes.cancel(c.req.param('id'))) throw new ShuniuError('E_NOT_FOUND', `no open join code ${c.req.param('id')}`);
    return c.body(null, 204);
  });

  app.post('/v1/join-requests', async (c) => {
    const text = await readJsonText(c);
    if (Buffer.byteLength(text, 'utf8') > JOIN_REQUEST_BYTES)
      throw new ShuniuError('E_TOO_LARGE', `a join request is at most ${JOIN_REQUEST_BYTES} bytes (spec/node.md §7.1)`);
    const body = parseBody(joinRequestBody, parseIJson(text));
    const v = deps.codes.submit(body);
    return c.json({ id: v.id, state: v.state, parent: deps.hubId }, 201);
  });

  // Approve: the node signs hub.admitted {child, level, region}; with the request's url the child becomes a peer.
  app.post('/v1/join-requests/:id/approve', async (c) => {
    const o = parseBody(approveBody, await optionalJson(c));
    const v = deps.codes.pending(c.req.param('id'));
    const level = o.level ?? v.request.level;
    const region = o.region ?? v.request.region;
    const me = deps.standing();
    if (!admissionInScope(me, { level, region }))
      throw new ShuniuError(
        'E_ARGUMENT',
        level === 'national'
          ? 'only a root may admit a hub at level national; this hub is not one of its roots'
          : `a ${me.level} hub of region ${me.region} cannot admit level ${level} in region ${region}: the admission would not count (spec/resolution.md §1)`,
      );
    const { id, record, ack } = await deps.publisher.publish('hub.admitted', { child: v.request.child, level, region });
    if (ack.status === 'rejected' || ack.status === 'blocked') throw new ShuniuError(ack.code as ConstructorParameters<typeof ShuniuError>[0], ack.message);
    if (v.request.url) {
      deps.store.upsertPeer({ url: v.request.url, role: 'child', hub: v.request.child });
      deps.onPeersChanged();
    }
    const decided = deps.codes.decide(v.id, 'admitted', { admission: id });
    return c.json({ id, record, request: decided }, 201);
  });

  app.post('/v1/join-requests/:id/refuse', async (c) => {
    const o = parseBody(refuseBody, await optionalJson(c));
    const v = deps.codes.pending(c.req.param('id'));
    return c.json({ request: deps.codes.decide(v.id, 'refused', o.reason !== undefined ? { reason: o.reason } : {}) });
  });

  return app;
}

import { hubIdSchema, hubLevel, itemWarnings, parseIJson, type RecordType, recordIdSchema, regionCode, ShuniuError } from '@shuniu/protocol';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { heldFilterOf, heldView } from '../../held.js';
import { type Privacy, SEALABLE } from '../../privacy.js';
import type { Publisher } from '../../publisher.js';
import type { Store } from '../../store/types.js';
import { readJson } from '../body.js';
import { problemResponse } from '../problem.js';

export interface OperatorDeps {
  publisher: Publisher;
  store: Store;
  hubId: string;
  onPeersChanged: () => void;
  /** After a block or unblock: held records of blocked hubs dropped, trust recomputed (spec/node.md §7). */
  onBlocksChanged?: () => void;
  /** Private fields: sealing on writes, opening and erasing (spec/node.md §8.5-8.6). */
  privacy?: Privacy;
}

/** Operator write routes: POST path → record type, and the body member naming the target record. */
export const WRITE_ROUTES: { path: string; type: RecordType; target?: string }[] = [
  { path: '/v1/needs', type: 'need.posted' },
  { path: '/v1/needs/:id/update', type: 'need.updated', target: 'need' },
  { path: '/v1/needs/:id/close', type: 'need.closed', target: 'need' },
  { path: '/v1/offers', type: 'offer.posted' },
  { path: '/v1/offers/:id/update', type: 'offer.updated', target: 'offer' },
  { path: '/v1/offers/:id/withdraw', type: 'offer.withdrawn', target: 'offer' },
  { path: '/v1/allocations', type: 'allocation' },
  { path: '/v1/allocations/:id/accept', type: 'allocation.accepted', target: 'allocation' },
  { path: '/v1/allocations/:id/decline', type: 'allocation.declined', target: 'allocation' },
  { path: '/v1/handoffs', type: 'custody.handoff' },
  { path: '/v1/receipts', type: 'custody.receipt' },
  { path: '/v1/deliveries', type: 'custody.delivered' },
  { path: '/v1/attestations', type: 'attestation' },
  { path: '/v1/profile', type: 'hub.profile' },
  { path: '/v1/bundles', type: 'bundle.posted' },
  { path: '/v1/bundles/:id/update', type: 'bundle.updated', target: 'bundle' },
  { path: '/v1/bundles/:id/fund', type: 'bundle.funded', target: 'bundle' },
];

const admissionRequest = z.strictObject({
  child: hubIdSchema,
  level: hubLevel,
  region: regionCode,
  url: z.url({ protocol: /^https?$/ }).optional(),
});

const revokeRequest = z.strictObject({ reason: z.string().min(1).max(2000).optional() });

const peerRequest = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  role: z.enum(['parent', 'child', 'follow', 'peer']),
  push: z.boolean().optional(),
  pull: z.boolean().optional(),
});

const blockRequest = z.strictObject({ hub: hubIdSchema, reason: z.string().max(500).optional() });

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ code: i.code, path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
  throw new ShuniuError('E_SCHEMA', issues[0]?.message ?? 'invalid request', { issues });
}

/**
 * Only an offer's author may allocate it (spec/resolution.md): an allocation
 * this node signed for another hub's offer could only become an
 * `unauthorised` conflict. Refused with E_NOT_AUTHOR before anything is
 * signed (spec/node.md §8.4). An offer this node does not hold yet is not
 * refused: the record waits for it like any other.
 */
function refuseOthersOffer(deps: OperatorDeps, offer: unknown): void {
  if (typeof offer !== 'string') return;
  const posted = deps.store.recordById(offer);
  if (posted === undefined || posted.type !== 'offer.posted' || posted.hub === deps.hubId) return;
  throw new ShuniuError(
    'E_NOT_AUTHOR',
    `offer ${offer} was posted by hub ${posted.hub}: only that hub may allocate it; this node signs for hub ${deps.hubId}`,
    {
      detail: { offer, signer: posted.hub },
    },
  );
}

/**
 * Only a bundle's author may update it (spec/resolution.md §7.2): refused
 * with E_NOT_AUTHOR before anything is signed, as an allocation of another
 * hub's offer is (spec/node.md §8.4). A bundle this node does not hold yet is
 * not refused.
 */
function refuseOthersBundle(deps: OperatorDeps, bundle: string): void {
  const posted = deps.store.recordById(bundle);
  if (posted === undefined || posted.type !== 'bundle.posted' || posted.hub === deps.hubId) return;
  throw new ShuniuError(
    'E_NOT_AUTHOR',
    `bundle ${bundle} was posted by hub ${posted.hub}: only that hub may update it; this node signs for hub ${deps.hubId}`,
    { detail: { bundle, signer: posted.hub } },
  );
}

/**
 * Signs and ingests one record as this hub, the way every operator write
 * does: `private` and `sealTo` beside the body of a need or an offer are
 * sealed, never signed in the clear (spec/node.md §8.5); item codes outside
 * the catalogue come back as `warnings` (spec/catalogue.md §4). Also the
 * path of a published intake submission (spec/node.md §8.7).
 */
export async function publishWithPrivate(
  deps: Pick<OperatorDeps, 'publisher' | 'privacy'>,
  type: RecordType,
  body: unknown,
): Promise<Awaited<ReturnType<Publisher['publish']>> & { warnings?: ReturnType<typeof itemWarnings> }> {
  let sealed: Parameters<Publisher['publish']>[2] = {};
  if (SEALABLE.has(type) && body && typeof body === 'object' && ('private' in body || 'sealTo' in body)) {
    const { private: fields, sealTo, ...rest } = body as Record<string, unknown>;
    if (fields === undefined) throw new ShuniuError('E_SCHEMA', 'sealTo needs private fields to seal');
    if (!deps.privacy) throw new ShuniuError('E_ARGUMENT', 'this node cannot seal private fields');
    sealed = { sealed: deps.privacy.seal(fields, sealTo) };
    body = rest;
  }
  const published = await deps.publisher.publish(type, body, sealed);
  const warned = itemWarnings(body);
  return warned.length > 0 ? { ...published, warnings: warned } : published;
}

/**
 * Writes signed by this node (spec/node.md §Operator writes), peers and the
 * block list. All need an operator token: the access table (http/access.ts)
 * says so, checked once for every route.
 */
export function operatorRoutes(deps: OperatorDeps) {
  const app = new Hono();

  const answer = async (c: Context, type: RecordType, body: unknown) => {
    const { id, record, ack, warnings: warned } = await publishWithPrivate(deps, type, body);
    const warnings = warned ? { warnings: warned } : {};
    if (ack.status === 'accepted') return c.json({ id, ord: ack.ord, record, ...warnings }, 201);
    if (ack.status === 'rejected' || ack.status === 'blocked')
      return problemResponse(c, new ShuniuError(ack.code as ConstructorParameters<typeof ShuniuError>[0], ack.message));
    return c.json({ id, ack, record, ...warnings }, 202);
  };

  for (const r of WRITE_ROUTES) {
    app.post(r.path, async (c) => {
      const body = await readJson(c);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ShuniuError('E_SCHEMA', 'the request body must be a JSON object');
      if (r.target) {
        const id = c.req.param('id') as string;
        if (!recordIdSchema.safeParse(id).success) throw new ShuniuError('E_ARGUMENT', 'not a record id');
        if (r.type === 'bundle.updated') refuseOthersBundle(deps, id);
        return answer(c, r.type, { ...body, [r.target]: id });
      }
      if (r.type === 'allocation') refuseOthersOffer(deps, (body as { offer?: unknown }).offer);
      return answer(c, r.type, body);
    });
  }

  app.post('/v1/admissions', async (c) => {
    const req = parseWith(admissionRequest, await readJson(c));
    const res = await answer(c, 'hub.admitted', { child: req.child, level: req.level, region: req.region });
    if (req.url && res.status < 300) {
      deps.store.upsertPeer({ url: req.url, role: 'child', hub: req.child });
      deps.onPeersChanged();
    }
    return res;
  });

  // Withdraws this hub's admission of `child` (spec/records.md hub.admission.revoked): trust is recomputed when it is stored.
  app.post('/v1/admissions/:child/revoke', async (c) => {
    const child = c.req.param('child');
    if (!hubIdSchema.safeParse(child).success) throw new ShuniuError('E_ARGUMENT', 'not a hub id');
    const req = parseWith(revokeRequest, await readJson(c));
    return answer(c, 'hub.admission.revoked', { child, ...(req.reason !== undefined ? { reason: req.reason } : {}) });
  });

  // The opened private fields of a record sealed to this hub, or E_SEALED (spec/node.md §8.5).
  app.get('/v1/records/:id/private', (c) => {
    if (!deps.privacy) throw new ShuniuError('E_SEALED', 'this node cannot open sealed parts');
    return c.json(deps.privacy.open(c.req.param('id')));
  });
  // Erases the sealed part here, and asks every node to when this hub may (spec/node.md §8.6).
  app.post('/v1/records/:id/erase', async (c) => {
    if (!deps.privacy) throw new ShuniuError('E_ARGUMENT', 'this node cannot erase sealed parts');
    const text = await c.req.text();
    const req = parseWith(revokeRequest, text.trim() === '' ? {} : parseIJson(text));
    return c.json(await deps.privacy.erase(c.req.param('id'), req.reason));
  });

  app.get('/v1/peers', (c) => c.json({ peers: deps.store.peers() }));
  app.post('/v1/peers', async (c) => {
    const req = parseWith(peerRequest, await readJson(c));
    deps.store.upsertPeer(req);
    deps.onPeersChanged();
    return c.json({ peer: deps.store.peers().find((p) => p.url === req.url) }, 201);
  });
  app.delete('/v1/peers', (c) => {
    const url = c.req.query('url');
    if (!url) throw new ShuniuError('E_ARGUMENT', 'url query parameter required');
    deps.store.removePeer(url);
    deps.onPeersChanged();
    return c.body(null, 204);
  });

  app.get('/v1/blocks', (c) => c.json({ blocked: deps.store.blocked() }));
  app.post('/v1/blocks', async (c) => {
    const req = parseWith(blockRequest, await readJson(c));
    if (req.hub === deps.hubId) throw new ShuniuError('E_ARGUMENT', 'a node cannot block its own hub');
    deps.store.block(req.hub, req.reason ?? '', Date.now());
    deps.onBlocksChanged?.();
    return c.json({ blocked: req.hub }, 201);
  });
  app.delete('/v1/blocks/:hub', (c) => {
    deps.store.unblock(c.req.param('hub'));
    deps.onBlocksChanged?.();
    return c.body(null, 204);
  });

  // The holding area (spec/node.md §3.3): what it holds per sender, and a purge.
  app.get('/v1/held', (c) => c.json(heldView(deps.store)));
  app.delete('/v1/held', (c) => {
    const q = (k: string) => c.req.query(k);
    const filter = heldFilterOf({ hub: q('hub'), sender: q('sender'), olderThan: q('olderThan'), all: q('all') === 'true' || q('all') === '1' }, Date.now());
    return c.json({ purged: deps.store.purgeHeld(filter) });
  });

  return app;
}

import { type Catalogue, type MatchFilters, propose, type TransitTable } from '@shuniu/match';
import { formatTimestamp, regionPrefix, ShuniuError, urgency } from '@shuniu/protocol';
import type { ResolvedState } from '@shuniu/resolve';
import { Hono } from 'hono';
import { z } from 'zod';
import { problemResponse } from './problem.js';

export interface MatchDeps {
  /** The node's current resolved state. */
  state(): ResolvedState;
  catalogue?: Catalogue;
  transit?: Partial<TransitTable>;
}

/** Comma-separated or repeated query values. */
const list = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .array(z.string())
    .transform((xs) => xs.flatMap((x) => x.split(',')).filter((x) => x !== ''))
    .pipe(z.array(item));

const query = z.strictObject({
  region: z.array(regionPrefix).max(1).optional(),
  item: z.array(z.string().max(64)).max(1).optional(),
  urgency: list(urgency).optional(),
  offer: list(z.string().max(64)).optional(),
  need: list(z.string().max(64)).optional(),
});

/**
 * `GET /v1/match/proposals` (spec/matching.md): the matching engine's
 * proposals for the node's state, filtered by `region` (GB/T 2260 prefix),
 * `item` (code), `urgency`, `offer` and `need` (ids; comma-separated or repeated).
 * Filters select from the whole plan; they never change it.
 *
 * @example app.route('/', matchRoutes({ state: () => ingestor.engine.state() }))
 */
export function matchRoutes(deps: MatchDeps) {
  const app = new Hono();
  app.get('/v1/match/proposals', (c) => {
    const parsed = query.safeParse(c.req.queries());
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ code: i.code, path: i.path.filter((k) => typeof k !== 'symbol'), message: i.message }));
      const detail = issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return problemResponse(c, new ShuniuError('E_ARGUMENT', `bad query: ${detail}`, { issues }));
    }
    const q = parsed.data;
    const filters: MatchFilters = {};
    if (q.region) filters.region = q.region[0];
    if (q.item) filters.item = q.item[0];
    if (q.urgency) filters.urgency = q.urgency;
    if (q.offer) filters.offers = q.offer;
    if (q.need) filters.needs = q.need;
    const state = deps.state();
    const proposals = propose(state, { catalogue: deps.catalogue, transit: deps.transit, filters });
    return c.json({ clock: formatTimestamp(state.clock), count: proposals.length, proposals });
  });
  return app;
}

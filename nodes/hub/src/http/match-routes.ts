import type { MatchFilters } from '@shuniu/match';
import { formatTimestamp, regionPrefix, ShuniuError, urgency } from '@shuniu/protocol';
import { Hono } from 'hono';
import { z } from 'zod';
import { MatchBudgetError, type MatchService } from '../match-service.js';
import { principalOf } from './access.js';
import { problemOf, problemResponse } from './problem.js';

/** What the answer says of a hub that must sign proposals (from the resolved hubs state). */
export interface SignerInfo {
  name?: { zh: string; en?: string };
  level?: string;
  region?: string;
}

export interface MatchDeps {
  /** Plans made off the main thread, cached per state version (match-service.ts). */
  service: MatchService;
  /** The hubs of the resolved state, to name each proposal's signer (spec/node.md §6.1). */
  hubs?: () => readonly { id: string; level?: string; region?: string; profile?: { name: { zh: string; en?: string }; level?: string; region?: string } }[];
}

/** The signers named on a page of proposals (their ids, as the engine wrote them), each once. */
const SIGNER = /"signer":"([A-Za-z0-9_-]+)"/g;

function signersOf(body: string, hubs: MatchDeps['hubs']): Record<string, SignerInfo> {
  const ids = new Set<string>();
  for (const m of body.matchAll(SIGNER)) ids.add(m[1] as string);
  const out: Record<string, SignerInfo> = {};
  if (ids.size === 0) return out;
  const byId = new Map((hubs?.() ?? []).map((h) => [h.id, h]));
  for (const id of [...ids].sort()) {
    const h = byId.get(id);
    const level = h?.level ?? h?.profile?.level;
    const region = h?.region ?? h?.profile?.region;
    out[id] = { ...(h?.profile?.name ? { name: h.profile.name } : {}), ...(level ? { level } : {}), ...(region ? { region } : {}) };
  }
  return out;
}

/** Proposals per page: default and most (spec/node.md §Matching proposals). */
export const MATCH_LIMIT_DEFAULT = 500;
export const MATCH_LIMIT_MAX = 5000;
/** A page's proposals never take more than this many bytes of JSON (fewer proposals then, and `next`). */
export const MATCH_PAGE_BYTES = 8 * 1024 * 1024;

/** Comma-separated or repeated query values. */
const list = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .array(z.string())
    .transform((xs) => xs.flatMap((x) => x.split(',')).filter((x) => x !== ''))
    .pipe(z.array(item));

const int = (min: number, max: number) =>
  z
    .array(z.string().regex(/^[0-9]{1,9}$/, 'expected a whole number'))
    .max(1)
    .transform((xs) => Number(xs[0]))
    .pipe(z.number().int().min(min).max(max));

const query = z.strictObject({
  region: z.array(regionPrefix).max(1).optional(),
  item: z.array(z.string().max(64)).max(1).optional(),
  urgency: list(urgency).optional(),
  offer: list(z.string().max(64)).optional(),
  need: list(z.string().max(64)).optional(),
  limit: int(1, MATCH_LIMIT_MAX).optional(),
  offset: int(0, 999_999_999).optional(),
});

/**
 * `GET /v1/match/proposals` (spec/node.md §Matching proposals, rules in
 * spec/matching.md): a page of the matching engine's proposals for the
 * node's state, filtered by `region` (GB/T 2260 prefix), `item` (code),
 * `urgency`, `offer` and `need` (ids; comma-separated or repeated), `limit`
 * (default 500, at most 5000) from `offset`. Each proposal names its
 * `signer` (the offer's author); `signers` names those hubs (name, level,
 * region from the hubs state). Filters select from the whole
 * plan; they never change it. The plan is made in a worker thread within
 * limits.matchBudgetMs, once per state version (the ETag).
 *
 * @example app.route('/', matchRoutes({ service: new MatchService({ ... }) }))
 */
export function matchRoutes(deps: MatchDeps) {
  const app = new Hono();
  app.get('/v1/match/proposals', async (c) => {
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
    // An operator signs what it reads: always the current version; others may get the plan held (limits.matchStaleMs).
    const fresh = principalOf(c).kind === 'operator';
    const version = deps.service.versionToServe(fresh);
    const etag = `"match-${version}"`;
    const headers = { etag, 'cache-control': 'private, no-cache' };
    const inm = c.req.header('if-none-match');
    if (inm?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) return c.body(null, 304, headers);
    let page: Awaited<ReturnType<MatchService['page']>>;
    try {
      page = await deps.service.page({ filters, fresh, version, offset: q.offset ?? 0, limit: q.limit ?? MATCH_LIMIT_DEFAULT, maxBytes: MATCH_PAGE_BYTES });
    } catch (e) {
      if (!(e instanceof MatchBudgetError)) throw e;
      // The node refuses more work on this version rather than block (spec/node.md §6.1).
      const p = problemOf(new ShuniuError('E_BUSY', e.message));
      const retry = Math.max(5, Math.ceil(e.budgetMs / 1000));
      return c.body(JSON.stringify(p), 503, { 'content-type': 'application/problem+json', 'retry-after': String(retry) });
    }
    const pageTag = `"match-${page.version}"`;
    const head = JSON.stringify({
      version: page.version,
      clock: formatTimestamp(page.clock),
      total: page.total,
      offset: page.offset,
      count: page.count,
      next: page.next,
      signers: signersOf(page.body, deps.hubs),
    });
    return c.body(`${head.slice(0, -1)},"proposals":${page.body}}`, 200, {
      'content-type': 'application/json',
      etag: pageTag,
      'cache-control': headers['cache-control'],
    });
  });
  return app;
}

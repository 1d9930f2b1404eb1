import { ShuniuError } from '@shuniu/protocol';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { TokenAuth, TokenClaims } from '../auth.js';
import { WRITE_ROUTES } from './routes/operator.js';

/**
 * Who sent a request (issue 10 design): set by the authentication
 * middlewares into the Hono context variable `principal`. Tokens give
 * operator and subscriber (this module); a verified HTTP message signature
 * gives peer (peer-auth.ts); anything else is anonymous.
 */
export type Principal = { kind: 'anonymous' } | { kind: 'operator' | 'subscriber'; jti: string; sub: string } | { kind: 'peer'; hub: string };

/**
 * What a route needs (spec/node.md §8.1):
 * - `public`: anyone;
 * - `read`: anyone when `publicRead` is true; otherwise an operator or
 *   subscriber token, or a peer whose signed request verified and whose hub
 *   this node trusts;
 * - `token`: an operator or subscriber token, even when `publicRead` is
 *   true (matching proposals: costly to compute, spec/node.md §Matching proposals);
 * - `operator`: an operator token.
 */
export type Access = 'public' | 'read' | 'token' | 'operator';

/**
 * The one access rule: every route the node registers, by method and path
 * pattern as registered. A route missing here is treated as `operator`
 * (fail closed); the route-walk test (nodes/hub/test/auth.test.ts) lists
 * any route missing here.
 */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  // The console (static files; it reads the API with the operator's token).
  'GET /': 'public',
  'GET /assets/*': 'public',
  // Discovery and the API's description.
  'GET /.well-known/shuniu': 'public',
  'GET /.well-known/jwks.json': 'public',
  'GET /v1/openapi.json': 'public',
  // Counts for everyone; trusted hubs for readers; peers, cursors and errors for operators (§8.1).
  'GET /v1/status': 'public',
  // Records are self-authenticating: anyone may push (§3).
  'POST /v1/records': 'public',
  // Reads.
  'GET /v1/heads': 'read',
  'GET /v1/hubs/:hub/log': 'read',
  'GET /v1/offchain': 'read',
  'GET /v1/records/:id': 'read',
  'GET /v1/feed': 'read',
  'GET /v1/feed/live': 'read',
  'GET /v1/state/hash': 'read',
  'GET /v1/state/:collection': 'read',
  'GET /v1/match/proposals': 'token',
  // Operator writes and administration.
  ...Object.fromEntries(WRITE_ROUTES.map((r) => [`POST ${r.path}`, 'operator' as const])),
  'POST /v1/admissions': 'operator',
  'POST /v1/admissions/:child/revoke': 'operator',
  // Join codes and admission requests (spec/node.md §7.1): a child posts its request with a code (the code is the authority).
  'POST /v1/join-codes': 'operator',
  'GET /v1/join-codes': 'operator',
  'DELETE /v1/join-codes/:id': 'operator',
  'POST /v1/join-requests': 'public',
  'POST /v1/join-requests/:id/approve': 'operator',
  'POST /v1/join-requests/:id/refuse': 'operator',
  // Intake from groups without a node (spec/node.md §8.7): anyone submits and tracks (the token is the authority); operators decide.
  'POST /v1/intake': 'public',
  'GET /v1/intake/track/:token': 'public',
  'GET /v1/intake': 'operator',
  'POST /v1/intake/:id/verify': 'operator',
  'POST /v1/intake/:id/publish': 'operator',
  'POST /v1/intake/:id/reject': 'operator',
  // Private fields: opened and erased by operators only (spec/node.md §8.5-8.6).
  'GET /v1/records/:id/private': 'operator',
  'POST /v1/records/:id/erase': 'operator',
  'GET /v1/peers': 'operator',
  'POST /v1/peers': 'operator',
  'DELETE /v1/peers': 'operator',
  'GET /v1/blocks': 'operator',
  'POST /v1/blocks': 'operator',
  'DELETE /v1/blocks/:hub': 'operator',
  'GET /v1/held': 'operator',
  'DELETE /v1/held': 'operator',
  'GET /v1/tokens': 'operator',
  'DELETE /v1/tokens/:jti': 'operator',
  'POST /v1/tokens/revoke-all': 'operator',
  // Offline bundles (spec/node.md §13).
  'POST /v1/bundle/export': 'operator',
  'POST /v1/bundle/import': 'operator',
  // Exports for partners (spec/node.md §14): made from the resolved state, read like it.
  'GET /v1/export/hxl/:kind': 'read',
  'GET /v1/export/epcis': 'read',
  // Outbound webhooks (spec/node.md §15): their URLs carry the robots' keys.
  'GET /v1/webhooks': 'operator',
  'POST /v1/webhooks': 'operator',
  'DELETE /v1/webhooks/:id': 'operator',
  'POST /v1/webhooks/:id/test': 'operator',
  'GET /v1/webhooks/log': 'operator',
};

/** Paths of middlewares registered with `app.use` (method ALL): they are not routes. */
const MIDDLEWARE_PATHS = new Set(['*', '/*', '/v1/*']);

const isMiddleware = (method: string, path: string) => method === 'ALL' && MIDDLEWARE_PATHS.has(path);

/** The access a route needs; a route not in the table needs `operator`. */
export function accessOf(method: string, path: string): Access {
  return ROUTE_ACCESS[`${method} ${path}`] ?? 'operator';
}

/** Routes of `app` missing from the table (each then needs an operator token). */
export function unlistedRoutes(app: Hono): string[] {
  const out = new Set<string>();
  for (const r of app.routes) if (!isMiddleware(r.method, r.path) && !(`${r.method} ${r.path}` in ROUTE_ACCESS)) out.add(`${r.method} ${r.path}`);
  return [...out];
}

/** The principal of a request: anonymous unless a middleware set one. */
export function principalOf(c: Context): Principal {
  return (c.get('principal' as never) as Principal | undefined) ?? { kind: 'anonymous' };
}

const AUTH_ERROR = 'tokenError';

/**
 * Sets `principal` from the bearer token: `{kind: scope, jti, sub}` when it
 * verifies (signature, claims, lifetime limit, its `tokens` row present and
 * not revoked). A principal an earlier middleware set (a verified peer) is
 * kept. A token that does not verify leaves the request anonymous; the
 * reason is the 401 detail if the route needs more than `public`.
 */
export function tokenPrincipal(auth: TokenAuth): MiddlewareHandler {
  return async (c, next) => {
    const current = c.get('principal' as never) as Principal | undefined;
    if (current && current.kind !== 'anonymous') return next();
    const header = c.req.header('authorization');
    if (header === undefined) {
      if (!current) c.set('principal' as never, { kind: 'anonymous' } as never);
      return next();
    }
    let claims: TokenClaims;
    try {
      claims = await auth.check(header);
    } catch (e) {
      c.set('principal' as never, { kind: 'anonymous' } as never);
      c.set(AUTH_ERROR as never, e as never);
      return next();
    }
    c.set('principal' as never, { kind: claims.scope, jti: claims.jti, sub: claims.sub } as never);
    await next();
    // A live feed outlives the request: it ends, before its next event, once the token is revoked, expired or its key rotated.
    const body = c.res.body;
    if (body && c.res.headers.get('content-type')?.startsWith('text/event-stream')) {
      const guard = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          if (auth.stillValid(claims)) ctl.enqueue(chunk);
          else ctl.terminate();
        },
      });
      c.res = new Response(body.pipeThrough(guard), c.res);
    }
  };
}

/** The access the route that will answer this request needs (`public` when no route matches: 404 follows). */
export function requestAccess(c: Context): Access {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i] as { method: string; path: string };
    if (isMiddleware(r.method, r.path)) continue;
    return accessOf(r.method, r.path);
  }
  return 'public';
}

/**
 * The one access check (spec/node.md §8.1), for every route, before its
 * handler: 401 E_AUTH without a principal that could pass, 403 E_FORBIDDEN
 * with one of too little scope.
 */
export function accessControl(opts: { publicRead: boolean; trusted: (hub: string) => boolean }): MiddlewareHandler {
  return async (c, next) => {
    const access = requestAccess(c);
    if (access === 'public') return next();
    const p = principalOf(c);
    if (p.kind === 'operator') return next();
    if (access === 'token') {
      if (p.kind === 'subscriber') return next();
      if (p.kind === 'peer') throw new ShuniuError('E_FORBIDDEN', 'this route needs an operator or subscriber token');
    } else if (access === 'read') {
      if (opts.publicRead || p.kind === 'subscriber') return next();
      if (p.kind === 'peer') {
        if (opts.trusted(p.hub)) return next();
        throw new ShuniuError('E_FORBIDDEN', `hub ${p.hub} is not trusted by this node, and reads here are not public`);
      }
    } else if (p.kind !== 'anonymous') {
      throw new ShuniuError('E_FORBIDDEN', 'this route needs an operator token');
    }
    const why = c.get(AUTH_ERROR as never) as unknown;
    if (why instanceof ShuniuError) throw why;
    throw new ShuniuError(
      'E_AUTH',
      access === 'read'
        ? 'reads on this node need a bearer token (publicRead is false)'
        : access === 'token'
          ? 'this route needs an operator or subscriber token, even where reads are public'
          : 'this route needs an operator token',
    );
  };
}

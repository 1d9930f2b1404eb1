import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileTokenKey, TOKEN_KEY_FILE, TokenAuth } from '../src/auth.js';
import { issueToken, listTokens, revokeAllTokens, revokeToken, run as tokenCli } from '../src/commands/token.js';
import { accessControl, accessOf, ROUTE_ACCESS, tokenPrincipal, unlistedRoutes } from '../src/http/access.js';
import { signRequest } from '../src/http/peer-auth.js';
import { onError } from '../src/http/problem.js';
import { type HubNode, initDataDir } from '../src/node.js';
import { TokenRecords } from '../src/tokens.js';
import { needBody, post, startNode, TestHub, tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

type Running = Awaited<ReturnType<typeof startNode>>;

const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

async function problem(res: Response): Promise<{ status: number; code?: string; detail?: string }> {
  const text = await res.text();
  try {
    const j = JSON.parse(text) as { code?: string; detail?: string };
    return { status: res.status, ...(j.code ? { code: j.code } : {}), ...(j.detail ? { detail: j.detail } : {}) };
  } catch {
    return { status: res.status };
  }
}

/** A concrete URL path for a route pattern: parameters filled with plausible values. */
function concrete(path: string, hub: string): string {
  return path
    .replace(':hub', hub)
    .replace(':collection', 'needs')
    .replace(':id', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    .replace(':child', hub)
    .replace(':jti', 'AAAAAAAAAAAAAAAAAAAAAA')
    .replace('*', 'x.js');
}

/** Every route the node registered (not the middlewares), once. */
function routes(node: HubNode): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of node.app.routes) if (r.method !== 'ALL') seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  return [...seen.values()];
}

describe('access: one route table, enforced in one place (issue 10 point 1)', () => {
  let closed: Running;
  let open: Running;
  beforeAll(async () => {
    closed = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, { overrides: { publicRead: false } });
    open = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' });
  });
  afterAll(async () => {
    await closed.node.close();
    await open.node.close();
  });

  it('every registered route is in the table; a route missing from it needs an operator token', () => {
    expect(unlistedRoutes(closed.node.app)).toEqual([]);
    expect(accessOf('GET', '/v1/not-in-the-table')).toBe('operator');
    for (const p of ['GET /v1/heads', 'GET /v1/hubs/:hub/log', 'GET /v1/records/:id']) expect(ROUTE_ACCESS[p]).toBe('read');
  });

  it('a route registered without a row in the table fails closed: it needs an operator token', async () => {
    const app = new Hono();
    app.onError(onError(() => {}));
    app.use('*', tokenPrincipal(closed.node.auth));
    app.use('*', accessControl({ publicRead: true, trusted: () => true }));
    app.get('/v1/forgotten', (c) => c.json({ secret: 1 }));
    app.get('/v1/heads', (c) => c.json({ heads: {} }));
    expect(unlistedRoutes(app)).toEqual(['GET /v1/forgotten']);
    expect((await app.request('/v1/forgotten')).status).toBe(401);
    expect((await app.request('/v1/forgotten', { headers: { authorization: `Bearer ${await closed.node.auth.issue('subscriber', 60)}` } })).status).toBe(403);
    expect((await app.request('/v1/forgotten', { headers: { authorization: `Bearer ${closed.token}` } })).status).toBe(200);
    expect((await app.request('/v1/heads')).status).toBe(200);
    expect((await app.request('/v1/nowhere')).status).toBe(404);
  });

  it('publicRead=false: walking every route anonymously, each non-public route answers 401 E_AUTH (no 200, no 500)', async () => {
    const all = routes(closed.node);
    expect(all.length).toBeGreaterThan(30);
    let refused = 0;
    for (const r of all) {
      const res = await fetch(`${closed.url}${concrete(r.path, closed.node.hubId)}`, {
        method: r.method,
        headers: { 'content-type': 'application/json' },
        ...(r.method === 'POST' ? { body: '{}' } : {}),
      });
      const p = await problem(res);
      const access = accessOf(r.method, r.path);
      if (access === 'public') {
        expect(p.status, `${r.method} ${r.path}`).not.toBe(500);
        expect(p.status, `${r.method} ${r.path}`).not.toBe(401);
      } else {
        expect(p, `${r.method} ${r.path} (${access})`).toMatchObject({ status: 401, code: 'E_AUTH' });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(25);
  });

  it('publicRead=true: reads are open, operator routes still refuse (401 anonymous, 403 subscriber)', async () => {
    const sub = await open.node.auth.issue('subscriber', 600);
    for (const r of routes(open.node)) {
      const access = accessOf(r.method, r.path);
      if (access !== 'operator') continue;
      const url = `${open.url}${concrete(r.path, open.node.hubId)}`;
      const init = { method: r.method, headers: { 'content-type': 'application/json' }, ...(r.method === 'POST' ? { body: '{}' } : {}) };
      expect(await problem(await fetch(url, init)), `${r.method} ${r.path}`).toMatchObject({ status: 401, code: 'E_AUTH' });
      const withSub = { ...init, headers: { ...init.headers, authorization: `Bearer ${sub}` } };
      expect(await problem(await fetch(url, withSub)), `${r.method} ${r.path}`).toMatchObject({ status: 403, code: 'E_FORBIDDEN' });
    }
    expect((await get(`${open.url}/v1/heads`)).status).toBe(200);
    expect((await get(`${open.url}/v1/hubs/${open.node.hubId}/log`)).status).toBe(200);
    // `token` routes (the matching proposals) need a token even here.
    for (const r of routes(open.node).filter((x) => accessOf(x.method, x.path) === 'token')) {
      const url = `${open.url}${concrete(r.path, open.node.hubId)}`;
      expect(await problem(await fetch(url, { method: r.method })), r.path).toMatchObject({ status: 401, code: 'E_AUTH' });
      expect([401, 403], r.path).not.toContain((await fetch(url, { method: r.method, headers: { authorization: `Bearer ${sub}` } })).status);
    }
  });

  it('publicRead=false: heads, log and records/{id} need a reader; a subscriber token or a trusted peer reads them', async () => {
    const { node, url } = closed;
    const head = (await (await get(`${url}/v1/hubs/${node.hubId}/log`, closed.token)).json()) as { records: { sig: string }[] };
    expect(head.records.length).toBeGreaterThan(0);
    const id = Object.keys(node.store.heads())[0] as string;
    const firstId = (node.store.since(0, 1)[0] as { id: string }).id;
    for (const path of ['/v1/heads', `/v1/hubs/${id}/log`, `/v1/records/${firstId}`, '/v1/feed', '/v1/state/needs']) {
      expect(await problem(await get(`${url}${path}`)), path).toMatchObject({ status: 401, code: 'E_AUTH' });
      const sub = await node.auth.issue('subscriber', 600);
      expect((await get(`${url}${path}`, sub)).status, path).toBe(200);
    }
    // A peer whose signed request verifies and whose hub this node trusts reads without a token.
    const peer = await TestHub.make();
    expect((await post(`${url}/v1/admissions`, { child: peer.id, level: 'county', region: '420902' }, closed.token)).status).toBe(201);
    const pushed = (await (await post(`${url}/v1/records`, peer.records)).json()) as { summary: { accepted: number } };
    expect(pushed.summary.accepted).toBe(1);
    const signed = (path: string) =>
      get(`${url}${path}`, undefined, signRequest({ hub: peer.id, secretKey: peer.hub.keys.signing.secretKey }, { method: 'GET', url: `${url}${path}` }));
    expect((await signed('/v1/heads')).status).toBe(200);
    expect((await signed(`/v1/records/${firstId}`)).status).toBe(200);
    // Not an operator, though.
    expect(await problem(await signed('/v1/peers'))).toMatchObject({ status: 403, code: 'E_FORBIDDEN' });
    // A known but untrusted hub (blocked here) is refused.
    expect((await post(`${url}/v1/blocks`, { hub: peer.id }, closed.token)).status).toBe(201);
    expect(await problem(await signed('/v1/heads'))).toMatchObject({ status: 403, code: 'E_FORBIDDEN' });
  });

  it('/v1/status: counts for everyone; peer URLs, cursors and last errors only for operators', async () => {
    for (const n of [closed, open]) {
      await post(`${n.url}/v1/peers`, { url: 'http://10.9.8.7:7420', role: 'follow' }, n.token);
      const anon = (await (await get(`${n.url}/v1/status`)).json()) as Record<string, unknown>;
      expect(anon).toMatchObject({ hub: n.node.hubId, records: expect.any(Number), held: expect.any(Number), forks: expect.any(Number) });
      expect(anon.peers).toBeUndefined();
      expect(JSON.stringify(anon)).not.toContain('10.9.8.7');
      const sub = (await (await get(`${n.url}/v1/status`, await n.node.auth.issue('subscriber', 60))).json()) as Record<string, unknown>;
      expect(sub.peers).toBeUndefined();
      const op = (await (await get(`${n.url}/v1/status`, n.token)).json()) as { peers: { url: string; cursor: number; lastError: unknown }[] };
      expect(op.peers.map((p) => p.url)).toContain('http://10.9.8.7:7420');
      expect(op.peers[0]).toHaveProperty('cursor');
      expect(op.peers[0]).toHaveProperty('lastError');
    }
    // The trusted hubs: for whoever may read.
    expect((await (await get(`${closed.url}/v1/status`)).json()) as object).not.toHaveProperty('trusted');
    expect((await (await get(`${open.url}/v1/status`)).json()) as object).toHaveProperty('trusted');
  });
});

describe('access: peers pull from a node whose reads are closed with their own signatures (issue 10 points 1 and 10)', () => {
  it('a follower whose hub the node trusts pulls its log; a follower it does not trust is refused and gets nothing', async () => {
    const p = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { overrides: { publicRead: false } });
    const f = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902', follow: [p.url] });
    const s = await startNode({ name: '汉川市枢纽', level: 'county', region: '420984', follow: [p.url] });
    try {
      expect((await post(`${p.url}/v1/admissions`, { child: f.node.hubId, level: 'county', region: '420902' }, p.token)).status).toBe(201);
      // The follower's own records reach the province (pushes are public), so the province knows its key.
      const mine = f.node.store.since(0, 10).map((r) => JSON.parse(r.json) as unknown);
      await post(`${p.url}/v1/records`, mine);
      await post(
        `${p.url}/v1/records`,
        s.node.store.since(0, 10).map((r) => JSON.parse(r.json) as unknown),
      );
      expect(p.node.store.heads()[f.node.hubId]).toBeGreaterThanOrEqual(0);
      const need = (await (await post(`${p.url}/v1/needs`, needBody({ quantity: 77 }), p.token)).json()) as { id: string };
      // Anonymous readers see nothing.
      expect((await get(`${p.url}/v1/records/${need.id}`)).status).toBe(401);
      const got = await f.node.federation.pullFrom(p.url);
      expect(got.accepted).toBeGreaterThanOrEqual(1);
      expect(f.node.store.recordById(need.id)).toBeDefined();
      await expect(s.node.federation.pullFrom(p.url)).rejects.toThrow(/heads: HTTP 40[13]/);
      expect(s.node.store.recordById(need.id)).toBeUndefined();
    } finally {
      for (const n of [f, s, p]) await n.node.close();
    }
  });
});

describe('tokens: lifetime limit, jti, server-side record, revocation, key rotation (issue 10 point 2)', () => {
  let n: Running;
  beforeAll(async () => {
    n = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' });
  });
  afterAll(async () => {
    await n.node.close();
  });
  const peers = (token: string) => get(`${n.url}/v1/peers`, token);

  it('shuniu token refuses a --ttl beyond the limit with a clear message; issue() too', async () => {
    await expect(tokenCli(['--dir', n.dir, '--scope', 'operator', '--ttl', '99999999999999999999d'])).rejects.toThrow(
      /--ttl 99999999999999999999d is longer than a operator token may live on this node: at most 2592000 s \(30 days/,
    );
    await expect(tokenCli(['--dir', n.dir, '--scope', 'operator', '--ttl', '31d'])).rejects.toThrow(/tokens\.maxTtlOperatorSeconds/);
    await expect(tokenCli(['--dir', n.dir, '--scope', 'subscriber', '--ttl', '366d'])).rejects.toThrow(/tokens\.maxTtlSubscriberSeconds/);
    await expect(n.node.auth.issue('operator', 31 * 86400)).rejects.toMatchObject({ code: 'E_ARGUMENT' });
    // Within the limits: fine, and the token carries a 128-bit jti.
    const t = await issueToken(n.dir, 'subscriber', 365 * 86400);
    const claims = decodeJwt(t);
    expect(claims.exp! - claims.iat!).toBe(365 * 86400);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(claims.jti!, 'base64url').length).toBe(16);
    expect((await get(`${n.url}/v1/feed`, t)).status).toBe(200);
  });

  it('the node refuses a token whose exp - iat exceeds its limit, even one it has a row for', async () => {
    const records = new TokenRecords(n.node.store.db);
    const lax = new TokenAuth(n.node.hubId, fileTokenKey(n.dir), { records, limits: { operator: 1e12, subscriber: 1e12 } });
    const long = await lax.issue('operator', 100 * 365 * 86400);
    expect(await problem(await peers(long))).toMatchObject({ status: 401, code: 'E_AUTH', detail: expect.stringMatching(/lives longer/) });
  });

  it('a token without a tokens row is refused (right key, right claims, never issued)', async () => {
    const unrecorded = await new TokenAuth(n.node.hubId, fileTokenKey(n.dir)).issue('operator', 600);
    expect(await problem(await peers(unrecorded))).toMatchObject({ status: 401, code: 'E_AUTH', detail: expect.stringMatching(/no record/) });
  });

  it('revoke by route: the next request with that token is 401 at once; the list never shows token text', async () => {
    const a = await n.node.auth.issue('operator', 600, 'alice');
    const b = await n.node.auth.issue('operator', 600, 'bob');
    expect((await peers(b)).status).toBe(200);
    const list = (await (await get(`${n.url}/v1/tokens`, a)).json()) as { tokens: { jti: string; sub: string; state: string }[] };
    expect(JSON.stringify(list)).not.toContain(b);
    expect(JSON.stringify(list)).not.toContain(b.split('.')[2]);
    const jtiB = decodeJwt(b).jti as string;
    expect(list.tokens.find((t) => t.jti === jtiB)).toMatchObject({ sub: 'bob', state: 'live' });
    const del = await fetch(`${n.url}/v1/tokens/${jtiB}`, { method: 'DELETE', headers: { authorization: `Bearer ${a}` } });
    expect(del.status).toBe(204);
    expect(await problem(await peers(b))).toMatchObject({ status: 401, code: 'E_AUTH', detail: expect.stringMatching(/revoked/) });
    expect((await peers(a)).status).toBe(200);
    expect((await fetch(`${n.url}/v1/tokens/nosuchtokennosuchtoken`, { method: 'DELETE', headers: { authorization: `Bearer ${a}` } })).status).toBe(404);
    // Subscribers cannot list or revoke.
    expect((await get(`${n.url}/v1/tokens`, await n.node.auth.issue('subscriber', 60))).status).toBe(403);
  });

  it('the OpenAPI document lists the token routes as bearer-protected', async () => {
    const doc = (await (await get(`${n.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    expect(doc.paths['/v1/tokens']?.get?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/v1/tokens/{jti}']?.delete?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/v1/tokens/revoke-all']?.post?.security).toEqual([{ bearer: [] }]);
  });

  it('a live feed opened with a token ends before its next event once the token is revoked', async () => {
    const sub = await n.node.auth.issue('subscriber', 600);
    const op = await n.node.auth.issue('operator', 600);
    const res = await get(`${n.url}/v1/feed/live`, sub);
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const until = async (re: RegExp): Promise<true | 'ended' | 'timeout'> => {
      const deadline = Date.now() + 5000;
      while (!re.test(text)) {
        const r = await Promise.race([reader.read(), new Promise<'timeout'>((ok) => setTimeout(() => ok('timeout'), Math.max(1, deadline - Date.now())))]);
        if (r === 'timeout') return 'timeout';
        if (r.done) return 'ended';
        text += Buffer.from(r.value).toString('utf8');
      }
      return true;
    };
    expect(await until(/event: ready/)).toBe(true);
    expect((await post(`${n.url}/v1/needs`, needBody({ quantity: 11 }), op)).status).toBe(201);
    expect(await until(/"quantity":11/)).toBe(true);
    const jti = decodeJwt(sub).jti as string;
    expect((await fetch(`${n.url}/v1/tokens/${jti}`, { method: 'DELETE', headers: { authorization: `Bearer ${op}` } })).status).toBe(204);
    expect((await post(`${n.url}/v1/needs`, needBody({ quantity: 12 }), op)).status).toBe(201);
    expect(await until(/"quantity":12/)).toBe('ended');
    expect(text).not.toContain('"quantity":12');
    await reader.cancel().catch(() => {});
  });

  it('revoke by the CLI against the same database while the node runs: refused at the next request', async () => {
    const c = await issueToken(n.dir, 'operator', 600, 'carol');
    expect((await peers(c)).status).toBe(200);
    expect(revokeToken(n.dir, decodeJwt(c).jti as string)).toBe(true);
    expect(await problem(await peers(c))).toMatchObject({ status: 401, code: 'E_AUTH' });
    expect(listTokens(n.dir).find((t) => t.sub === 'carol')?.state).toBe('revoked');
    const d = await issueToken(n.dir, 'operator', 600, 'dave');
    expect(await tokenCli(['revoke', '--dir', n.dir, decodeJwt(d).jti as string])).toBe(0);
    expect((await peers(d)).status).toBe(401);
  });

  it('sign out everywhere (POST /v1/tokens/revoke-all) revokes every token, the caller’s too; shuniu token revoke --all likewise', async () => {
    const caller = await n.node.auth.issue('operator', 600);
    const other = await n.node.auth.issue('subscriber', 600);
    const res = await fetch(`${n.url}/v1/tokens/revoke-all`, { method: 'POST', headers: { authorization: `Bearer ${caller}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { revoked: number }).revoked).toBeGreaterThanOrEqual(2);
    expect((await peers(caller)).status).toBe(401);
    expect((await get(`${n.url}/v1/feed`, other)).status).toBe(200); // publicRead: the feed stays open…
    expect((await get(`${n.url}/v1/status`, caller)).status).toBe(200); // …and so does the public status,
    expect((await (await get(`${n.url}/v1/status`, caller)).json()) as object).not.toHaveProperty('peers'); // without the operator part.
    expect(await problem(await get(`${n.url}/v1/tokens`, other))).toMatchObject({ status: 401, code: 'E_AUTH' });
    const e = await n.node.auth.issue('operator', 600);
    expect((await peers(e)).status).toBe(200);
    expect(revokeAllTokens(n.dir)).toBe(1);
    expect((await peers(e)).status).toBe(401);
  });

  it('rotate-key: every earlier token stops verifying; JWKS shows the new kid (RFC 7638 thumbprint); new tokens work', async () => {
    const before = await n.node.auth.issue('operator', 600);
    expect((await peers(before)).status).toBe(200);
    const jwks0 = (await (await get(`${n.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; x: string; crv: string; kty: string }[] };
    const old = jwks0.keys[2] as { kid: string; x: string };
    expect(old.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: old.x }));
    const keyFile0 = readFileSync(join(n.dir, TOKEN_KEY_FILE), 'utf8');
    expect(statSync(join(n.dir, TOKEN_KEY_FILE)).mode & 0o777).toBe(0o600);
    // The record-signing key is untouched.
    const hubKey0 = readFileSync(join(n.dir, 'hub.key.json'), 'utf8');
    expect(await tokenCli(['rotate-key', '--dir', n.dir])).toBe(0);
    expect(readFileSync(join(n.dir, TOKEN_KEY_FILE), 'utf8')).not.toBe(keyFile0);
    expect(readFileSync(join(n.dir, 'hub.key.json'), 'utf8')).toBe(hubKey0);
    expect(statSync(join(n.dir, TOKEN_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(await problem(await peers(before))).toMatchObject({ status: 401, code: 'E_AUTH', detail: expect.stringMatching(/rotated/) });
    const jwks1 = (await (await get(`${n.url}/.well-known/jwks.json`)).json()) as typeof jwks0;
    const now = jwks1.keys[2] as { kid: string; x: string };
    expect(now.kid).not.toBe(old.kid);
    expect(now.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: now.x }));
    expect(jwks1.keys[0]).toEqual(jwks0.keys[0]);
    const after = await n.node.auth.issue('operator', 600);
    expect((await peers(after)).status).toBe(200);
    expect(listTokens(n.dir).find((t) => t.jti === decodeJwt(before).jti)?.state).toBe('key-rotated');
  });
});

describe('tokens: the key file', () => {
  it('init writes token.key.json (0600, a random seed, not derived from hub.key.json); shuniu token list shows issued tokens', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await initDataDir({ dir, name: '孝南区枢纽', level: 'county', region: '420902', port: 0 });
      const file = join(dir, TOKEN_KEY_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const seed = (JSON.parse(readFileSync(file, 'utf8')) as { tokenSeed: string }).tokenSeed;
      expect(seed).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(readFileSync(join(dir, 'hub.key.json'), 'utf8')).not.toContain(seed);
      const t = await issueToken(dir, 'operator', 3600, 'ops', 'night shift');
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((x: string) => out.push(x) > 0) as typeof process.stdout.write;
      try {
        expect(await tokenCli(['list', '--dir', dir])).toBe(0);
      } finally {
        process.stdout.write = write;
      }
      expect(out.join('')).toContain(decodeJwt(t).jti as string);
      expect(out.join('')).toContain('night shift');
      expect(out.join('')).not.toContain(t);
    } finally {
      cleanup();
    }
  });
});

describe('tokens: a missing token key file fails closed', () => {
  it('tokens are refused with 401 (not 500), the JWKS leaves the token key out, rotate-key makes a new one', async () => {
    const n = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' });
    try {
      const t = await n.node.auth.issue('operator', 600);
      rmSync(join(n.dir, TOKEN_KEY_FILE));
      expect(await problem(await get(`${n.url}/v1/peers`, t))).toMatchObject({ status: 401, code: 'E_AUTH', detail: expect.stringMatching(/no token key/) });
      const jwks = (await (await get(`${n.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual(['records', 'sealed']);
      expect(await tokenCli(['rotate-key', '--dir', n.dir])).toBe(0);
      expect((await get(`${n.url}/v1/peers`, await n.node.auth.issue('operator', 600))).status).toBe(200);
    } finally {
      await n.node.close();
    }
  });
});

describe('shuniu start: the sign-in link stays out of logs (issue 10 point 3)', () => {
  async function startCli(dir: string, extra: string[]) {
    const child = spawn(process.execPath, [CLI, 'start', '--dir', dir, '--port', '0', '--quiet', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout });
    for await (const line of rl) {
      lines.push(line);
      if (line.startsWith('console: ') || lines.length > 5) break;
    }
    child.kill('SIGTERM');
    await once(child, 'exit');
    return lines;
  }

  it('without a terminal, stdout has no token: the link goes to DIR/signin-link.txt (0600); --print-link prints it', async () => {
    const n = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' });
    const dir = n.dir;
    await n.node.close();
    const lines = await startCli(dir, []);
    const out = lines.join('\n');
    expect(out).not.toContain('#token=');
    expect(out).not.toMatch(/eyJ/);
    const file = join(dir, 'signin-link.txt');
    expect(out).toContain(`console: sign-in link in ${file}`);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=eyJ[\w.-]+\n$/);
    const printed = (await startCli(dir, ['--print-link'])).join('\n');
    expect(printed).toMatch(/console: http:\/\/127\.0\.0\.1:\d+\/#token=eyJ/);
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready, signingKeyPairFromSeed } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeyFile } from '../src/files.js';
import { type JoinRequestFields, signJoinRequest } from '../src/join.js';
import { initDataDir } from '../src/node.js';
import { eventually, needBody, post, reopen, startNode, TestHub } from './helpers.js';

/**
 * Admission as an operator runs it (issue 12 point 8, spec/node.md §7.1):
 * `shuniu admit` against a running node, join codes and the admission
 * requests they carry, and what `shuniu init` says to do next for each role.
 * Real nodes on loopback, the built CLI in child processes.
 */

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The built CLI, asynchronously (the node under test runs in this process and must keep answering). */
function shuniu(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

type Running = Awaited<ReturnType<typeof startNode>>;
const running: Running[] = [];
const fast = { overrides: { federation: { pullIntervalMs: 200, backoffBaseMs: 50, backoffMaxMs: 500, requestTimeoutMs: 2000 } } };

async function node(o: Parameters<typeof startNode>[0], opts: Parameters<typeof startNode>[1] = fast): Promise<Running> {
  const n = await startNode(o, opts);
  running.push(n);
  return n;
}

const get = async (url: string, token?: string) => fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
const hubsOf = async (n: Running) =>
  ((await (await get(`${n.url}/v1/state/hubs`, n.token)).json()) as { hubs: { id: string; admitted: boolean; level?: string; region?: string }[] }).hubs;
const admitted = async (n: Running, hub: string) => (await hubsOf(n)).find((h) => h.id === hub)?.admitted === true;

/** The body `shuniu join` sends, built from a data directory (its key and inception). */
function joinBody(dir: string, code: string, request: JoinRequestFields, n: Running, signingSeed?: Uint8Array) {
  const keys = readKeyFile(dir);
  const inception = JSON.parse(n.node.store.log(keys.hub, -1, 1)[0]?.json ?? 'null');
  return signJoinRequest(code, request, inception, signingKeyPairFromSeed(signingSeed ?? keys.signing).secretKey);
}

beforeAll(ready);
afterAll(async () => {
  for (const n of running.reverse()) await n.node.close().catch(() => {});
});

describe('join codes and admission requests (HTTP)', () => {
  it('a wrong, reused or expired code is refused; an approved request signs hub.admitted and the child records count', async () => {
    const province = await node({ name: '湖北省枢纽', level: 'province', region: '420000' });
    const wuhan = await node({ name: '武汉市枢纽', level: 'city', region: '420100', parent: province.url });
    const wuhanHub = wuhan.node.hubId;
    const request: JoinRequestFields = { parent: province.node.hubId, child: wuhanHub, level: 'city', region: '420100', name: '武汉市枢纽', url: wuhan.url };

    // Only an operator makes codes.
    expect((await post(`${province.url}/v1/join-codes`, {})).status).toBe(401);
    const made = await post(`${province.url}/v1/join-codes`, { note: '武汉' }, province.token);
    expect(made.status).toBe(201);
    const code = (await made.json()) as { id: string; code: string; state: string; expiresMs: number };
    expect(code.state).toBe('open');
    expect(code.code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // The list never shows a code's text.
    const listed = await (await get(`${province.url}/v1/join-codes`, province.token)).text();
    expect(listed).toContain(code.id);
    expect(listed).not.toContain(code.code);

    // The child's need, pushed to the province before the admission: held there, not counted.
    const need = await post(
      `${wuhan.url}/v1/needs`,
      needBody({ region: '420102', requester: { name: '武汉市金银潭医院', kind: 'hospital', region: '420102' } }),
      wuhan.token,
    );
    expect(need.status).toBe(201);
    const needId = ((await need.json()) as { id: string }).id;
    expect((await get(`${province.url}/v1/records/${needId}`, province.token)).status).toBe(404);

    const problem = async (r: Response) => ({ status: r.status, ...((await r.json()) as { code: string; detail: string }) });
    // Wrong code.
    expect(await problem(await post(`${province.url}/v1/join-requests`, joinBody(wuhan.dir, 'AAAAAAAAAAAAAAAAAAAAAA', request, wuhan)))).toMatchObject({
      status: 403,
      code: 'E_FORBIDDEN',
      detail: expect.stringMatching(/unknown join code/),
    });
    // Signed by another key: refused, and the code stays open.
    const other = await TestHub.make();
    expect(
      await problem(await post(`${province.url}/v1/join-requests`, joinBody(wuhan.dir, code.code, request, wuhan, other.hub.seeds.signing))),
    ).toMatchObject({
      status: 422,
      code: 'E_SIG',
    });
    // Addressed to another parent.
    expect(
      await problem(await post(`${province.url}/v1/join-requests`, joinBody(wuhan.dir, code.code, { ...request, parent: wuhanHub }, wuhan))),
    ).toMatchObject({ status: 400, code: 'E_ARGUMENT' });
    // Too large for the public route: refused before it is parsed.
    expect(await problem(await post(`${province.url}/v1/join-requests`, { code: code.code, pad: 'x'.repeat(20_000) }))).toMatchObject({
      status: 413,
      code: 'E_TOO_LARGE',
    });
    // Malformed.
    expect(await problem(await post(`${province.url}/v1/join-requests`, { code: code.code }))).toMatchObject({ status: 400, code: 'E_SCHEMA' });

    // The real request: pending.
    const sent = await post(`${province.url}/v1/join-requests`, joinBody(wuhan.dir, code.code, request, wuhan));
    expect(sent.status).toBe(201);
    expect(await sent.json()).toMatchObject({ id: code.id, state: 'pending', parent: province.node.hubId });
    // Single use.
    expect(await problem(await post(`${province.url}/v1/join-requests`, joinBody(wuhan.dir, code.code, request, wuhan)))).toMatchObject({
      status: 403,
      code: 'E_FORBIDDEN',
      detail: expect.stringMatching(/already used/),
    });
    const pending = (
      (await (await get(`${province.url}/v1/join-codes`, province.token)).json()) as { codes: { id: string; state: string; request: unknown }[] }
    ).codes;
    expect(pending.find((c) => c.id === code.id)).toMatchObject({
      state: 'pending',
      request: { child: wuhanHub, name: '武汉市枢纽', level: 'city', region: '420100' },
    });
    expect(await admitted(province, wuhanHub)).toBe(false);

    // Approving needs an operator; then the node signs hub.admitted and the child's need counts.
    expect((await post(`${province.url}/v1/join-requests/${code.id}/approve`, {})).status).toBe(401);
    const ok = await post(`${province.url}/v1/join-requests/${code.id}/approve`, {}, province.token);
    expect(ok.status).toBe(201);
    const approval = (await ok.json()) as { id: string; record: { type: string; body: unknown }; request: { state: string; admission: string } };
    expect(approval.record).toMatchObject({ type: 'hub.admitted', body: { child: wuhanHub, level: 'city', region: '420100' } });
    expect(approval.request).toMatchObject({ state: 'admitted', admission: approval.id });
    expect(await admitted(province, wuhanHub)).toBe(true);
    // With the request's url the child became a peer, and its held need was released.
    const peers = ((await (await get(`${province.url}/v1/peers`, province.token)).json()) as { peers: { url: string; role: string }[] }).peers;
    expect(peers).toContainEqual(expect.objectContaining({ url: wuhan.url, role: 'child' }));
    await eventually(async () => (await get(`${province.url}/v1/records/${needId}`, province.token)).status === 200);
    const needs = ((await (await get(`${province.url}/v1/state/needs`, province.token)).json()) as { needs: { id: string }[] }).needs;
    expect(needs.map((n) => n.id)).toContain(needId);
    // A decided request cannot be decided again.
    expect(await problem(await post(`${province.url}/v1/join-requests/${code.id}/refuse`, {}, province.token))).toMatchObject({
      status: 400,
      code: 'E_ARGUMENT',
    });

    // The OpenAPI document describes the routes.
    const doc = (await (await get(`${province.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [
      ['/v1/join-codes', 'post'],
      ['/v1/join-codes', 'get'],
      ['/v1/join-codes/{id}', 'delete'],
      ['/v1/join-requests', 'post'],
      ['/v1/join-requests/{id}/approve', 'post'],
      ['/v1/join-requests/{id}/refuse', 'post'],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();

    // Expired: a code past its expiry (the row's expiry moved into the past, as time would).
    const late = (await (await post(`${province.url}/v1/join-codes`, { ttlSeconds: 60 }, province.token)).json()) as { id: string; code: string };
    province.node.store.db.prepare('UPDATE join_codes SET expires_ms = ? WHERE id = ?').run(Date.now() - 1, late.id);
    expect(await problem(await post(`${province.url}/v1/join-requests`, joinBody(wuhan.dir, late.code, request, wuhan)))).toMatchObject({
      status: 403,
      code: 'E_FORBIDDEN',
      detail: expect.stringMatching(/expired/),
    });
  });

  it('a code bound to a level refuses another; out-of-scope approvals are refused; refusal is recorded; open codes are bounded', async () => {
    const province = await node(
      { name: '湖北省枢纽', level: 'province', region: '420000' },
      { ...fast, overrides: { ...fast.overrides, limits: { joinCodes: 3 } } },
    );
    const county = await node({ name: '江岸区枢纽', level: 'county', region: '420102', parent: province.url });
    const req: JoinRequestFields = { parent: province.node.hubId, child: county.node.hubId, level: 'county', region: '420102', name: '江岸区枢纽' };
    const code = async (body: unknown) => (await (await post(`${province.url}/v1/join-codes`, body, province.token)).json()) as { id: string; code: string };

    const forCity = await code({ level: 'city', region: '420100' });
    const r1 = await post(`${province.url}/v1/join-requests`, joinBody(county.dir, forCity.code, req, county));
    expect(r1.status).toBe(403);
    expect(((await r1.json()) as { detail: string }).detail).toMatch(/level city/);

    // A request for a region outside Hubei: the province's admission would not count, so approval is refused.
    const open = await code({});
    expect((await post(`${province.url}/v1/join-requests`, joinBody(county.dir, open.code, { ...req, region: '440305' }, county))).status).toBe(201);
    const bad = await post(`${province.url}/v1/join-requests/${open.id}/approve`, {}, province.token);
    expect(bad.status).toBe(400);
    expect((await bad.json()) as { code: string; detail: string }).toMatchObject({ code: 'E_ARGUMENT', detail: expect.stringMatching(/would not count/) });
    const refused = await post(`${province.url}/v1/join-requests/${open.id}/refuse`, { reason: '区划不符' }, province.token);
    expect(refused.status).toBe(200);
    expect(((await refused.json()) as { request: unknown }).request).toMatchObject({ state: 'refused', reason: '区划不符' });
    expect(await admitted(province, county.node.hubId)).toBe(false);

    // A city not admitted yet may approve a county in its region (the admission counts once its own does), never a national hub.
    const city = await node({ name: '武汉市枢纽', level: 'city', region: '420100', parent: province.url });
    const cityCode = async () => (await (await post(`${city.url}/v1/join-codes`, {}, city.token)).json()) as { id: string; code: string };
    const toCity = { ...req, parent: city.node.hubId };
    const c1 = await cityCode();
    expect((await post(`${city.url}/v1/join-requests`, joinBody(county.dir, c1.code, { ...toCity, level: 'national' }, county))).status).toBe(201);
    const national = await post(`${city.url}/v1/join-requests/${c1.id}/approve`, {}, city.token);
    expect(national.status).toBe(400);
    expect(((await national.json()) as { detail: string }).detail).toMatch(/only a root/);
    const c2 = await cityCode();
    expect((await post(`${city.url}/v1/join-requests`, joinBody(county.dir, c2.code, toCity, county))).status).toBe(201);
    expect((await post(`${city.url}/v1/join-requests/${c2.id}/approve`, {}, city.token)).status).toBe(201);

    // limits.joinCodes = 3: forCity (open) + two more; a fourth is refused until one is cancelled.
    await code({});
    const third = await code({});
    const over = await post(`${province.url}/v1/join-codes`, {}, province.token);
    expect(over.status).toBe(429);
    expect(((await over.json()) as { code: string }).code).toBe('E_RATE_LIMITED');
    expect(
      (await fetch(`${province.url}/v1/join-codes/${third.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${province.token}` } })).status,
    ).toBe(204);
    expect((await post(`${province.url}/v1/join-codes`, {}, province.token)).status).toBe(201);
  });
});

describe('shuniu admit and shuniu join (CLI against a running node)', () => {
  it('admits and revokes by hub id, and runs the join-code flow: code, join, requests, approve', async () => {
    const province = await node({ name: '湖北省枢纽', level: 'province', region: '420000' });
    const env = { SHUNIU_TOKEN: province.token };
    const city = await node({ name: '武汉市枢纽', level: 'city', region: '420100', parent: province.url });

    const a = await shuniu(['admit', '--child', city.node.hubId, '--level', 'city', '--region', '420100', '--url', province.url, '--token', province.token]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toMatch(new RegExp(`admitted ${city.node.hubId} at level city, region 420100 \\(武汉市\\): hub.admitted [A-Za-z0-9_-]{43}`));
    expect(await admitted(province, city.node.hubId)).toBe(true);
    const r = await shuniu(['admit', '--revoke', '--child', city.node.hubId, '--reason', 'test', '--url', province.url], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('hub.admission.revoked');
    expect(await admitted(province, city.node.hubId)).toBe(false);
    // Without a token: the node's error, with its code.
    const anon = await shuniu(['admit', '--child', city.node.hubId, '--level', 'city', '--region', '420100', '--url', province.url]);
    expect(anon.status).toBe(1);
    expect(anon.stderr).toMatch(/E_AUTH/);

    // The join-code flow: the foundation, at level national, joins the root province.
    const fundDir = join(mkdtempSync(join(tmpdir(), 'shuniu-fund-')), 'fund');
    const { hubId: fund } = await initDataDir({ dir: fundDir, name: '壹基金', level: 'national', region: '440300', follow: [province.url], port: 0 });
    const c = await shuniu(['admit', 'code', '--level', 'national', '--ttl', '2h', '--note', '壹基金', '--url', province.url], env);
    expect(c.status, c.stderr).toBe(0);
    const theCode = c.stdout.trim();
    expect(c.stderr).toContain(`shuniu join --dir DIR --parent ${province.url} --code ${theCode}`);
    const wrong = await shuniu(['join', '--dir', fundDir, '--parent', province.url, '--code', 'nosuchcodenosuchcode00']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/E_FORBIDDEN .*unknown join code/);
    const j = await shuniu(['join', '--dir', fundDir, '--parent', province.url, '--code', theCode]);
    expect(j.status, j.stderr).toBe(0);
    const requestId = j.stdout.trim();
    expect(j.stderr).toContain(`shuniu admit --request ${requestId}`);
    const again = await shuniu(['join', '--dir', fundDir, '--parent', province.url, '--code', theCode]);
    expect(again.stderr).toMatch(/already used/);
    const list = await shuniu(['admit', 'requests', '--url', province.url], env);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${requestId}\\s+pending\\s+壹基金\\s+${fund}\\s+national 440300`));
    const ok = await shuniu(['admit', '--request', requestId, '--url', province.url], env);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`admitted 壹基金 ${fund} at level national, region 440300`);
    // The foundation's node starts: its records reach the province, which now counts them, at level national.
    const fundNode = await reopen(fundDir, fast);
    running.push(fundNode);
    const offer = await post(
      `${fundNode.url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 100,
        unit: { name: 'box', base: 'piece', size: 50 },
        valueFen: 500_000,
        donor: { name: '壹基金', kind: 'foundation' },
        intent: { regions: ['42'] },
        region: '440300',
      },
      fundNode.token,
    );
    expect(offer.status).toBe(201);
    const offerId = ((await offer.json()) as { id: string }).id;
    await eventually(async () => (await get(`${province.url}/v1/records/${offerId}`, province.token)).status === 200);
    expect((await hubsOf(province)).find((h) => h.id === fund)).toMatchObject({ admitted: true, level: 'national', region: '440300' });
    const offers = ((await (await get(`${province.url}/v1/state/offers`, province.token)).json()) as { offers: { id: string }[] }).offers;
    expect(offers.map((o) => o.id)).toContain(offerId);
  });
});

describe('shuniu init: the next step for each role', () => {
  it('root, child, follower and foundation each get their own exact next step', async () => {
    const province = await node({ name: '湖北省枢纽', level: 'province', region: '420000' });
    const base = mkdtempSync(join(tmpdir(), 'shuniu-init-'));
    const init = (name: string, extra: string[], level = 'county', region = '420102') =>
      shuniu(['init', '--dir', join(base, name), '--name', name, '--level', level, '--region', region, '--port', '0', ...extra]);

    const root = await init('root', [], 'province', '430000');
    expect(root.status, root.stderr).toBe(0);
    expect(root.stderr).toContain('role: root');
    expect(root.stderr).toContain('there is no one to ask for admission');
    expect(root.stderr).toContain('shuniu admit code');
    expect(root.stderr).not.toMatch(/ask the parent/);

    const child = await init('child', ['--parent', province.url]);
    expect(child.status, child.stderr).toBe(0);
    const childHub = child.stdout.trim();
    expect(child.stderr).toContain(`role: child of ${province.url}`);
    expect(child.stderr).toContain(`shuniu join --dir ${join(base, 'child')} --parent ${province.url} --code CODE`);
    expect(child.stderr).toContain(`shuniu admit --child ${childHub} --level county --region 420102`);

    const follower = await init('follower', ['--follow', province.url]);
    expect(follower.status, follower.stderr).toBe(0);
    expect(follower.stderr).toContain('role: follower');
    expect(follower.stderr).toContain('a subscriber only');
    expect(follower.stderr).toContain('shuniu token --scope subscriber');

    const fund = await init('fund', ['--follow', province.url], 'national', '440300');
    expect(fund.status, fund.stderr).toBe(0);
    expect(fund.stderr).toContain('role: national foundation');
    expect(fund.stderr).toContain('only a root (the province hub, not a city or county) can admit a national hub');
    expect(fund.stderr).toContain('shuniu admit code --level national');
    expect(fund.stderr).toContain(`shuniu join --dir ${join(base, 'fund')} --parent ${province.url} --code CODE`);
  });
});

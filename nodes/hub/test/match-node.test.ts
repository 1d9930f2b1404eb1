import { readdirSync, readFileSync } from 'node:fs';
import type { Proposal } from '@shuniu/match';
import type { ResolvedState } from '@shuniu/resolve';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { large } from '../../../bench/match-scenario.js';
import type { HubNode } from '../src/node.js';
import { defaultStateFactory, type StateEngine, type StateFactory } from '../src/state.js';
import { eventually, needBody, post, startNode } from './helpers.js';

// Issue 11 point 5: proposals need a token, are planned in a worker within a time budget, cached per state version, paged.

interface Page {
  version: string;
  total: number;
  offset: number;
  count: number;
  next: number | null;
  proposals: Proposal[];
}

const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

const offerBody = (quantity: number) => ({
  kind: 'goods',
  item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
  quantity,
  unit: { name: 'piece', base: 'piece', size: 1 },
  valueFen: quantity * 100,
  donor: { name: '湖北枢纽', kind: 'foundation' },
  intent: {},
  region: '420902',
});
const need = (region: string, quantity: number) =>
  needBody({
    region,
    quantity,
    unit: { name: 'piece', base: 'piece', size: 1 },
    neededBy: '2030-01-30T00:00:00Z',
    requester: { name: '医院', kind: 'hospital', region },
  });

/** A province node with limits.matchStaleMs set. */
const province = (matchStaleMs: number) => startNode({ name: '湖北枢纽', level: 'province', region: '420000' }, { overrides: { limits: { matchStaleMs } } });

describe('GET /v1/match/proposals on a running node', () => {
  let node: HubNode;
  let url: string;
  let operator: string;
  let subscriber: string;
  beforeAll(async () => {
    // matchStaleMs 0: every state version is planned when asked (the held plan of an earlier version is never served).
    ({ node, url, token: operator } = await province(0));
    subscriber = await node.auth.issue('subscriber', 3600);
    for (const [region, q] of [
      ['420102', 3000],
      ['421102', 2000],
      ['420902', 1000],
    ] as const)
      expect((await post(`${url}/v1/needs`, need(region, q), operator)).status).toBe(201);
    expect((await post(`${url}/v1/offers`, offerBody(3000), operator)).status).toBe(201);
  });
  afterAll(async () => {
    await node.close();
  });
  const proposals = (q = '', token?: string, headers: Record<string, string> = {}) => get(`${url}/v1/match/proposals${q}`, token, headers);

  it('refuses anonymous readers even though reads are public (401 E_AUTH)', async () => {
    expect(node.config.publicRead).toBe(true);
    expect((await fetch(`${url}/v1/state/needs`)).status).toBe(200);
    const res = await proposals();
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('E_AUTH');
  });

  it('answers a subscriber or an operator with a page of the plan, then serves the same version from cache (ETag, 304)', async () => {
    const before = { ...(node.matchService?.stats ?? { plans: -1 }) };
    const res = await proposals('', subscriber);
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"match-.+"$/);
    const page = (await res.json()) as Page;
    expect(page.total).toBe(3);
    expect(page.next).toBeNull();
    // 3,000 pieces over 6,000 critical: every hospital to 50 %.
    expect(page.proposals.map((p) => p.quantity).sort((a, b) => a - b)).toEqual([500, 1000, 1500]);
    const stats = node.matchService?.stats as { plans: number; pagesCached: number };
    expect(stats.plans).toBe((before.plans as number) + 1);

    const again = await proposals('', operator);
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(etag);
    expect(((await again.json()) as Page).proposals).toEqual(page.proposals);
    expect(stats.plans).toBe((before.plans as number) + 1);
    expect(stats.pagesCached).toBe((before as { pagesCached: number }).pagesCached + 1);

    const notModified = await proposals('', subscriber, { 'if-none-match': etag as string });
    expect(notModified.status).toBe(304);
    // Another filter of the same version: a new page, the same plan.
    const wuhan = (await (await proposals('?region=4201', subscriber)).json()) as Page;
    expect(wuhan.proposals.map((p) => p.region)).toEqual(['420102']);
    expect(stats.plans).toBe((before.plans as number) + 1);
  });

  it.skipIf(process.platform !== 'linux')('plans in a worker thread at a lower priority (nice 10) than the main thread', () => {
    // Each thread's nice value: field 19 of /proc/self/task/<tid>/stat (after the command's closing parenthesis, the 17th).
    const nice = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
    const threads = readdirSync('/proc/self/task');
    expect(nice(String(process.pid))).toBe(0);
    // A plan was made above: its worker is alive, lowered.
    expect(threads.filter((t) => nice(t) === 10).length).toBeGreaterThanOrEqual(1);
  });

  it('tells an operator what the process and the matching worker hold (GET /v1/status memory), and no one else', async () => {
    const mine = (await (await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${operator}` } })).json()) as {
      memory: { rssMb: number; heapUsedMb: number; externalMb: number; matchWorkerHeapMb: number | null };
    };
    expect(mine.memory.rssMb).toBeGreaterThan(mine.memory.heapUsedMb);
    expect(mine.memory.heapUsedMb).toBeGreaterThan(0);
    // A plan was made above: the worker's heap after it.
    expect(mine.memory.matchWorkerHeapMb).toBeGreaterThan(0);
    expect(mine.memory.matchWorkerHeapMb).toBe(node.matchService?.stats.lastPlanHeapMb);
    const theirs = (await (await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${subscriber}` } })).json()) as object;
    expect(theirs).not.toHaveProperty('memory');
    expect(await (await fetch(`${url}/v1/status`)).json()).not.toHaveProperty('memory');
  });

  it('pages with limit and offset, next pointing at the following page', async () => {
    const first = (await (await proposals('?limit=2', subscriber)).json()) as Page;
    expect(first.count).toBe(2);
    expect(first.next).toBe(2);
    const second = (await (await proposals(`?limit=2&offset=${first.next}`, subscriber)).json()) as Page;
    expect(second.count).toBe(1);
    expect(second.next).toBeNull();
    const all = (await (await proposals('', subscriber)).json()) as Page;
    expect([...first.proposals, ...second.proposals]).toEqual(all.proposals);
    expect((await proposals('?limit=5001', subscriber)).status).toBe(400);
    expect((await proposals('?limit=0', subscriber)).status).toBe(400);
  });

  it('a state change is a new version: new ETag, a new plan', async () => {
    const res = await proposals('', subscriber);
    const etag = res.headers.get('etag') as string;
    const plans = (node.matchService?.stats.plans as number) ?? 0;
    expect((await post(`${url}/v1/needs`, need('420606', 1000), operator)).status).toBe(201);
    const after = await proposals('', subscriber, { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(((await after.json()) as Page).total).toBe(4);
    expect(node.matchService?.stats.plans).toBe(plans + 1);
  });
});

describe('under a stream of writes (limits.matchStaleMs)', () => {
  let node: HubNode;
  let url: string;
  let operator: string;
  let subscriber: string;
  beforeAll(async () => {
    ({ node, url, token: operator } = await province(600_000));
    expect((await post(`${url}/v1/needs`, need('420102', 3000), operator)).status).toBe(201);
    expect((await post(`${url}/v1/offers`, offerBody(1000), operator)).status).toBe(201);
    subscriber = await node.auth.issue('subscriber', 3600);
  });
  afterAll(async () => {
    await node.close();
  });

  it('serves a subscriber the plan held, labelled with its own version, instead of planning every new version; an operator the current one', async () => {
    const first = await get(`${url}/v1/match/proposals`, subscriber);
    expect(first.status).toBe(200);
    const page = (await first.json()) as Page;
    const plans = node.matchService?.stats.plans as number;
    expect((await post(`${url}/v1/needs`, need('420902', 500), operator)).status).toBe(201);
    const hash = ((await (await fetch(`${url}/v1/state/hash`)).json()) as { stateHash: string }).stateHash;
    expect(hash).not.toBe(page.version);
    const again = await get(`${url}/v1/match/proposals`, subscriber);
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(`"match-${page.version}"`);
    const served = (await again.json()) as Page;
    expect(served.version).toBe(page.version);
    expect(served.total).toBe(1);
    expect(node.matchService?.stats.plans).toBe(plans);
    // An operator signs what it reads: never a plan of an earlier version.
    const current = await get(`${url}/v1/match/proposals`, operator);
    expect(current.headers.get('etag')).toBe(`"match-${hash}"`);
    expect(((await current.json()) as Page).total).toBe(2);
    expect(node.matchService?.stats.plans).toBe(plans + 1);
  });
});

describe('the worker is sent what changed, and plans as if sent everything', () => {
  let node: HubNode;
  let url: string;
  let operator: string;
  beforeAll(async () => {
    ({ node, url, token: operator } = await province(0));
  });
  afterAll(async () => {
    await node.close();
  });

  it('after each write the plan equals a fresh plan of the whole state, and only the changed entries travel', async () => {
    const { plan } = await import('@shuniu/match');
    const regions = ['420102', '421102', '420902', '420606'];
    for (let i = 0; i < 8; i++) {
      const w =
        i % 3 === 2
          ? await post(`${url}/v1/offers`, offerBody(700 + i * 100), operator)
          : await post(`${url}/v1/needs`, need(regions[i % 4] as string, 400 + i * 50), operator);
      expect(w.status).toBe(201);
      const res = await get(`${url}/v1/match/proposals?limit=5000`, operator);
      expect(res.status).toBe(200);
      const served = (await res.json()) as Page;
      const fresh = plan(node.ingestor.engine.resolved());
      const all = Array.from(fresh.select({}), (r) => fresh.proposal(r));
      expect(served.proposals).toEqual(JSON.parse(JSON.stringify(all)));
      // One write changes a few entries (the new need or offer, the views it touches), never the whole state again.
      if (i > 0) expect(node.matchService?.stats.lastSent).toBeLessThanOrEqual(3);
    }
  });
});

/** The node's own state with a large generated one laid over it for the engine (the records stay small). */
function heavy(extra: ResolvedState): StateFactory {
  return (roots, snapshot) => {
    const inner = defaultStateFactory(roots, snapshot);
    // Every other method is the real engine's (through the prototype).
    const engine = Object.create(inner) as StateEngine;
    engine.resolved = () => {
      const s = inner.resolved();
      Object.assign(extra.needs, s.needs);
      Object.assign(extra.offers, s.offers);
      return extra;
    };
    engine.clock = () => Math.max(extra.clock, inner.clock());
    engine.entries = ((name: 'needs' | 'offers' | 'conflicts') => [...Object.entries(extra[name]), ...inner.entries(name)]) as StateEngine['entries'];
    return engine;
  };
}

describe('a plan over its time budget', () => {
  let node: HubNode;
  let url: string;
  let operator: string;
  beforeAll(async () => {
    ({
      node,
      url,
      token: operator,
    } = await startNode(
      { name: '湖北枢纽', level: 'province', region: '420000' },
      { state: heavy(large(100_000, 5_000, 11)), overrides: { limits: { matchBudgetMs: 3000 } } },
    ));
  });
  afterAll(async () => {
    await node.close();
  });

  it('answers 503 with Retry-After while the node keeps answering other requests', async () => {
    const order: string[] = [];
    const slow = get(`${url}/v1/match/proposals`, operator).then(async (r) => {
      order.push('proposals');
      return r;
    });
    await eventually(() => node.matchService?.planning === true, 200, 5);
    const h = await fetch(`${url}/v1/state/hash`);
    order.push('hash');
    const w = await post(`${url}/v1/needs`, need('420102', 100), operator);
    order.push('write');
    const res = await slow;
    expect(h.status).toBe(200);
    expect(w.status).toBe(201);
    // The hash was answered while the plan was still being made (an operator write too, as fast as the shared machine allows).
    expect(order.indexOf('hash')).toBeLessThan(order.indexOf('proposals'));
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const p = (await res.json()) as { status: number; code: string; detail: string };
    expect(p.status).toBe(503);
    expect(p.code).toBe('E_BUSY');
    expect(p.detail).toContain('limits.matchBudgetMs');
    expect(node.matchService?.stats.overBudget).toBe(1);
  });

  it('the same version is not planned again: 503 at once until the state changes', async () => {
    const first = await get(`${url}/v1/match/proposals`, operator);
    expect(first.status).toBe(503);
    const n = node.matchService?.stats.overBudget as number;
    const again = await get(`${url}/v1/match/proposals?region=42`, operator);
    expect(again.status).toBe(503);
    expect(node.matchService?.stats.overBudget).toBe(n);
  });
});

describe('the matching worker holds one plan', () => {
  it('a page asked of a plan a newer one replaced is answered `gone` (the service then pages the newer plan)', async () => {
    const { Worker } = await import('node:worker_threads');
    const { compiledWorker } = await import('../src/worker-file.js');
    const [file, opts] = compiledWorker('match-worker', new URL('../src/match-service.ts', import.meta.url).href);
    const w = new Worker(file, opts);
    const replies: Record<string, unknown>[] = [];
    const next = () => new Promise<Record<string, unknown>>((res) => w.once('message', res));
    try {
      const s = large(300, 20, 5);
      w.postMessage({ t: 'upsert', coll: 'needs', json: JSON.stringify(Object.entries(s.needs)) });
      w.postMessage({ t: 'upsert', coll: 'offers', json: JSON.stringify(Object.entries(s.offers)) });
      const page = (id: number, job: number) => ({ t: 'page', id, job, filters: {}, offset: 0, limit: 5, maxBytes: 1 << 20 });
      for (const m of [{ t: 'plan', id: 1, job: 1, clock: s.clock }, page(2, 1), { t: 'plan', id: 3, job: 2, clock: s.clock }, page(4, 1), page(5, 2)]) {
        w.postMessage(m);
        replies.push(await next());
      }
    } finally {
      await w.terminate();
    }
    expect(replies.map((r) => r.t)).toEqual(['planned', 'page', 'planned', 'gone', 'page']);
    expect(replies[3]).toMatchObject({ id: 4, job: 1 });
    // The same state planned twice: the newer plan's page is the one the replaced plan gave.
    expect(replies[4]?.body).toBe(replies[1]?.body);
    expect((replies[1]?.count as number) > 0).toBe(true);
  });
});

// Outbound webhooks (issue 19 point 3, spec/node.md §15): a real node and a local receiver on loopback.
// The four events reach WeCom-, DingTalk-, Feishu- and JSON-shaped hooks, signed as each platform
// checks; a failed delivery is retried with backoff; a 4xx is not; the log shows it all; nothing private.
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatTimestamp, recordId } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, needBody, post, startNode, TestHub } from './helpers.js';

const SECRET = 'a-robot-secret-0123456789';
const PHONE = '13912345678';
const CONTACT = '李护士长';
const DONOR = '张三丰';

interface Hit {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const hits: Hit[] = [];
let jsonFailures = 1;

type Running = Awaited<ReturnType<typeof startNode>>;
let p: Running;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      hits.push({ path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (u.pathname === '/gone') return void res.writeHead(404).end('no such robot');
      if (u.pathname === '/json' && jsonFailures > 0) {
        jsonFailures--;
        return void res.writeHead(500).end('try later');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(u.pathname === '/feishu' ? '{"code":0,"msg":"success"}' : u.pathname === '/json' ? '{}' : '{"errcode":0,"errmsg":"ok"}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  p = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
});

afterAll(async () => {
  await p?.node.close();
  server?.close();
});

const get = async (path: string) => (await fetch(`${p.url}${path}`, { headers: { authorization: `Bearer ${p.token}` } })).json();
const created = async (path: string, body: unknown) => {
  const res = await post(`${p.url}${path}`, body, p.token);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as { id: string; webhook: { id: string } };
};
const at = (ms: number) => formatTimestamp(Math.floor(ms / 1000) * 1000);
const events = (path: string) => hits.filter((h) => h.path === path);

describe('outbound webhooks', () => {
  it('refuses bad webhooks with typed errors, and needs an operator', async () => {
    const bad = async (body: unknown) => {
      const r = await post(`${p.url}/v1/webhooks`, body, p.token);
      return { status: r.status, code: ((await r.json()) as { code: string }).code };
    };
    expect(await bad({ url: `${base}/json`, format: 'json', events: ['proposal'] })).toEqual({ status: 400, code: 'E_SCHEMA' });
    expect(await bad({ url: 'ftp://example.org/x', format: 'wecom', events: ['proposal'] })).toEqual({ status: 400, code: 'E_SCHEMA' });
    expect(await bad({ url: `${base}/wecom`, format: 'slack', events: ['proposal'] })).toEqual({ status: 400, code: 'E_SCHEMA' });
    expect(await bad({ url: `${base}/wecom`, format: 'wecom', events: [] })).toEqual({ status: 400, code: 'E_SCHEMA' });
    expect((await fetch(`${p.url}/v1/webhooks`)).status).toBe(401);
    // Documented in the node's OpenAPI document with the bundle and export routes (spec/node.md §12).
    const paths = Object.keys(((await (await fetch(`${p.url}/v1/openapi.json`)).json()) as { paths: object }).paths);
    for (const path of [
      '/v1/webhooks',
      '/v1/webhooks/{id}',
      '/v1/webhooks/{id}/test',
      '/v1/webhooks/log',
      '/v1/bundle/export',
      '/v1/bundle/import',
      '/v1/export/hxl/{kind}',
      '/v1/export/epcis',
    ])
      expect(paths).toContain(path);
    expect((await fetch(`${p.url}/v1/webhooks/log`, { headers: { authorization: `Bearer ${await p.node.auth.issue('subscriber', 60)}` } })).status).toBe(403);
  });

  it('delivers the four events in each platform’s shape, signed, retried after a failure, never with a private field', async () => {
    const all = ['need.critical', 'proposal', 'shipment.overdue', 'receipt.rejections'];
    await created('/v1/webhooks', { url: `${base}/wecom?key=k1`, format: 'wecom', events: all, name: '企业微信群' });
    await created('/v1/webhooks', { url: `${base}/dingtalk?access_token=t1`, format: 'dingtalk', secret: SECRET, events: all });
    await created('/v1/webhooks', { url: `${base}/feishu`, format: 'feishu', secret: SECRET, events: all });
    await created('/v1/webhooks', { url: `${base}/json`, format: 'json', secret: SECRET, events: all, attempts: 3, backoffMs: 100 });
    const gone = await created('/v1/webhooks', { url: `${base}/gone`, format: 'wecom', events: ['need.critical'], attempts: 5, backoffMs: 100 });
    const listed = (await get('/v1/webhooks')) as { webhooks: Record<string, unknown>[] };
    expect(listed.webhooks).toHaveLength(5);
    expect(JSON.stringify(listed)).not.toContain(SECRET);

    // A county hub in the province: a critical need (in the region) and a routine one (no event).
    const c = await TestHub.make();
    await created('/v1/admissions', { child: c.id, level: 'county', region: '420902' });
    const soon = at(Date.now() + 7 * 86_400_000);
    const critical = c.sign('need.posted', needBody({ quantity: 100, urgency: 'critical', neededBy: soon }));
    const routine = c.sign('need.posted', needBody({ quantity: 3, urgency: 'low', neededBy: soon }));
    expect((await post(`${p.url}/v1/records`, c.records)).status).toBe(200);
    // The province's own critical need with private fields (sealed): announced, the private part never.
    const sealed = await created('/v1/needs', {
      ...needBody({ quantity: 10, region: '420102', requester: { name: '江岸区社区', kind: 'community', region: '420102' } }),
      private: { contact: { name: CONTACT, phone: PHONE } },
    });
    // The province's offer (an unnamed individual donor): the matching engine proposes it for the county's need.
    const offer = await created('/v1/offers', {
      kind: 'goods',
      item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
      quantity: 100,
      unit: { name: 'box', base: 'piece', size: 50 },
      valueFen: 100_000,
      donor: { name: DONOR, kind: 'individual' },
      intent: {},
      region: '420100',
    });
    // A shipment to the county expected an hour ago and not received: overdue.
    const late = await created('/v1/handoffs', {
      shipment: 'HB-LATE-1',
      from: p.node.hubId,
      to: c.id,
      lines: [{ item: { code: 'PPE.GLOVE.NITRILE', name: '丁腈手套' }, quantity: 10, unit: { name: 'box', base: 'piece', size: 100 } }],
      expectedArrival: at(Date.now() - 3_600_000),
      allocations: [],
    });
    // Another one, received with one box rejected as damaged.
    const shipped = await created('/v1/handoffs', {
      shipment: 'HB-OK-2',
      from: p.node.hubId,
      to: c.id,
      lines: [{ item: { code: 'PPE.GLOVE.NITRILE', name: '丁腈手套' }, quantity: 10, unit: { name: 'box', base: 'piece', size: 100 } }],
      expectedArrival: at(Date.now() + 86_400_000),
      allocations: [],
    });
    const receipt = c.sign('custody.receipt', {
      handoff: shipped.id,
      lines: [{ line: 0, accepted: 9, rejected: 1, missing: 0, rejectReason: 'damaged' }],
      received: at(Date.now()),
    });
    expect((await post(`${p.url}/v1/records`, [receipt])).status).toBe(200);

    const want = (path: string) =>
      ['need.critical', 'proposal', 'shipment.overdue', 'receipt.rejections'].every((e) =>
        events(path).some((h) => (path === '/json' ? (JSON.parse(h.body) as { event: string }).event === e : true)),
      ) && events(path).length >= 5;
    await eventually(() => ['/wecom', '/dingtalk', '/feishu', '/json'].every(want), 300, 100);
    const text = (path: string) => events(path).map((h) => h.body);

    // What each says: the critical needs (both), the proposal for the offer, the overdue and the rejected shipments.
    for (const path of ['/wecom', '/dingtalk', '/feishu']) {
      const all = text(path).join('\n');
      expect(all).toContain(recordId(critical));
      expect(all).toContain(sealed.id);
      expect(all).not.toContain(recordId(routine));
      expect(all).toContain('HB-LATE-1');
      expect(all).toContain(recordId(receipt));
      expect(all).toContain('拒收 1');
    }
    expect(text('/json').some((b) => (JSON.parse(b) as { data: { offer?: string } }).data.offer === offer.id)).toBe(true);
    expect(text('/json').some((b) => (JSON.parse(b) as { data: { shipment?: string } }).data.shipment === late.id)).toBe(true);

    // Shapes and signatures, as the platforms check them.
    for (const h of events('/wecom')) expect(JSON.parse(h.body)).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.any(String) } });
    for (const h of events('/dingtalk')) {
      expect(JSON.parse(h.body)).toMatchObject({ msgtype: 'markdown', markdown: { title: expect.any(String), text: expect.any(String) } });
      const ts = h.query.get('timestamp') as string;
      expect(h.query.get('access_token')).toBe('t1');
      expect(h.query.get('sign')).toBe(createHmac('sha256', SECRET).update(`${ts}\n${SECRET}`).digest('base64'));
    }
    for (const h of events('/feishu')) {
      const b = JSON.parse(h.body) as { timestamp: string; sign: string; msg_type: string; content: { text: string } };
      expect(b.msg_type).toBe('text');
      expect(b.sign).toBe(createHmac('sha256', `${b.timestamp}\n${SECRET}`).update('').digest('base64'));
    }
    for (const h of events('/json')) {
      const id = h.headers['webhook-id'] as string;
      const ts = h.headers['webhook-timestamp'] as string;
      expect(h.headers['webhook-signature']).toBe(`v1,${createHmac('sha256', SECRET).update(`${id}.${ts}.${h.body}`).digest('base64')}`);
    }
    // The first JSON delivery failed (500) and was sent again with the same id.
    const ids = events('/json').map((h) => h.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length - 1);

    // Nothing private, ever.
    for (const h of hits) {
      expect(h.body).not.toContain(PHONE);
      expect(h.body).not.toContain(CONTACT);
      expect(h.body).not.toContain(DONOR);
      expect(h.body).not.toContain('sealed');
    }

    // The log: every delivery delivered, the retried one after two attempts; the 404 robot failed once, not retried.
    await eventually(async () => ((await get('/v1/webhooks/log')) as { deliveries: { state: string }[] }).deliveries.every((d) => d.state !== 'pending'));
    const log = ((await get('/v1/webhooks/log')) as { deliveries: { hook: string; state: string; attempts: number; status?: number }[] }).deliveries;
    expect(log.filter((d) => d.hook !== gone.webhook.id).every((d) => d.state === 'delivered')).toBe(true);
    expect(log.some((d) => d.attempts === 2 && d.state === 'delivered')).toBe(true);
    const toGone = log.filter((d) => d.hook === gone.webhook.id);
    expect(toGone.length).toBeGreaterThan(0);
    expect(toGone.every((d) => d.state === 'failed' && d.attempts === 1 && d.status === 404)).toBe(true);
    // Each occurrence once per hook: the critical need went to the WeCom robot once.
    expect(events('/wecom').filter((h) => h.body.includes(recordId(critical)))).toHaveLength(1);
  });

  it('a webhook is removed, and a test message goes through the same queue', async () => {
    const { webhook } = await created('/v1/webhooks', { url: `${base}/wecom?key=t`, format: 'wecom', events: ['proposal'] });
    const t = await post(`${p.url}/v1/webhooks/${webhook.id}/test`, {}, p.token);
    expect(t.status).toBe(202);
    await eventually(() => hits.some((h) => h.query.get('key') === 't' && h.body.includes('测试消息')));
    const del = await fetch(`${p.url}/v1/webhooks/${webhook.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${p.token}` } });
    expect(del.status).toBe(204);
    const again = await fetch(`${p.url}/v1/webhooks/${webhook.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${p.token}` } });
    expect(again.status).toBe(404);
  });
});

// One node's worth of relief work for the export tests (issue 19): a province node P (root) and a
// county hub C (a TestHub admitted by P, its records pushed to P). C posts a need; P posts an offer
// from an individual donor who did not agree to be named and a need with private fields (sealed);
// P allocates its offer to C's need, C accepts, P ships, C receives (one box rejected as damaged)
// and delivers to the hospital.
import { formatTimestamp, recordId } from '@shuniu/protocol';
import { needBody, post, startNode, TestHub } from '../../nodes/hub/test/helpers.js';

export const PRIVATE_PHONE = '13912345678';
export const PRIVATE_NAME = '王医生';
export const DONOR_NAME = '张三丰';

export interface Scenario {
  p: Awaited<ReturnType<typeof startNode>>;
  c: TestHub;
  need: string;
  privateNeed: string;
  offer: string;
  allocation: string;
  handoff: string;
  receipt: string;
  delivery: string;
}

async function created(url: string, token: string, body: unknown): Promise<string> {
  const res = await post(url, body, token);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`${url}: ${res.status} ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

async function push(url: string, records: unknown[]): Promise<void> {
  const res = await post(`${url}/v1/records`, records);
  const out = (await res.json()) as { summary: Record<string, number> };
  if ((out.summary.accepted ?? 0) + (out.summary.duplicate ?? 0) !== records.length) throw new Error(`push: ${JSON.stringify(out)}`);
}

const at = (ms: number) => formatTimestamp(Math.floor(ms / 1000) * 1000);

export async function scenario(): Promise<Scenario> {
  const p = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
  const c = await TestHub.make();
  await created(`${p.url}/v1/admissions`, p.token, { child: c.id, level: 'county', region: '420902' });
  c.sign('hub.profile', { name: { zh: '孝南区枢纽' }, level: 'county', region: '420902', endpoints: ['http://127.0.0.1:9/'] });
  const needRec = c.sign('need.posted', needBody({ quantity: 400 }));
  await push(p.url, c.records);
  const need = recordId(needRec);
  const privateNeed = await created(`${p.url}/v1/needs`, p.token, {
    ...needBody({ quantity: 10, region: '420102', requester: { name: '江岸区社区', kind: 'community', region: '420102' } }),
    private: { contact: { name: PRIVATE_NAME, phone: PRIVATE_PHONE } },
  });
  const offer = await created(`${p.url}/v1/offers`, p.token, {
    kind: 'goods',
    item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
    quantity: 400,
    unit: { name: 'box', base: 'piece', size: 50 },
    valueFen: 5_000_000,
    donor: { name: DONOR_NAME, kind: 'individual' },
    intent: {},
    region: '420100',
  });
  const allocation = await created(`${p.url}/v1/allocations`, p.token, { offer, need, quantity: 20_000 });
  c.sign('allocation.accepted', { allocation });
  const handoff = await created(`${p.url}/v1/handoffs`, p.token, {
    shipment: 'HB-2020-0001',
    from: p.node.hubId,
    to: c.id,
    lines: [{ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 400, unit: { name: 'box', base: 'piece', size: 50 }, lot: 'L2001' }],
    carrier: { name: '顺丰', kind: 'third_party' },
    expectedArrival: at(Date.now() + 86_400_000),
    allocations: [allocation],
  });
  const receiptRec = c.sign('custody.receipt', {
    handoff,
    lines: [{ line: 0, accepted: 399, rejected: 1, missing: 0, rejectReason: 'damaged' }],
    received: at(Date.now() + 60_000),
  });
  const deliveryRec = c.sign('custody.delivered', {
    need,
    handoffs: [handoff],
    lines: [{ item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' }, quantity: 399, unit: { name: 'box', base: 'piece', size: 50 } }],
    recipient: { name: '孝南区人民医院', kind: 'hospital', region: '420902' },
    peopleServed: 300,
    delivered: at(Date.now() + 120_000),
  });
  await push(p.url, c.records);
  return { p, c, need, privateNeed, offer, allocation, handoff, receipt: recordId(receiptRec), delivery: recordId(deliveryRec) };
}

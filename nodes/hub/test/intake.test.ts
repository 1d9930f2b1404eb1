import type { SignedRecord } from '@shuniu/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../src/node.js';
import { eventually, post, startNode } from './helpers.js';

// Issue 18 point 3: needs from groups that run no node (spec/node.md §8.7). A public intake form,
// a verification queue the operator decides, a published need with the contact sealed, and a
// tracking token that shows progress (submitted → verified → open → allocated → in transit → delivered) and nothing private; every bound of the public route.

type Running = Awaited<ReturnType<typeof startNode>>;
const nodes: Running[] = [];
afterAll(async () => {
  for (const n of nodes) await n.node.close().catch(() => {});
});

async function start(limits: NonNullable<OpenOptions['overrides']>['limits'] = {}): Promise<Running> {
  const n = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' }, { overrides: { limits } });
  nodes.push(n);
  return n;
}

const get = (url: string, token?: string) => fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

const CONTACT = '陈护士长';
const PHONE = '13807120000';
const ADDRESS = '孝南区槐荫大道 88 号';

function submission(over: Record<string, unknown> = {}) {
  return {
    need: {
      item: { name: '医用防护服' },
      quantity: 300,
      unit: { name: '件', base: '件', size: 1 },
      urgency: 'critical',
      neededBy: '2030-02-10T00:00:00Z',
      region: '420902',
      beneficiaries: { group: 'medical_staff', count: 120 },
      requester: { name: '孝南区第二人民医院', kind: 'hospital' },
    },
    contact: { name: CONTACT, phone: PHONE },
    address: ADDRESS,
    ...over,
  };
}

const privateStrings = [CONTACT, PHONE, ADDRESS];
const showsNothingPrivate = (text: string) => {
  for (const s of privateStrings) expect(text).not.toContain(s);
};

describe('intake: submit, verify, publish, track', () => {
  it('a submission waits, is published as a signed need with its contact sealed, and its token tracks it to delivered without anything private', async () => {
    const n = await start();
    const sent = await post(`${n.url}/v1/intake`, submission());
    expect(sent.status).toBe(201);
    const { token, state, track } = (await sent.json()) as { token: string; state: string; track: string };
    expect(state).toBe('pending');
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(track).toBe(`${n.node.publicUrl()}/#/track?t=${token}`);
    // The token's text is not stored: only its hash.
    expect(JSON.stringify(n.node.store.intakeList([], 10))).not.toContain(token);

    const trackText = async () => {
      const res = await get(`${n.url}/v1/intake/track/${token}`);
      expect(res.status).toBe(200);
      return res.text();
    };
    const first = await trackText();
    expect(JSON.parse(first)).toMatchObject({
      state: 'pending',
      stage: 'submitted',
      record: null,
      quantity: 300,
      region: '420902',
      item: { name: '医用防护服' },
    });
    showsNothingPrivate(first);

    // The queue is the operator's: anonymous callers get 401; the operator sees the contact to call back.
    expect((await get(`${n.url}/v1/intake`)).status).toBe(401);
    const queue = (await (await get(`${n.url}/v1/intake?state=pending,verified`, n.token)).json()) as {
      intake: { id: string; state: string; private: { contact: { name: string; phone: string } } }[];
    };
    expect(queue.intake).toHaveLength(1);
    const id = queue.intake[0]?.id as string;
    expect(queue.intake[0]?.private.contact).toEqual({ name: CONTACT, phone: PHONE });
    expect((await post(`${n.url}/v1/intake/${id}/verify`, {})).status).toBe(401);

    const verified = await post(`${n.url}/v1/intake/${id}/verify`, {}, n.token);
    expect(verified.status).toBe(200);
    expect(JSON.parse(await trackText())).toMatchObject({ state: 'verified', stage: 'verified' });

    // Without an item code the draft is not a need: refused, and the submission stays in the queue.
    const noCode = await post(`${n.url}/v1/intake/${id}/publish`, {}, n.token);
    expect(noCode.status).toBe(400);
    expect(((await noCode.json()) as { code: string }).code).toBe('E_SCHEMA');
    expect(n.node.store.intake(id)?.state).toBe('verified');

    const published = await post(`${n.url}/v1/intake/${id}/publish`, { need: { item: { code: 'PPE.GOWN.PROTECTIVE', name: '医用防护服' } } }, n.token);
    expect(published.status).toBe(201);
    const pub = (await published.json()) as { id: string; record: SignedRecord; intake: { state: string; private: unknown; record: string } };
    expect(pub.intake).toMatchObject({ state: 'published', private: null, record: pub.id });
    expect(pub.record.type).toBe('need.posted');
    expect(pub.record.hub).toBe(n.node.hubId);
    expect(pub.record.sealedHash).toBeDefined();
    showsNothingPrivate(JSON.stringify(pub.record.body));
    // The contact left the queue's row: it lives only sealed in the record.
    expect(n.node.store.intake(id)?.private).toBeNull();
    // The operator opens it; nobody else reads it anywhere.
    const opened = (await (await get(`${n.url}/v1/records/${pub.id}/private`, n.token)).json()) as { private: unknown };
    expect(opened.private).toEqual({ contact: { name: CONTACT, phone: PHONE }, address: ADDRESS });
    // Publishing twice is refused.
    const again = await post(`${n.url}/v1/intake/${id}/publish`, {}, n.token);
    expect(again.status).toBe(400);
    expect(((await again.json()) as { code: string }).code).toBe('E_ARGUMENT');

    await eventually(async () => JSON.parse(await trackText()).stage === 'open');
    for (const path of [`/v1/records/${pub.id}`, '/v1/feed?after=0', '/v1/state/needs', `/v1/hubs/${n.node.hubId}/log`]) {
      const res = await get(`${n.url}${path}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('孝南区第二人民医院');
      showsNothingPrivate(text);
    }

    // An offer allocated to it moves the tracked need on.
    const offer = await post(
      `${n.url}/v1/offers`,
      {
        kind: 'goods',
        item: { code: 'PPE.GOWN.PROTECTIVE', name: '医用防护服' },
        quantity: 300,
        unit: { name: '件', base: '件', size: 1 },
        valueFen: 0,
        donor: { name: '湖北省慈善总会', kind: 'foundation' },
        intent: {},
        region: '420100',
      },
      n.token,
    );
    expect(offer.status).toBe(201);
    const offerId = ((await offer.json()) as { id: string }).id;
    const allocated = await post(`${n.url}/v1/allocations`, { offer: offerId, need: pub.id, quantity: 300 }, n.token);
    expect(allocated.status).toBe(201);
    const allocation = ((await allocated.json()) as { id: string }).id;
    await eventually(async () => JSON.parse(await trackText()).stage === 'allocated');
    const at = await trackText();
    expect(JSON.parse(at)).toMatchObject({ state: 'published', record: pub.id, progress: { allocated: 300, quantity: 300, delivered: 0 } });
    showsNothingPrivate(at);
    // Shipped, then delivered: the tracked stage follows the custody records.
    const gown = { item: { code: 'PPE.GOWN.PROTECTIVE', name: '医用防护服' }, quantity: 300, unit: { name: '件', base: '件', size: 1 } };
    const shipped = await post(
      `${n.url}/v1/handoffs`,
      { shipment: 'XN-INTAKE-1', from: n.node.hubId, to: n.node.hubId, lines: [gown], expectedArrival: '2030-02-09T00:00:00Z', allocations: [allocation] },
      n.token,
    );
    expect(shipped.status).toBe(201);
    const handoff = ((await shipped.json()) as { id: string }).id;
    await eventually(async () => JSON.parse(await trackText()).stage === 'in_transit');
    const delivered = await post(
      `${n.url}/v1/deliveries`,
      {
        need: pub.id,
        handoffs: [handoff],
        lines: [gown],
        recipient: { name: '孝南区第二人民医院', kind: 'hospital' },
        peopleServed: 120,
        delivered: '2030-02-09T08:00:00Z',
      },
      n.token,
    );
    expect(delivered.status).toBe(201);
    await eventually(async () => JSON.parse(await trackText()).stage === 'delivered');
    const last = await trackText();
    expect(JSON.parse(last)).toMatchObject({ progress: { delivered: 300, quantity: 300 } });
    showsNothingPrivate(last);
  });

  it('a rejected submission drops its contact and tells the submitter why; unknown tokens and ids are 404', async () => {
    const n = await start();
    const { token } = (await (await post(`${n.url}/v1/intake`, submission())).json()) as { token: string };
    const id = n.node.store.intakeList(['pending'], 10)[0]?.id as string;
    const rejected = await post(`${n.url}/v1/intake/${id}/reject`, { reason: '回电无人接听，请重新提交' }, n.token);
    expect(rejected.status).toBe(200);
    expect(n.node.store.intake(id)?.private).toBeNull();
    const t = (await (await get(`${n.url}/v1/intake/track/${token}`)).json()) as { state: string; stage: string; reason: string };
    expect(t).toMatchObject({ state: 'rejected', stage: 'rejected', reason: '回电无人接听，请重新提交' });
    expect((await post(`${n.url}/v1/intake/${id}/publish`, {}, n.token)).status).toBe(400);
    for (const bad of ['AAAAAAAAAAAAAAAAAAAAAA', 'not-a-token']) {
      const res = await get(`${n.url}/v1/intake/track/${bad}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('E_NOT_FOUND');
    }
    expect((await post(`${n.url}/v1/intake/nosuchid/verify`, {}, n.token)).status).toBe(404);
  });

  it('bad input gets a typed error, never a 500', async () => {
    const n = await start();
    const cases: [unknown, number, string][] = [
      [{ ...submission(), contact: { name: CONTACT } }, 400, 'E_SCHEMA'],
      [{ ...submission(), extra: 1 }, 400, 'E_SCHEMA'],
      [{ ...submission(), need: { ...submission().need, region: '4209' } }, 400, 'E_SCHEMA'],
      ['{"need":', 400, 'E_JSON'],
      ['{"a":1,"a":2}', 400, 'E_IJSON'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(`${n.url}/v1/intake`, body);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
    const text = await fetch(`${n.url}/v1/intake`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    expect(n.node.store.intakeList([], 10)).toHaveLength(0);
  });
});

describe('intake: the public route is bounded', () => {
  it('a body over limits.intakeBodyBytes is 413 E_TOO_LARGE', async () => {
    const n = await start({ intakeBodyBytes: 2048 });
    const res = await post(`${n.url}/v1/intake`, submission({ note: '很'.repeat(1000) }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('E_TOO_LARGE');
    expect((await post(`${n.url}/v1/intake`, submission())).status).toBe(201);
  });

  it('one client gets limits.intakeBurst submissions, then 429 E_RATE_LIMITED with Retry-After', async () => {
    const n = await start({ intakePerHour: 1, intakeBurst: 2 });
    expect((await post(`${n.url}/v1/intake`, submission())).status).toBe(201);
    expect((await post(`${n.url}/v1/intake`, submission())).status).toBe(201);
    const third = await post(`${n.url}/v1/intake`, submission());
    expect(third.status).toBe(429);
    expect(((await third.json()) as { code: string }).code).toBe('E_RATE_LIMITED');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(n.node.store.intakeList([], 10)).toHaveLength(2);
  });

  it('the queue holds at most limits.intakePending rows and limits.intakePendingBytes bytes; deciding frees room', async () => {
    const n = await start({ intakePending: 2 });
    expect((await post(`${n.url}/v1/intake`, submission())).status).toBe(201);
    expect((await post(`${n.url}/v1/intake`, submission())).status).toBe(201);
    const full = await post(`${n.url}/v1/intake`, submission());
    expect(full.status).toBe(429);
    const p = (await full.json()) as { code: string; detail: string };
    expect(p.code).toBe('E_RATE_LIMITED');
    expect(p.detail).toContain('limits.intakePending');
    const id = n.node.store.intakeList(['pending'], 10)[0]?.id as string;
    expect((await post(`${n.url}/v1/intake/${id}/reject`, {}, n.token)).status).toBe(200);
    expect((await post(`${n.url}/v1/intake`, submission())).status).toBe(201);

    const size = n.node.store.intakeList(['pending'], 1)[0]?.bytes as number;
    const b = await start({ intakePendingBytes: size * 2 - 1 });
    expect((await post(`${b.url}/v1/intake`, submission())).status).toBe(201);
    const over = await post(`${b.url}/v1/intake`, submission());
    expect(over.status).toBe(429);
    expect(((await over.json()) as { detail: string }).detail).toContain('limits.intakePendingBytes');
  });
});

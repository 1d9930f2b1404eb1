import { request } from 'node:http';
import type { SignedRecord } from '@shuniu/protocol';
import { describe, expect, it } from 'vitest';
import { needBody, post, startNode, TestHub } from './helpers.js';

type AckOut = { status: string; code?: string; message?: string };

/** POSTs JSON from a chosen loopback address (the node keys the holding quota on it). */
function postFrom(localAddress: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A node with a small holding area, and an admitted county whose chain it holds up to seq 1. */
async function setup(heldTtlMs = 7 * 24 * 3600 * 1000) {
  const n = await startNode(
    { name: '湖北省枢纽', level: 'province', region: '420000' },
    { overrides: { limits: { maxHeld: 1000, maxHeldPerSource: 20, heldTtlMs } } },
  );
  const county = await TestHub.make();
  expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
  county.sign('need.posted', needBody());
  const res = (await (await post(`${n.url}/v1/records`, county.records)).json()) as { summary: Record<string, number> };
  expect(res.summary.accepted).toBe(2);
  return { ...n, county };
}

describe('holding area (reliability finding 3)', () => {
  it('caps the records one address may hold; another address can still hold, and a forged shuniu-peer header changes nothing', async () => {
    const n = await setup();
    try {
      expect(n.node.store.schemaVersion()).toBeGreaterThanOrEqual(2);
      // Records of a hub no root admitted, with its inception (a stranger's records are held only with their inception chain).
      const junk = await TestHub.make();
      for (let i = 0; i < 30; i++) junk.sign('need.posted', needBody({ quantity: i + 1 }));
      const flood = await postFrom('127.0.0.3', `${n.url}/v1/records`, junk.records);
      expect(flood.status).toBe(200);
      const acks = (flood.json as { acks: AckOut[] }).acks;
      expect(acks[0]).toMatchObject({ status: 'held', code: 'E_NOT_ADMITTED' });
      expect(acks.slice(1, 20).every((a) => a.status === 'held' && a.code === 'E_GAP')).toBe(true);
      // Beyond the share: refused for the sender; the records after it then continue no held chain.
      expect(acks[20]).toMatchObject({ status: 'rejected', code: 'E_RATE_LIMITED' });
      expect(acks.slice(21).map((a) => [a.status, a.code])).toEqual(acks.slice(21).map(() => ['rejected', 'E_GAP']));
      expect(acks[21]?.message).toMatch(/not held: no verifiable inception chain/);
      expect(n.node.store.heldCount()).toBe(20);

      // The echo-suppression header is the sender's word only: the quota stays on the address.
      const junk2 = await TestHub.make();
      const r2 = junk2.sign('need.posted', needBody());
      const spoofed = await postFrom('127.0.0.3', `${n.url}/v1/records`, junk2.records[0], { 'shuniu-peer': 'http://elsewhere.example' });
      expect(spoofed.status).toBe(429);
      expect(spoofed.json).toMatchObject({ code: 'E_RATE_LIMITED' });
      expect(n.node.store.heldCount()).toBe(20);

      // Another address still has its share.
      const other = await postFrom('127.0.0.4', `${n.url}/v1/records`, [junk2.records[0], r2]);
      expect((other.json as { acks: AckOut[] }).acks[1]).toMatchObject({ status: 'held', code: 'E_GAP' });
      expect(n.node.store.heldCount()).toBe(22);

      // The flood's records are released when the hub is admitted, which frees the share.
      expect((await post(`${n.url}/v1/admissions`, { child: junk.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
      expect(n.node.store.heads()[junk.id]).toBe(19);
      expect(n.node.store.heldCount()).toBe(2);
      const rest = await postFrom('127.0.0.3', `${n.url}/v1/records`, junk.records.slice(21));
      expect((rest.json as { acks: AckOut[] }).acks.every((a) => a.status === 'held')).toBe(true);
    } finally {
      await n.node.close();
    }
  });

  it('does not hold a record beyond a known head whose signature does not verify with the keys at the head', async () => {
    const n = await setup();
    try {
      const r2 = n.county.sign('need.posted', needBody({ quantity: 2 }));
      const r3 = n.county.sign('need.posted', needBody({ quantity: 3 }));
      const forged: SignedRecord = { ...r3, body: { ...r3.body, quantity: 3000 } } as SignedRecord;
      const res = (await (await post(`${n.url}/v1/records`, [forged])).json()) as { acks: (AckOut & { id: string })[] };
      expect(res.acks[0]).toMatchObject({ status: 'rejected', code: 'E_GAP' });
      expect(res.acks[0]?.message).toMatch(/not held: its signature does not verify with the keys of hub .* at seq 1/);
      expect(n.node.store.heldCount()).toBe(0);
      expect(n.node.store.recordById(res.acks[0]?.id as string)).toBeUndefined();
      // The genuine record at the same place is held, and applied once its predecessor arrives.
      const held = (await (await post(`${n.url}/v1/records`, [r3])).json()) as { acks: AckOut[] };
      expect(held.acks[0]).toMatchObject({ status: 'held', code: 'E_GAP' });
      expect((await post(`${n.url}/v1/records`, r2)).status).toBe(201);
      expect(n.node.store.heads()[n.county.id]).toBe(3);
      expect(n.node.store.heldCount()).toBe(0);
    } finally {
      await n.node.close();
    }
  });

  it('a single push answers by verdict (spec/errors.md §2.1): held 202 with its ack, not held E_GAP 422, not held E_NOT_ADMITTED 403', async () => {
    const n = await setup();
    try {
      n.county.sign('need.posted', needBody({ quantity: 2 }));
      const r3 = n.county.sign('need.posted', needBody({ quantity: 3 }));
      const forged: SignedRecord = { ...r3, body: { ...r3.body, quantity: 3000 } } as SignedRecord;
      // Beyond the head with a bad signature: refused, not held, so no 2xx.
      const refused = await post(`${n.url}/v1/records`, forged);
      expect(refused.status).toBe(422);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await refused.json()).toMatchObject({ status: 422, code: 'E_GAP', detail: expect.stringMatching(/not held/) });
      expect(n.node.store.heldCount()).toBe(0);
      // The genuine record: held, 202 with its ack.
      const held = await post(`${n.url}/v1/records`, r3);
      expect(held.status).toBe(202);
      expect(((await held.json()) as { ack: AckOut }).ack).toMatchObject({ status: 'held', code: 'E_GAP' });
    } finally {
      await n.node.close();
    }
    const small = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { overrides: { limits: { maxHeld: 1, maxHeldPerSource: 5 } } });
    try {
      const a = await TestHub.make();
      const b = await TestHub.make();
      const first = await post(`${small.url}/v1/records`, a.hub.inception);
      expect(first.status).toBe(202);
      expect(((await first.json()) as { ack: AckOut }).ack).toMatchObject({ status: 'held', code: 'E_NOT_ADMITTED' });
      // The holding area is full: not held, refused with E_NOT_ADMITTED's status.
      const second = await post(`${small.url}/v1/records`, b.hub.inception);
      expect(second.status).toBe(403);
      expect(await second.json()).toMatchObject({ status: 403, code: 'E_NOT_ADMITTED' });
      const batch = (await (await post(`${small.url}/v1/records`, [b.hub.inception])).json()) as { acks: AckOut[] };
      expect(batch.acks[0]).toMatchObject({ status: 'rejected', code: 'E_NOT_ADMITTED' });
    } finally {
      await small.node.close();
    }
  });

  it('still holds a legitimate out-of-order batch and releases it when the predecessor arrives', async () => {
    const n = await setup();
    try {
      const later: SignedRecord[] = [];
      for (let i = 0; i < 19; i++) later.push(n.county.sign('need.posted', needBody({ quantity: 100 + i })));
      // 18 records: large enough for the worker threads' path.
      const res = (await (await post(`${n.url}/v1/records`, later.slice(1))).json()) as { acks: AckOut[]; summary: Record<string, number> };
      expect(res.summary).toMatchObject({ held: 18, rejected: 0 });
      expect(n.node.store.heldCount()).toBe(18);
      const first = (await (await post(`${n.url}/v1/records`, [later[0]])).json()) as { acks: AckOut[] };
      expect(first.acks[0]?.status).toBe('accepted');
      expect(n.node.store.heads()[n.county.id]).toBe(20);
      expect(n.node.store.heldCount()).toBe(0);
    } finally {
      await n.node.close();
    }
  });

  it('a record held longer than limits.heldTtlMs gives way when its sender is out of room; fresher ones do not', async () => {
    const n = await setup(1500);
    try {
      const junk = await TestHub.make();
      for (let i = 0; i < 22; i++) junk.sign('need.posted', needBody({ quantity: i + 1 }));
      const first = await postFrom('127.0.0.5', `${n.url}/v1/records`, junk.records.slice(0, 20));
      expect((first.json as { summary: Record<string, number> }).summary).toMatchObject({ held: 20 });
      // Still within the TTL: the share is full, nothing gives way.
      const early = await postFrom('127.0.0.5', `${n.url}/v1/records`, junk.records[20]);
      expect(early.status).toBe(429);
      expect(early.json).toMatchObject({ code: 'E_RATE_LIMITED' });
      expect(n.node.store.heldCount()).toBe(20);
      // Past the TTL, the next record that needs room drops the stale ones and is held.
      await new Promise((r) => setTimeout(r, 1700));
      const fresh = await TestHub.make();
      const later = await postFrom('127.0.0.5', `${n.url}/v1/records`, fresh.records[0]);
      expect(later.status).toBe(202);
      expect((later.json as { ack: AckOut }).ack).toMatchObject({ status: 'held', code: 'E_NOT_ADMITTED' });
      expect(n.node.store.heldCount()).toBe(1);
      // The expired chain is gone: its next record has nothing to continue and is not held.
      const orphan = await postFrom('127.0.0.5', `${n.url}/v1/records`, junk.records[20]);
      expect(orphan.status).toBe(422);
      expect(orphan.json).toMatchObject({ code: 'E_GAP', detail: expect.stringMatching(/not held: no verifiable inception chain/) });
      expect(n.node.store.heldCount()).toBe(1);
      // Another sender with room expires nothing.
      const other = await TestHub.make();
      await postFrom('127.0.0.6', `${n.url}/v1/records`, other.records[0]);
      expect(n.node.store.heldCount()).toBe(2);
    } finally {
      await n.node.close();
    }
  });
});

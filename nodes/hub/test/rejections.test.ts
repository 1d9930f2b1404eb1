import { Author, ed25519Sign, jcs, recordId, type SignedRecord, signRecord, toBase64url, utf8 } from '@shuniu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubNode } from '../src/node.js';
import { needBody, post, startNode, TestHub } from './helpers.js';

let node: HubNode;
let url: string;
let token: string;
let hub: TestHub;

beforeAll(async () => {
  ({ node, url, token } = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }));
  hub = await TestHub.make();
  expect((await post(`${url}/v1/admissions`, { child: hub.id, level: 'county', region: '420902' }, token)).status).toBe(201);
  expect((await post(`${url}/v1/records`, hub.records)).status).toBe(200);
});
afterAll(async () => {
  await node.close();
});

async function problem(res: Response): Promise<{ status: number; code: string; type: string }> {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const p = (await res.json()) as { status: number; code: string; type: string };
  expect(p.status).toBe(res.status);
  return p;
}

/** Takes a just-signed record back, so the next one reuses its seq. */
const rewind = (r: SignedRecord): SignedRecord => {
  hub.records.pop();
  hub.author.head = { seq: r.seq - 1, id: r.prev as string, hlc: hub.author.head.hlc };
  return r;
};

const unsigned = (r: SignedRecord) => {
  const { sig: _s, ...rest } = r;
  return rest as Parameters<typeof signRecord>[0];
};

describe('every rejection has its code and status', () => {
  it('E_JSON, E_IJSON, E_UNSUPPORTED_MEDIA', async () => {
    expect(await problem(await post(`${url}/v1/records`, '[{"v":1,'))).toMatchObject({ status: 400, code: 'E_JSON' });
    expect(await problem(await post(`${url}/v1/records`, '{"v":1,"v":1}'))).toMatchObject({ status: 400, code: 'E_IJSON' });
    const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '[]' });
    expect(await problem(res)).toMatchObject({ status: 415, code: 'E_UNSUPPORTED_MEDIA' });
  });

  it('E_SCHEMA with zod issues, E_VERSION', async () => {
    const r = hub.sign('need.posted', needBody());
    const { body: _b, ...noBody } = r;
    const res = await post(`${url}/v1/records`, noBody);
    const p = (await problem(res)) as unknown as { code: string; issues: { path: unknown[] }[] };
    expect(p.code).toBe('E_SCHEMA');
    expect(p.issues.length).toBeGreaterThan(0);
    expect(await problem(await post(`${url}/v1/records`, { ...r, v: 2 }))).toMatchObject({ status: 400, code: 'E_VERSION' });
    expect((await post(`${url}/v1/records`, r)).status).toBe(201);
  });

  it('E_SIG for a tampered record', async () => {
    const r = hub.sign('need.posted', needBody());
    const tampered = { ...r, body: { ...r.body, quantity: 999 } };
    expect(await problem(await post(`${url}/v1/records`, tampered))).toMatchObject({ status: 422, code: 'E_SIG' });
    expect((await post(`${url}/v1/records`, r)).status).toBe(201);
  });

  it('E_IJSON for an ext number whose value is an integer beyond ±(2^53−1), however spelled: per record in a batch (spec/encoding.md §2.3)', async () => {
    const r = rewind(hub.sign('need.posted', needBody()));
    const u = { ...unsigned(r), body: { ...r.body, ext: { 'org.example.big': 1e20 } } };
    const sig = toBase64url(ed25519Sign(utf8(jcs(u)), hub.hub.keys.signing.secretKey));
    const text = jcs({ ...u, sig }).replace('100000000000000000000', '1e20');
    expect(text).toContain('"org.example.big":1e20');
    expect(await problem(await post(`${url}/v1/records`, text))).toMatchObject({ status: 400, code: 'E_IJSON' });
    const batch = await post(`${url}/v1/records`, `[${text}]`);
    expect(batch.status).toBe(200);
    expect(((await batch.json()) as { acks: unknown[] }).acks[0]).toMatchObject({ status: 'rejected', code: 'E_IJSON' });
  });

  it('E_HUB_ID for an inception whose id is not its body hash', async () => {
    const other = await TestHub.make();
    const bad = signRecord({ ...unsigned(other.hub.inception), hub: hub.id } as never, other.hub.keys.signing.secretKey);
    expect(await problem(await post(`${url}/v1/records`, bad))).toMatchObject({ status: 422, code: 'E_HUB_ID' });
  });

  it('E_CHAIN for a wrong prev, E_FORK for a second record at a taken seq', async () => {
    const next = rewind(hub.sign('need.posted', needBody()));
    const wrongPrev = signRecord({ ...unsigned(next), prev: recordId(hub.hub.inception) } as never, hub.hub.keys.signing.secretKey);
    expect(await problem(await post(`${url}/v1/records`, wrongPrev))).toMatchObject({ status: 422, code: 'E_CHAIN' });

    const forker = new Author({ hub: hub.id, secretKey: hub.hub.keys.signing.secretKey, head: { ...hub.author.head }, wall: () => Date.now() });
    const forker2 = new Author({ hub: hub.id, secretKey: hub.hub.keys.signing.secretKey, head: { ...hub.author.head }, wall: () => Date.now() });
    const a = hub.sign('need.posted', needBody({ quantity: 1 }));
    const b = forker.sign('need.posted', needBody({ quantity: 2 })).record;
    expect((await post(`${url}/v1/records`, a)).status).toBe(201);
    // RFC 9457: `detail` stays a string; the structured data are extension members (spec/errors.md §1).
    const fork = (await problem(await post(`${url}/v1/records`, b))) as unknown as Record<string, unknown>;
    expect(fork).toMatchObject({ status: 409, code: 'E_FORK', hub: hub.id, seq: a.seq, ids: [recordId(a), recordId(b)] });
    expect(typeof fork.detail).toBe('string');
    expect(node.store.forks()).toHaveLength(1);
    // The same members in a batch's ack.
    const c = forker2.sign('need.posted', needBody({ quantity: 3 })).record;
    const batch = await post(`${url}/v1/records`, [c]);
    expect(batch.status).toBe(200);
    const acks = ((await batch.json()) as { acks: Record<string, unknown>[] }).acks;
    expect(acks[0]).toMatchObject({ status: 'rejected', code: 'E_FORK', hub: hub.id, seq: a.seq, ids: [recordId(a), recordId(c)] });
  });

  it('E_CLOCK_SKEW for a record from the far future', async () => {
    const future = new Author({ hub: hub.id, secretKey: hub.hub.keys.signing.secretKey, head: { ...hub.author.head }, wall: () => Date.now() + 3_600_000 });
    const r = future.sign('need.posted', needBody()).record;
    expect(await problem(await post(`${url}/v1/records`, r))).toMatchObject({ status: 422, code: 'E_CLOCK_SKEW' });
  });

  it('E_SEALED for a sealed part without its hash', async () => {
    const r = rewind(hub.sign('need.posted', needBody()));
    const sealed = { alg: 'x25519-xsalsa20poly1305', nonce: 'A'.repeat(32), ct: 'AAAA', to: [{ hub: hub.id, key: `${'A'.repeat(106)}A` }] };
    expect(await problem(await post(`${url}/v1/records`, { ...r, sealed }))).toMatchObject({ status: 422, code: 'E_SEALED' });
  });

  it('E_NOT_ADMITTED holds a hub no trusted chain admits, until it is admitted; E_BLOCKED for a blocked hub', async () => {
    const stranger = await TestHub.make();
    const single = await post(`${url}/v1/records`, stranger.hub.inception);
    expect(single.status).toBe(202);
    expect(((await single.json()) as { ack: unknown }).ack).toMatchObject({ status: 'held', code: 'E_NOT_ADMITTED' });
    const need = stranger.sign('need.posted', needBody());
    const res = await post(`${url}/v1/records`, [need]);
    expect(((await res.json()) as { acks: { status: string; code: string }[] }).acks[0]).toMatchObject({ status: 'held', code: 'E_GAP' });
    expect(node.store.heads()[stranger.id]).toBeUndefined();
    expect((await post(`${url}/v1/admissions`, { child: stranger.id, level: 'org', region: '420902' }, token)).status).toBe(201);
    expect(node.store.heads()[stranger.id]).toBe(1);

    const spammer = await TestHub.make();
    expect((await post(`${url}/v1/blocks`, { hub: spammer.id, reason: 'spam' }, token)).status).toBe(201);
    const blocked = await post(`${url}/v1/records`, [spammer.hub.inception]);
    expect(((await blocked.json()) as { acks: { status: string; code: string }[] }).acks[0]).toMatchObject({ status: 'blocked', code: 'E_BLOCKED' });
    expect(await problem(await post(`${url}/v1/records`, spammer.hub.inception))).toMatchObject({ status: 403, code: 'E_BLOCKED' });
  });

  it('E_AUTH, E_FORBIDDEN, E_NOT_FOUND, E_ARGUMENT', async () => {
    expect(await problem(await post(`${url}/v1/needs`, needBody()))).toMatchObject({ status: 401, code: 'E_AUTH' });
    expect(await problem(await post(`${url}/v1/needs`, needBody(), 'not.a.jwt'))).toMatchObject({ status: 401, code: 'E_AUTH' });
    const sub = await node.auth.issue('subscriber', 60);
    expect(await problem(await post(`${url}/v1/needs`, needBody(), sub))).toMatchObject({ status: 403, code: 'E_FORBIDDEN' });
    expect(await problem(await fetch(`${url}/v1/records/${'A'.repeat(43)}`))).toMatchObject({ status: 404, code: 'E_NOT_FOUND' });
    expect(await problem(await fetch(`${url}/v1/nothing`))).toMatchObject({ status: 404, code: 'E_NOT_FOUND' });
    expect(await problem(await fetch(`${url}/v1/feed?limit=abc`))).toMatchObject({ status: 400, code: 'E_ARGUMENT' });
    expect(await problem(await fetch(`${url}/v1/feed?types=need.unknown`))).toMatchObject({ status: 400, code: 'E_ARGUMENT' });
  });
});

describe('limits', () => {
  it('E_TOO_LARGE for a body or a batch over the limit, E_RATE_LIMITED past the bucket', async () => {
    const small = await startNode(
      { name: '孝感市枢纽', level: 'city', region: '420900' },
      { overrides: { limits: { bodyBytes: 4096, batchRecords: 3, ratePerSecond: 1, rateBurst: 4 } } },
    );
    try {
      const big = await post(`${small.url}/v1/records`, JSON.stringify([{ pad: 'x'.repeat(10_000) }]));
      expect(await problem(big)).toMatchObject({ status: 413, code: 'E_TOO_LARGE' });
      const many = await post(`${small.url}/v1/records`, [1, 2, 3, 4]);
      expect(await problem(many)).toMatchObject({ status: 413, code: 'E_TOO_LARGE' });
      let limited: Response | undefined;
      for (let i = 0; i < 6 && !limited; i++) {
        const r = await fetch(`${small.url}/v1/heads`);
        if (r.status === 429) limited = r;
      }
      expect(limited).toBeDefined();
      expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await problem(limited as Response)).toMatchObject({ code: 'E_RATE_LIMITED' });
    } finally {
      await small.node.close();
    }
  });
});

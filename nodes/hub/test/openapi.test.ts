// The OpenAPI document is valid OpenAPI 3.1 by a real validator, and the node's answers are what
// its schemas say: the same zod schemas type the code and make the document (issue 13 point 10).
import { Validator } from '@seriousme/openapi-schema-validator';
import { STATE_COLLECTIONS, statePageSchema } from '@shuniu/resolve/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackSchema, batchAnswerSchema, problemSchema } from '../src/wire.js';
import { needBody, post, startNode, TestHub } from './helpers.js';

type Node = Awaited<ReturnType<typeof startNode>>;

describe('GET /v1/openapi.json', () => {
  let n: Node;
  beforeAll(async () => {
    n = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' });
  });
  afterAll(async () => {
    await n.node.close();
  });

  it('validates as OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    const doc = (await (await fetch(`${n.url}/v1/openapi.json`)).json()) as { openapi: string };
    expect(doc.openapi).toBe('3.1.0');
    const res = await new Validator().validate(doc as never);
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
    // The validator does refuse: the same document without its info object, or with a path of a bad shape.
    const { info: _info, ...noInfo } = doc as Record<string, unknown>;
    expect((await new Validator().validate(noInfo as never)).valid).toBe(false);
    expect((await new Validator().validate({ ...doc, paths: { '/v1/x': { get: { responses: 'none' } } } } as never)).valid).toBe(false);
  });

  it('gives the state pages and the hash answer the state schemas (spec/schemas/state), and served pages parse with them', async () => {
    const doc = (await (await fetch(`${n.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, { get: { responses: Record<string, { content: { 'application/json': { schema: Record<string, unknown> } } }> } }>;
    };
    const page = doc.paths['/v1/state/{collection}']?.get.responses['200']?.content['application/json'].schema as {
      anyOf: { properties: Record<string, { items?: { properties?: Record<string, { description?: string }> } }> }[];
    };
    // One page schema per collection, each naming its items' members with what they mean.
    expect(page.anyOf.map((p) => Object.keys(p.properties)[0])).toEqual(STATE_COLLECTIONS);
    const offers = page.anyOf.find((p) => 'offers' in p.properties)?.properties.offers?.items?.properties ?? {};
    expect(offers.available?.description).toContain('quantity − allocated');
    const hash = doc.paths['/v1/state/hash']?.get.responses['200']?.content['application/json'].schema as { required: string[] };
    expect(hash.required).toEqual(['stateHash', 'records']);
    for (const c of STATE_COLLECTIONS) {
      const res = await fetch(`${n.url}/v1/state/${c}`, { headers: { authorization: `Bearer ${n.token}` } });
      statePageSchema(c).parse(await res.json());
    }
  });

  it('acks and problem documents the node sends parse with the schemas the document is made from', async () => {
    const county = await TestHub.make();
    expect((await post(`${n.url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, n.token)).status).toBe(201);
    county.sign('need.posted', needBody({ quantity: 1 }));
    const stranger = await TestHub.make();
    stranger.sign('need.posted', needBody({ quantity: 2 }));
    // accepted ×2, duplicate, rejected (a stranger's record without its inception), held (a stranger's inception).
    const batch = [...county.records, county.records[0], stranger.records[1], stranger.records[0]];
    const res = await post(`${n.url}/v1/records`, batch);
    expect(res.status).toBe(200);
    const answer = batchAnswerSchema.parse(await res.json());
    expect(answer.acks.map((a) => a.status)).toEqual(['accepted', 'accepted', 'duplicate', 'rejected', 'held']);
    for (const a of answer.acks) ackSchema.parse(a);
    const bad = await post(`${n.url}/v1/records`, { not: 'a record' });
    expect(bad.status).toBe(400);
    expect(problemSchema.parse(await bad.json()).code).toBe('E_SCHEMA');
  });
});

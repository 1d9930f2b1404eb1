import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubNode } from '../src/node.js';
import { needBody, post, startNode } from './helpers.js';

// Issue 11 (junk holders): large bodies handled at once are bounded in bytes (spec/node.md §7 Limits, limits.bodyBytesInFlight).

/** A POST whose body is declared `length` bytes long and of which only `sent` are written: it stays in flight until `end`. */
function held(url: string, length: number, sent: number): { answer: Promise<number>; end: () => void } {
  const u = new URL('/v1/records', url);
  let end = () => {};
  const answer = new Promise<number>((resolve) => {
    const req = request(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    req.write(`[${' '.repeat(sent - 1)}`);
    end = () => req.destroy();
  });
  return { answer, end };
}

const bigPost = async (url: string, bytes: number) => {
  const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${' '.repeat(bytes - 2)}]` });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { code?: string } };
};

describe('request bodies in flight (limits.bodyBytesInFlight)', () => {
  let node: HubNode;
  let url: string;
  let token: string;
  beforeAll(async () => {
    ({ node, url, token } = await startNode(
      { name: '孝感市枢纽', level: 'city', region: '420900' },
      { overrides: { limits: { bodyBytesInFlight: 1 << 20 } } },
    ));
  });
  afterAll(async () => {
    await node.close();
  });

  it('refuses a large body with 503 E_BUSY and Retry-After while others fill the budget; small ones and a lone large one go through', async () => {
    // One large body alone is never refused by the budget (an empty array of spaces: 200 with no acks).
    expect((await bigPost(url, 900_000)).status).toBe(200);
    const a = held(url, 700_000, 1000);
    // The held request has passed the check once the node has its headers: wait until a second large one is refused.
    let refused: Awaited<ReturnType<typeof bigPost>> | undefined;
    for (let i = 0; i < 50 && refused === undefined; i++) {
      const r = await bigPost(url, 700_000);
      if (r.status === 503) refused = r;
      else await new Promise((res) => setTimeout(res, 20));
    }
    expect(refused?.body.code).toBe('E_BUSY');
    expect(refused?.retryAfter).toBe('1');
    // A small body (an operator's form) is never refused by it.
    expect((await post(`${url}/v1/needs`, needBody({}), token)).status).toBe(201);
    // Under the budget with the held one: a body of 200 KB passes.
    expect((await bigPost(url, 200_000)).status).toBe(200);
    a.end();
    await a.answer;
    // The held share is given back once its request is done.
    let after = 503;
    for (let i = 0; i < 50 && after === 503; i++) {
      after = (await bigPost(url, 700_000)).status;
      if (after === 503) await new Promise((res) => setTimeout(res, 20));
    }
    expect(after).toBe(200);
  });
});

import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubNode } from '../src/node.js';
import { startNode } from './helpers.js';

interface Answer {
  status: number;
  socket: Socket;
  connection: string | undefined;
  code: string | undefined;
}

/**
 * One request through `agent` (keep-alive, one socket), answered with the
 * socket it went over. `slow`: the body is sent in two halves with a pause
 * between them, as a client on a bad network would.
 */
function send(agent: Agent, url: string, method: string, headers: Record<string, string>, body?: Buffer, slow = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const socket = res.socket as Socket;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, socket, connection: res.headers.connection, code });
      });
    });
    req.on('error', reject);
    if (!slow || !body) req.end(body);
    else {
      const half = body.length >> 1;
      req.write(body.subarray(0, half));
      setTimeout(() => req.end(body.subarray(half)), 1000);
    }
  });
}

const BODY_LIMIT = 1_000_000;
let node: HubNode;
let url: string;
let limited: { node: HubNode; url: string };

beforeAll(async () => {
  ({ node, url } = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { overrides: { limits: { bodyBytes: BODY_LIMIT } } }));
  // One request, then the bucket stays empty for the rest of the test (a token per 1000 s).
  limited = await startNode({ name: '孝感市枢纽', level: 'city', region: '420900' }, { overrides: { limits: { ratePerSecond: 0.001, rateBurst: 1 } } });
});
afterAll(async () => {
  await node?.close();
  await limited?.node.close();
});

describe('a refused body keeps the connection usable (reliability finding 4)', () => {
  it('415 before reading a 900 kB body: the next request goes over the same socket', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await send(agent, `${url}/v1/records`, 'POST', { 'content-type': 'text/plain' }, Buffer.alloc(900_000, 120));
      expect([a.status, a.code]).toEqual([415, 'E_UNSUPPORTED_MEDIA']);
      const b = await send(agent, `${url}/v1/heads`, 'GET', {});
      expect(b.status).toBe(200);
      expect(b.socket).toBe(a.socket);
    } finally {
      agent.destroy();
    }
  });

  it('401 before reading an operator write: the next request goes over the same socket', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Buffer.from(JSON.stringify({ child: 'x'.repeat(900_000), level: 'county', region: '420902' }));
      const a = await send(agent, `${url}/v1/admissions`, 'POST', { 'content-type': 'application/json' }, big);
      expect([a.status, a.code]).toEqual([401, 'E_AUTH']);
      const b = await send(agent, `${url}/v1/records`, 'POST', { 'content-type': 'application/json' }, Buffer.from('[]'));
      expect(b.status).toBe(200);
      expect(b.socket).toBe(a.socket);
    } finally {
      agent.destroy();
    }
  });

  it('429 before reading a slowly sent body: both refusals are answered over one socket', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await send(agent, `${limited.url}/v1/heads`, 'GET', {})).status).toBe(200);
      const a = await send(agent, `${limited.url}/v1/records`, 'POST', { 'content-type': 'application/json' }, Buffer.alloc(900_000, 32), true);
      expect([a.status, a.code]).toEqual([429, 'E_RATE_LIMITED']);
      const b = await send(agent, `${limited.url}/v1/records`, 'POST', { 'content-type': 'application/json' }, Buffer.alloc(900_000, 32));
      expect([b.status, b.code]).toEqual([429, 'E_RATE_LIMITED']);
      expect(b.socket).toBe(a.socket);
    } finally {
      agent.destroy();
    }
  });

  it('413 for a body over the limit says Connection: close, and the next request succeeds on a new socket', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await send(agent, `${url}/v1/records`, 'POST', { 'content-type': 'application/json' }, Buffer.alloc(BODY_LIMIT + 100_000, 32));
      expect([a.status, a.code, a.connection]).toEqual([413, 'E_TOO_LARGE', 'close']);
      const b = await send(agent, `${url}/v1/heads`, 'GET', {});
      expect(b.status).toBe(200);
      expect(b.socket).not.toBe(a.socket);
    } finally {
      agent.destroy();
    }
  });
});

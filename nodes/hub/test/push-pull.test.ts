import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubNode } from '../src/node.js';
import { needBody, post, startNode, TestHub } from './helpers.js';
import { storeBackends } from './pg.js';

// The same node tests on SQLite and on PostgreSQL (a throwaway server).
for (const backend of storeBackends())
  describe.skipIf(!backend.available)(`${backend.name} store`, () => {
    let node: HubNode;
    let url: string;
    let token: string;
    let dir: string;
    let county: TestHub;

    beforeAll(async () => {
      await backend.setup();
      const store = backend.storeUrl();
      ({ node, url, token, dir } = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, store ? { overrides: { store } } : {}));
      county = await TestHub.make();
      const res = await post(`${url}/v1/admissions`, { child: county.id, level: 'county', region: '420902' }, token);
      expect(res.status).toBe(201);
    });
    afterAll(async () => {
      await node?.close();
      backend.teardown();
    });

    describe('data directory', () => {
      it('keeps the key file private and serves discovery', async () => {
        expect(statSync(join(dir, 'hub.key.json')).mode & 0o777).toBe(0o600);
        const wk = (await (await fetch(`${url}/.well-known/shuniu`)).json()) as { hub: string; protocol: { versions: number[] }; trust: { roots: string[] } };
        expect(wk.hub).toBe(node.hubId);
        expect(wk.protocol.versions).toEqual([1]);
        expect(wk.trust.roots).toEqual([node.hubId]);
        const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
        // The token key's kid is its RFC 7638 thumbprint (spec/node.md §8).
        expect(jwks.keys.map((k) => k.kid)).toEqual(['records', 'sealed', node.auth.kid]);
      });

      it('discovery points only at routes that exist (templates filled in)', async () => {
        const wk = (await (await fetch(`${url}/.well-known/shuniu`)).json()) as { endpoints: Record<string, string> };
        expect(wk.endpoints.state).toBe(`${url}/v1/state/{collection}`);
        expect(wk.endpoints.stateHash).toBe(`${url}/v1/state/hash`);
        for (const [name, template] of Object.entries(wk.endpoints)) {
          const target = template.replace('{hub}', node.hubId).replace('{collection}', 'needs');
          expect(target.startsWith(url), name).toBe(true);
          const ctl = new AbortController();
          const res =
            name === 'records' ? await post(target, [], token) : await fetch(target, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
          expect([name, res.status]).toEqual([name, 200]);
          ctl.abort();
        }
      });
    });

    describe('push and pull', () => {
      it('accepts an admitted hub, then reports duplicates', async () => {
        county.sign('hub.profile', { name: { zh: '孝南区枢纽' }, level: 'county', region: '420902', endpoints: [] });
        county.sign('need.posted', needBody());
        const res = await post(`${url}/v1/records`, county.records);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { acks: { status: string }[]; summary: Record<string, number> };
        expect(body.acks.map((a) => a.status)).toEqual(['accepted', 'accepted', 'accepted']);
        const again = (await (await post(`${url}/v1/records`, { records: county.records })).json()) as { summary: Record<string, number> };
        expect(again.summary).toMatchObject({ duplicate: 3, accepted: 0 });
      });

      it('holds a record after a gap and applies it when the gap fills', async () => {
        const a = county.sign('need.posted', needBody({ quantity: 10 }));
        const b = county.sign('need.posted', needBody({ quantity: 20, urgency: 'high' }));
        const held = await post(`${url}/v1/records`, b);
        expect(held.status).toBe(202);
        expect(((await held.json()) as { ack: { status: string; code: string } }).ack).toMatchObject({ status: 'held', code: 'E_GAP' });
        const res = await post(`${url}/v1/records`, a);
        expect(res.status).toBe(201);
        const heads = (await (await fetch(`${url}/v1/heads`)).json()) as { heads: Record<string, number> };
        expect(heads.heads[county.id]).toBe(4);
      });

      it('serves a hub log in pages', async () => {
        const p1 = (await (await fetch(`${url}/v1/hubs/${county.id}/log?after=-1&limit=2`)).json()) as {
          records: { seq: number }[];
          next: number | null;
          head: number;
        };
        expect(p1.records.map((r) => r.seq)).toEqual([0, 1]);
        expect(p1.next).toBe(1);
        const p2 = (await (await fetch(`${url}/v1/hubs/${county.id}/log?after=1&limit=10`)).json()) as { records: { seq: number }[]; next: number | null };
        expect(p2.records.map((r) => r.seq)).toEqual([2, 3, 4]);
        expect(p2.next).toBeNull();
        // The page is the stored texts as they are, joined in seq order (SQLite builds it), empty past the head.
        const text = await (await fetch(`${url}/v1/hubs/${county.id}/log?after=0&limit=3`)).text();
        const stored = node.store.log(county.id, 0, 3).map((r) => r.json);
        expect(text).toBe(`{"hub":"${county.id}","head":4,"records":[${stored.join(',')}],"next":3}`);
        const empty = await (await fetch(`${url}/v1/hubs/${county.id}/log?after=4`)).text();
        expect(empty).toBe(`{"hub":"${county.id}","head":4,"records":[],"next":null}`);
      });

      it('filters the feed by region, type, urgency and group with a cursor', async () => {
        const all = (await (await fetch(`${url}/v1/feed?types=need.posted`)).json()) as { records: { ord: number; record: { seq: number } }[]; cursor: number };
        expect(all.records.map((r) => r.record.seq)).toEqual([2, 3, 4]);
        const high = (await (await fetch(`${url}/v1/feed?region=4209&urgency=high&group=medical_staff`)).json()) as { records: { record: { seq: number } }[] };
        expect(high.records.map((r) => r.record.seq)).toEqual([4]);
        const none = (await (await fetch(`${url}/v1/feed?region=4211`)).json()) as { records: unknown[] };
        expect(none.records).toEqual([]);
        const after = (await (await fetch(`${url}/v1/feed?types=need.posted&after=${all.records[0]?.ord}`)).json()) as { records: unknown[] };
        expect(after.records).toHaveLength(2);
      });
    });

    describe('resolved state', () => {
      it('serves needs and hubs with filters, and the state hash', async () => {
        const needs = (await (await fetch(`${url}/v1/state/needs?region=4209&urgency=critical`)).json()) as {
          needs: { hub: string; quantity: number; urgency: string }[];
        };
        expect(needs.needs.length).toBeGreaterThan(0);
        expect(needs.needs.every((n) => n.hub === county.id && n.urgency === 'critical')).toBe(true);
        expect(needs.needs.map((n) => n.quantity)).toContain(200 * 50);
        const none = (await (await fetch(`${url}/v1/state/needs?region=4211`)).json()) as { needs: unknown[] };
        expect(none.needs).toEqual([]);
        const hubs = (await (await fetch(`${url}/v1/state/hubs`)).json()) as { hubs: { id: string; admitted: boolean }[] };
        expect(hubs.hubs.find((h) => h.id === county.id)?.admitted).toBe(true);
        const hash = (await (await fetch(`${url}/v1/state/hash`)).json()) as { stateHash: string };
        expect(hash.stateHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect((await fetch(`${url}/v1/state/nothing`)).status).toBe(404);
      });
    });

    describe('OpenAPI', () => {
      it('documents push, pull, feed, state and every operator write from the zod schemas', async () => {
        const res = await fetch(`${url}/v1/openapi.json`);
        expect(res.status).toBe(200);
        const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
        expect(doc.openapi).toBe('3.1.0');
        for (const p of [
          '/v1/records',
          '/v1/heads',
          '/v1/hubs/{hub}/log',
          '/v1/feed',
          '/v1/feed/live',
          '/v1/state/{collection}',
          '/v1/needs',
          '/v1/needs/{id}/close',
        ]) {
          expect(doc.paths[p], p).toBeDefined();
        }
        expect(JSON.stringify(doc.paths['/v1/needs']?.post?.requestBody)).toContain('beneficiaries');
      });
    });
  });

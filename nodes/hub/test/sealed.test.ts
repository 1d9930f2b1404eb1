import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assumeVerified, eraseSealed, MemoryChains, publicKeysOf, recordId, type SignedRecord, seal } from '@shuniu/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { run as eraseCommand } from '../src/commands/erase.js';
import type { OpenOptions } from '../src/node.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { eventually, needBody, post, reopen, startNode, TestHub, tempDir } from './helpers.js';

type Running = Awaited<ReturnType<typeof startNode>>;

// Issue 10 points 4 and 5: sealed parts survive a stripped copy, are served only to operators and
// trusted peers, come from the operator API's private fields, and are erased for good on request.

const fast: OpenOptions = { overrides: { federation: { pullIntervalMs: 250, backoffBaseMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 2000 } } };

const nodes: Running[] = [];
afterAll(async () => {
  for (const n of nodes) await n.node.close().catch(() => {});
});

async function start(o: Parameters<typeof startNode>[0], opts: OpenOptions = fast): Promise<Running> {
  const n = await startNode(o, opts);
  nodes.push(n);
  return n;
}

const get = (url: string, token?: string) => fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

async function stored(n: Running, id: string, token?: string): Promise<SignedRecord | undefined> {
  const res = await get(`${n.url}/v1/records/${id}`, token);
  return res.status === 200 ? ((await res.json()) as SignedRecord) : undefined;
}

async function admit(parent: Running, child: string, level: string, region: string, url?: string): Promise<void> {
  const res = await post(`${parent.url}/v1/admissions`, { child, level, region, ...(url ? { url } : {}) }, parent.token);
  expect(res.status).toBe(201);
}

/** Verifies the whole log of `hub` as `n` serves it (anonymously), record by record: every one valid. */
async function verifiesOn(n: Running, hub: string): Promise<number> {
  const page = (await (await get(`${n.url}/v1/hubs/${hub}/log?limit=5000`)).json()) as { records: SignedRecord[] };
  const chains = new MemoryChains();
  for (const r of page.records) expect(chains.add(r).kind).toBe('valid');
  return page.records.length;
}

describe('point 4: a stripped copy does not win by arriving first', () => {
  it('a later copy with the sealed part is stored, opened by the recipient, and forwarded with its sealed part', async () => {
    const r = await start({ name: '湖北省枢纽', level: 'province', region: '420000' });
    const s = await start({ name: '孝感市枢纽', level: 'city', region: '420900', parent: r.url });
    await admit(r, s.node.hubId, 'city', '420900', s.url);
    const t = await TestHub.make();
    await admit(r, t.id, 'county', '420902');
    const keys = [r, s].map((n) => ({ hub: n.node.hubId, encryptionKey: n.node.store.chainView(n.node.hubId)?.keys.encryptionKey as string }));
    const sealedPart = seal({ contact: { name: '王医生', phone: '13912345678' } }, keys);
    const { record: real } = t.author.sign('need.posted', needBody(), sealedPart);
    const stripped = eraseSealed(real);
    const pushed = await post(`${r.url}/v1/records`, [t.hub.inception, stripped]);
    const acks = ((await pushed.json()) as { acks: { status: string; id: string }[] }).acks;
    expect(acks.map((a) => a.status)).toEqual(['accepted', 'accepted']);
    const id = acks[1]?.id as string;
    // The stripped copy travels first: the second node holds it without a sealed part.
    await eventually(async () => (await stored(s, id, s.token)) !== undefined);
    expect((await stored(s, id, s.token))?.sealed).toBeUndefined();
    expect((await get(`${r.url}/v1/records/${id}/private`, r.token)).status).toBe(422);

    // The real copy: accepted (not a duplicate), stored, opened here, and carried on to the second node.
    const again = await post(`${r.url}/v1/records`, [real]);
    const ack = ((await again.json()) as { acks: { status: string; ord: number }[] }).acks[0];
    expect(ack?.status).toBe('accepted');
    const opened = (await (await get(`${r.url}/v1/records/${id}/private`, r.token)).json()) as { private: unknown };
    expect(opened.private).toEqual({ contact: { name: '王医生', phone: '13912345678' } });
    await eventually(async () => (await stored(s, id, s.token))?.sealed !== undefined, 100);
    const atS = (await (await get(`${s.url}/v1/records/${id}/private`, s.token)).json()) as { private: unknown };
    expect(atS.private).toEqual({ contact: { name: '王医生', phone: '13912345678' } });
    // A third copy changes nothing.
    const third = await post(`${r.url}/v1/records`, [real]);
    expect(((await third.json()) as { acks: { status: string }[] }).acks[0]?.status).toBe('duplicate');
    // The feed shows each ord once: the record now sits at its new ord only.
    const feed = (await (await get(`${r.url}/v1/feed?limit=5000`, r.token)).json()) as { records: { ord: number; record: SignedRecord }[] };
    const ords = feed.records.map((x) => x.ord);
    expect(new Set(ords).size).toBe(ords.length);
    expect(feed.records.filter((x) => x.record.sig === real.sig).map((x) => x.ord)).toEqual([ack?.ord]);
  });
});

describe('point 4: a held stripped copy takes the sealed part too', () => {
  it('stripped then real copy while the author is not admitted: stored with its sealed part once admitted', async () => {
    const r = await start({ name: '湖北省枢纽', level: 'province', region: '420000' });
    const t = await TestHub.make();
    const key = { hub: r.node.hubId, encryptionKey: r.node.store.chainView(r.node.hubId)?.keys.encryptionKey as string };
    const { record: real } = t.author.sign('need.posted', needBody(), seal({ contact: { phone: '13811112222' } }, [key]));
    const first = await post(`${r.url}/v1/records`, [t.hub.inception, eraseSealed(real)]);
    expect(((await first.json()) as { acks: { status: string }[] }).acks.map((a) => a.status)).toEqual(['held', 'held']);
    const second = await post(`${r.url}/v1/records`, [real]);
    const id = ((await second.json()) as { acks: { status: string; id: string }[] }).acks[0]?.id as string;
    await admit(r, t.id, 'county', '420902');
    await eventually(async () => (await stored(r, id, r.token)) !== undefined);
    const opened = (await (await get(`${r.url}/v1/records/${id}/private`, r.token)).json()) as { private: unknown };
    expect(opened.private).toEqual({ contact: { phone: '13811112222' } });
  });
});

describe('point 5: private fields, reads that strip them, erasure', () => {
  it('seals private fields to own hub and parent chain, serves them only to operators, erases them from every file and node', async () => {
    const city = await start({ name: '孝感市枢纽', level: 'city', region: '420900' });
    const county = await start({ name: '孝南区枢纽', level: 'county', region: '420902', parent: city.url });
    await admit(city, county.node.hubId, 'county', '420902', county.url);
    await eventually(() => county.node.trust.isTrusted(county.node.hubId) && county.node.privacy?.defaultRecipients().length === 2);

    const phone = '13800138000';
    const res = await post(
      `${county.url}/v1/needs`,
      {
        ...needBody(),
        private: {
          contact: { name: '李护士长', phone },
          address: '孝南区书院街 1 号',
          beneficiaries: Array.from({ length: 40 }, (_, k) => ({ name: `受助人${k}`, phone: `1370000${String(k).padStart(4, '0')}` })),
        },
      },
      county.token,
    );
    expect(res.status).toBe(201);
    const { id, record } = (await res.json()) as { id: string; record: SignedRecord };
    expect(record.sealed?.to.map((t) => t.hub).sort()).toEqual([city.node.hubId, county.node.hubId].sort());
    const ct = record.sealed?.ct as string;
    const boxKeys = record.sealed?.to.map((t) => t.key) as string[];
    // Both the county and the city open it; the public body does not carry it.
    expect(JSON.stringify(record.body)).not.toContain(phone);
    const mine = (await (await get(`${county.url}/v1/records/${id}/private`, county.token)).json()) as { private: { contact: { phone: string } } };
    expect(mine.private.contact.phone).toBe(phone);
    await eventually(async () => (await get(`${city.url}/v1/records/${id}/private`, city.token)).status === 200);
    // Anonymous reads (record, log, feed) get it without its sealed part, sealedHash kept; operators get it whole.
    for (const n of [county, city]) {
      const anon = await stored(n, id);
      expect(anon?.sealed).toBeUndefined();
      expect(anon?.sealedHash).toBe(record.sealedHash);
      expect((await stored(n, id, n.token))?.sealed?.ct).toBe(ct);
      for (const path of [`/v1/records/${id}`, `/v1/hubs/${county.node.hubId}/log`, '/v1/feed', '/v1/state/needs', '/v1/heads']) {
        const text = await (await get(`${n.url}${path}`)).text();
        expect(text).not.toContain(ct.slice(0, 40));
        expect(text).not.toContain(phone);
      }
      expect((await get(`${n.url}/v1/records/${id}/private`)).status).toBe(401);
    }
    // The resolver's snapshot (what a checkpoint writes) never holds sealed parts.
    const snapshot = JSON.stringify(county.node.ingestor.engine.toJSON());
    expect(snapshot.length).toBeGreaterThan(1000);
    expect(snapshot).not.toContain(ct.slice(0, 40));

    // Erased on the county: here at once, on the city through the signed sealed.erased.
    const er = await post(`${county.url}/v1/records/${id}/erase`, { reason: '受助人要求删除' }, county.token);
    expect(er.status).toBe(200);
    const erased = (await er.json()) as { erased: boolean; request: string };
    expect(erased.erased).toBe(true);
    expect(erased.request).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await get(`${county.url}/v1/records/${id}/private`, county.token)).status).toBe(422);
    await eventually(async () => (await stored(city, id, city.token))?.sealed === undefined);
    expect((await get(`${city.url}/v1/records/${id}/private`, city.token)).status).toBe(422);
    // A copy that still has its sealed part does not bring it back.
    const back = await post(`${county.url}/v1/records`, [record]);
    expect(((await back.json()) as { acks: { status: string }[] }).acks[0]?.status).toBe('duplicate');
    expect((await stored(county, id, county.token))?.sealed).toBeUndefined();
    // A new node pulling from the county gets no sealed part.
    const late = await start({ name: '孝感市另一节点', level: 'city', region: '420900', follow: [county.url] });
    await eventually(async () => (await stored(late, id, late.token)) !== undefined, 150);
    expect((await stored(late, id, late.token))?.sealed).toBeUndefined();

    // Still verifies everywhere: the signature covers sealedHash, not the sealed part.
    for (const n of [county, city, late]) {
      expect(await verifiesOn(n, county.node.hubId)).toBeGreaterThan(2);
      for (const path of [`/v1/feed?limit=5000`, `/v1/hubs/${county.node.hubId}/log`, `/v1/records/${id}`]) {
        const text = await (await get(`${n.url}${path}`, n.token)).text();
        expect(text).not.toContain(ct.slice(0, 40));
      }
    }
    // Neither the plaintext nor any byte string of the sealed part is left in any database file.
    for (const n of [county, city]) {
      // The database, its WAL and shared memory, and whatever else the node keeps there (a checkpoint file).
      const files = readdirSync(n.dir).map((f) => join(n.dir, f));
      for (const f of files) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(f);
        } catch {
          continue;
        }
        expect(bytes.includes(phone), `${f} holds the phone number`).toBe(false);
        expect(bytes.includes(Buffer.from(phone, 'utf16le')), `${f}`).toBe(false);
        // Every 20-character piece of the ciphertext and of the sealed keys, wherever the page allocator left it.
        for (const secret of [ct, ...boxKeys]) {
          for (let i = 0; i + 20 <= secret.length; i += 10) expect(bytes.includes(secret.slice(i, i + 20)), `${f} holds sealed bytes at ${i}`).toBe(false);
        }
      }
    }
  });

  it("the sealed.erased of a hub neither author nor recipient erases nothing; a recipient's request before its target erases it on arrival; retention erases closed needs", async () => {
    const root = await start({ name: '湖北省枢纽', level: 'province', region: '420000' }, { overrides: { privacy: { sealedRetentionDays: 1 } } });
    const self = { hub: root.node.hubId, encryptionKey: root.node.store.chainView(root.node.hubId)?.keys.encryptionKey as string };
    const a = await TestHub.make();
    const b = await TestHub.make();
    await admit(root, a.id, 'city', '420900');
    await admit(root, b.id, 'city', '420100');
    const { record: need } = a.author.sign('need.posted', needBody(), seal({ note: '联系人 13700001111' }, [self]));
    const { record: bogus } = b.author.sign('sealed.erased', {
      record: ((await post(`${root.url}/v1/records`, [a.hub.inception, need]).then((r) => r.json())) as { acks: { id: string }[] }).acks[1]?.id as string,
    });
    const ids = ((await (await post(`${root.url}/v1/records`, [b.hub.inception, bogus])).json()) as { acks: { status: string }[] }).acks;
    expect(ids.map((x) => x.status)).toEqual(['accepted', 'accepted']);
    const needId = bogus.type === 'sealed.erased' ? (bogus.body as { record: string }).record : '';
    // b is not the author nor a recipient: the sealed part stays.
    expect((await get(`${root.url}/v1/records/${needId}/private`, root.token)).status).toBe(200);
    // The author's own request, signed before its target arrives elsewhere, is honoured.
    const { record: real } = a.author.sign('sealed.erased', { record: needId, reason: 'withdrawn' });
    expect(((await (await post(`${root.url}/v1/records`, [real])).json()) as { acks: { status: string }[] }).acks[0]?.status).toBe('accepted');
    expect((await get(`${root.url}/v1/records/${needId}/private`, root.token)).status).toBe(422);

    // A recipient's request that arrives before its target: the target is stored without its sealed part.
    const bKey = { hub: b.id, encryptionKey: publicKeysOf(b.hub.keys).encryptionKey };
    const { record: later } = a.author.sign('need.posted', needBody({ quantity: 7 }), seal({ note: '联系人 13700003333' }, [self, bKey]));
    const laterId = recordId(later);
    const { record: early } = b.author.sign('sealed.erased', { record: laterId });
    expect(((await (await post(`${root.url}/v1/records`, [early])).json()) as { acks: { status: string }[] }).acks[0]?.status).toBe('accepted');
    expect(((await (await post(`${root.url}/v1/records`, [later])).json()) as { acks: { status: string }[] }).acks[0]?.status).toBe('accepted');
    expect((await stored(root, laterId, root.token))?.sealed).toBeUndefined();
    expect((await stored(root, laterId, root.token))?.sealedHash).toBe(later.sealedHash);
    expect(((await (await post(`${root.url}/v1/records`, [later])).json()) as { acks: { status: string }[] }).acks[0]?.status).toBe('duplicate');

    // Retention: the root's own need, closed, is erased once the close is more than a day old.
    const own = await post(`${root.url}/v1/needs`, { ...needBody({ region: '420100' }), private: { contact: { phone: '13600002222' } } }, root.token);
    expect(own.status).toBe(201);
    const ownId = ((await own.json()) as { id: string }).id;
    expect(await root.node.runRetention(Date.now() + 3 * 86_400_000)).toEqual([]);
    expect((await post(`${root.url}/v1/needs/${ownId}/close`, { reason: 'fulfilled' }, root.token)).status).toBe(201);
    expect(await root.node.runRetention(Date.now() + 3600_000)).toEqual([]);
    expect(await root.node.runRetention(Date.now() + 2 * 86_400_000)).toEqual([ownId]);
    expect((await get(`${root.url}/v1/records/${ownId}/private`, root.token)).status).toBe(422);
    const feed = (await (await get(`${root.url}/v1/feed?types=sealed.erased`, root.token)).json()) as { records: { record: SignedRecord }[] };
    expect(feed.records.map((r) => (r.record.body as { record: string }).record)).toContain(ownId);
  });
});

describe('point 5: erasure leaves no bytes behind in the database files', () => {
  it('an erased sealed part between other records is gone from hub.db and its WAL (secure_delete, checkpoint)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await TestHub.make();
      const store = new SqliteStore(join(dir, 'hub.db'));
      const to = [{ hub: t.id, encryptionKey: publicKeysOf(t.hub.keys).encryptionKey }];
      const records: SignedRecord[] = [t.hub.inception];
      for (let i = 0; i < 20; i++)
        records.push(
          t.author.sign(
            'need.posted',
            needBody({ quantity: 100 + i }),
            seal(
              {
                note: `第${i}位联系人 1390000${String(i).padStart(4, '0')}`,
                beneficiaries: Array.from({ length: 40 }, (_, k) => ({ name: `受助人${i}-${k}` })),
              },
              to,
            ),
          ).record,
        );
      store.transaction(() => {
        for (const r of records) store.appendRecord(assumeVerified(r, recordId(r)), publicKeysOf(t.hub.keys), { source: 'local', recovery: false, now: 0 });
      });
      store.flushDeleted();
      const target = records[10] as SignedRecord;
      const ct = target.sealed?.ct as string;
      const files = () =>
        ['hub.db', 'hub.db-wal'].map((f) => {
          try {
            return readFileSync(join(dir, f));
          } catch {
            return Buffer.alloc(0);
          }
        });
      expect(files().some((b) => b.includes(ct.slice(0, 20)))).toBe(true);
      store.transaction(() => store.eraseSealed(recordId(target)));
      store.flushDeleted();
      for (const b of files()) for (let i = 0; i + 20 <= ct.length; i += 10) expect(b.includes(ct.slice(i, i + 20)), `sealed bytes at ${i}`).toBe(false);
      expect(JSON.parse(store.recordById(recordId(target))?.json as string).sealedHash).toBe(target.sealedHash);
      store.close();
    } finally {
      cleanup();
    }
  });
});

describe('point 5: shuniu erase', () => {
  it('erases a sealed part on a stopped node and signs sealed.erased; the restarted node serves none', async () => {
    const n = await startNode({ name: '孝南区枢纽', level: 'county', region: '420902' });
    const res = await post(`${n.url}/v1/needs`, { ...needBody(), private: { contact: { phone: '13500003333' } } }, n.token);
    const { id } = (await res.json()) as { id: string };
    await n.node.close();
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      out.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await eraseCommand(['--dir', n.dir, '--reason', '受助人要求', id]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    const answer = JSON.parse(out.join('')) as { erased: boolean; request: string };
    expect(answer.erased).toBe(true);
    const back = await reopen(n.dir);
    nodes.push(back);
    expect((await stored(back, id, back.token))?.sealed).toBeUndefined();
    expect((await get(`${back.url}/v1/records/${id}/private`, back.token)).status).toBe(422);
    expect(((await stored(back, answer.request, back.token))?.body as { record: string } | undefined)?.record).toBe(id);
  });
});

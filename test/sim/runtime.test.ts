// The runtime a node takes from outside (nodes/hub/src/runtime.ts): with a clock and timers of
// the test's own, what the federation schedules is read exactly, without waiting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519Sign, ed25519Verify, fromUtf8, ready } from '@shuniu/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { HubNode, initDataDir } from '../../nodes/hub/src/node.js';
import type { Runtime } from '../../nodes/hub/src/runtime.js';

const dirs: string[] = [];
const open: HubNode[] = [];
afterAll(async () => {
  for (const n of open) await n.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a push queue after the clock went back', () => {
  /**
   * Found by the simulator (test/sim/seeds/clock-back-push-wait.json): a node restarted with its
   * clock set back kept the next attempt's time stored by the old clock, and waited the size of the
   * jump (here 10 minutes) before pushing again, past the rule's longest wait (spec/node.md §9.2).
   */
  it('waits at most 1.25 · backoffMaxMs, and stores that', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shuniu-runtime-'));
    dirs.push(dir);
    let now = Date.parse('2026-01-24T08:00:00Z');
    await initDataDir({ dir, name: '孝感市枢纽', level: 'city', region: '420900', now, publicUrl: 'http://city.test' });
    const scheduled: number[] = [];
    const due: (() => void)[] = [];
    const sent: string[] = [];
    const runtime: Partial<Runtime> = {
      now: () => now,
      timers: {
        setTimeout: (fn, ms) => {
          scheduled.push(ms);
          due.push(fn);
          return { ms };
        },
        clearTimeout: () => {},
      },
      transport: async (url) => {
        sent.push(url);
        throw new TypeError('fetch failed');
      },
      random: () => 0.5,
    };
    const node = await HubNode.open(dir, { threads: 0, log: () => {}, runtime, overrides: { federation: { backoffMaxMs: 8000, pullIntervalMs: 0 } } });
    open.push(node);
    const peer = 'http://province.test';
    node.store.upsertPeer({ url: peer, role: 'parent', hub: null, pull: false });
    // Stored by a clock 10 minutes ahead of this one.
    node.store.updatePeer(peer, { failures: 3, nextAttemptMs: now + 10 * 60_000 });
    node.federation.kick(peer);
    await new Promise<void>((r) => setImmediate(r));
    expect(sent).toEqual([]);
    expect(scheduled).toEqual([10_000]);
    expect(node.store.peers().find((p) => p.url === peer)?.nextAttemptMs).toBe(now + 10_000);
    // Once that wait has passed, the queue tries again.
    now += 10_000;
    due[0]?.();
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(sent).toContain(`${peer}/v1/records`);
    await node.federation.stop();
  });
});

describe('record signatures checked on the main thread go through runtime.verify', () => {
  /** The simulator passes a memo of the check (its nodes check the same records in one process); a node uses the one it is given. */
  it('a pushed record is accepted when verify says yes and refused when it says no', async () => {
    await ready();
    const now = Date.parse('2026-01-24T08:00:00Z');
    const rootDir = mkdtempSync(join(tmpdir(), 'shuniu-runtime-'));
    const childDir = mkdtempSync(join(tmpdir(), 'shuniu-runtime-'));
    dirs.push(rootDir, childDir);
    await initDataDir({ dir: rootDir, name: '湖北省枢纽', level: 'province', region: '420000', now, publicUrl: 'http://root.test' });
    const checked: number[] = [];
    let answer = true;
    const verify = (s: Uint8Array, m: Uint8Array, p: Uint8Array) => {
      checked.push(s.length);
      return answer && ed25519Verify(s, m, p);
    };
    const overrides = { federation: { pullIntervalMs: 0 } };
    const root = await HubNode.open(rootDir, { threads: 0, log: () => {}, runtime: { now: () => now, verify }, overrides });
    open.push(root);
    const { hubId } = await initDataDir({
      dir: childDir,
      name: '武汉市枢纽',
      level: 'city',
      region: '420100',
      now,
      publicUrl: 'http://city.test',
      parent: 'http://root.test',
      transport: async (url) => root.app.request(url),
    });
    const token = await root.auth.issue('operator', 3600);
    const admit = await root.app.request('http://root.test/v1/admissions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ child: hubId, level: 'city', region: '420100', url: 'http://city.test' }),
    });
    expect(admit.status).toBe(201);
    const child = await HubNode.open(childDir, { threads: 0, log: () => {}, runtime: { now: () => now }, overrides });
    open.push(child);
    const rows = child.store.since(0, 100);
    const push = async (json: string) => {
      const res = await root.app.request('http://root.test/v1/records', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${json}]` });
      return ((await res.json()) as { acks: { status: string }[] }).acks.map((a) => a.status);
    };
    // The inception, checked with the node's verify and stored.
    expect(await push(rows[0]?.json as string)).toEqual(['accepted']);
    expect(checked.length).toBeGreaterThan(0);
    // The profile, refused once verify says no.
    answer = false;
    const before = checked.length;
    expect(await push(rows[1]?.json as string)).not.toEqual(['accepted']);
    expect(checked.length).toBeGreaterThan(before);
    expect(root.store.hasRecord(rows[1]?.id as string)).toBe(false);
  });
});

describe('peer-request signatures go through runtime.sign and runtime.verify', () => {
  /** The simulator signs with a faster sign of the same bytes and lets its verify memo know them (spec/node.md §9.4 unchanged). */
  it("a node signs its pushes with the sign it is given, and its peer checks them with the peer's verify", async () => {
    await ready();
    const now = Date.parse('2026-01-24T08:00:00Z');
    const rootDir = mkdtempSync(join(tmpdir(), 'shuniu-runtime-'));
    const childDir = mkdtempSync(join(tmpdir(), 'shuniu-runtime-'));
    dirs.push(rootDir, childDir);
    await initDataDir({ dir: rootDir, name: '湖北省枢纽', level: 'province', region: '420000', now, publicUrl: 'http://root.test' });
    const checked: string[] = [];
    const verify = (s: Uint8Array, m: Uint8Array, p: Uint8Array) => {
      checked.push(fromUtf8(m));
      return ed25519Verify(s, m, p);
    };
    const overrides = { federation: { pullIntervalMs: 0 } };
    const root = await HubNode.open(rootDir, { threads: 0, log: () => {}, runtime: { now: () => now, verify }, overrides });
    open.push(root);
    const { hubId } = await initDataDir({
      dir: childDir,
      name: '武汉市枢纽',
      level: 'city',
      region: '420100',
      now,
      publicUrl: 'http://city.test',
      parent: 'http://root.test',
      transport: async (url) => root.app.request(url),
    });
    const token = await root.auth.issue('operator', 3600);
    const admit = await root.app.request('http://root.test/v1/admissions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ child: hubId, level: 'city', region: '420100', url: 'http://city.test' }),
    });
    expect(admit.status).toBe(201);
    const signed: string[] = [];
    const sign = (m: Uint8Array, sk: Uint8Array) => {
      signed.push(fromUtf8(m));
      return ed25519Sign(m, sk);
    };
    const child = await HubNode.open(childDir, {
      threads: 0,
      log: () => {},
      runtime: {
        now: () => now,
        sign,
        transport: async (url, init) =>
          root.app.request(url, { method: init.method, headers: init.headers, ...(init.body !== undefined ? { body: init.body } : {}) }),
      },
      overrides,
    });
    open.push(child);
    const first = child.store.since(0, 1)[0]?.id as string;
    await child.start();
    for (let i = 0; i < 400 && !root.store.hasRecord(first); i++) await new Promise<void>((r) => setTimeout(r, 5));
    expect(root.store.hasRecord(first)).toBe(true);
    // Now that the root holds the child's chain, the child's next push is checked as the child's (spec/node.md §9.4).
    const childToken = await child.auth.issue('operator', 3600);
    const posted = await child.app.request('http://city.test/v1/needs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${childToken}` },
      body: JSON.stringify({
        item: { code: 'PPE.MASK.SURGICAL', name: '医用外科口罩' },
        quantity: 10,
        unit: { name: 'box', base: 'piece', size: 50 },
        urgency: 'high',
        neededBy: '2026-02-10T00:00:00Z',
        region: '420100',
        beneficiaries: { group: 'medical_staff', count: 10 },
        requester: { name: '医院', kind: 'hospital', region: '420100' },
      }),
    });
    expect(posted.status).toBe(201);
    const need = ((await posted.json()) as { id: string }).id;
    for (let i = 0; i < 400 && !root.store.hasRecord(need); i++) await new Promise<void>((r) => setTimeout(r, 5));
    expect(root.store.hasRecord(need)).toBe(true);
    // That push was signed by the given sign, and the root checked that very signature base with its verify.
    const pushes = signed.filter((m) => m.startsWith('"@method": POST\n"@authority": root.test\n"@path": /v1/records'));
    expect(pushes.length).toBeGreaterThan(0);
    expect(checked).toContain(pushes[pushes.length - 1]);
    await child.federation.stop();
  });
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { badPeer } from '../../../bench/hostile/peers.js';
import { initDataDir } from '../src/node.js';
import { needBody, post, reopen, startNode, tempDir } from './helpers.js';

// Issue 11 point 1: peers that stall, send too much or never answer must cost
// only their own exchanges (spec/node.md §9). Real nodes on loopback, and tiny
// node:http servers that misbehave. Nothing here is timed: each test's own
// timeout is the only clock.

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Polls until cond holds; `what` names the wait (the test's timeout ends a wait that never does). */
const until = async (cond: () => boolean | Promise<boolean>, _what: string) => {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 50));
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('hostile peers (issue 11 point 1)', () => {
  it('a stalled peer stalls alone: a healthy peer keeps being pulled', async () => {
    const bad = await badPeer('stall');
    cleanups.push(bad.close);
    // The healthy node on 127.0.0.2 sorts after the stalled one (peers are read in URL order).
    const healthy = await startNode({ name: '湖北省枢纽', level: 'province', region: '420000' }, { overrides: { host: '127.0.0.2' } });
    cleanups.push(() => healthy.node.close());
    const follower = tempDir();
    await initDataDir({ dir: follower.dir, name: '武汉市枢纽', level: 'city', region: '420100', port: 0, follow: [healthy.url] });
    // A deadline far beyond the test: what keeps the healthy peer pulled is its own loop, not the stalled one's deadline.
    const a = await reopen(follower.dir, { overrides: { federation: { pullIntervalMs: 100, requestTimeoutMs: 120_000 } } });
    cleanups.push(() => a.node.close());
    a.node.store.upsertPeer({ url: bad.url, role: 'follow', push: false });
    a.node.federation.kickAll();
    expect(a.node.store.peers()[0]?.url).toBe(bad.url);
    await until(() => bad.seen.some((s) => s.startsWith('GET /v1/heads')), 'the stalled peer is asked');
    for (let i = 0; i < 3; i++) {
      const res = await post(`${healthy.url}/v1/needs`, needBody({ quantity: 10 + i }), healthy.token);
      expect(res.status).toBe(201);
      const head = healthy.node.store.heads()[healthy.node.hubId] ?? -1;
      await until(() => (a.node.store.heads()[healthy.node.hubId] ?? -1) >= head, 'the healthy peer is pulled');
    }
    // The stalled exchange is still in flight: it delayed only itself.
    expect(a.node.federation.stats.timeouts).toBe(0);
  }, 30_000);

  it('four stalled peers do not take the push slots of a healthy fifth', async () => {
    const bads = await Promise.all([0, 1, 2, 3].map(() => badPeer('stall')));
    for (const b of bads) cleanups.push(b.close);
    const origin = await startNode(
      { name: '孝感市枢纽', level: 'city', region: '420900' },
      {
        overrides: { federation: { pullIntervalMs: 0, requestTimeoutMs: 1500, backoffBaseMs: 100, backoffMaxMs: 400 } },
      },
    );
    cleanups.push(() => origin.node.close());
    // The healthy peer trusts the origin (its root, from --follow) and only receives pushes.
    const receiver = tempDir();
    await initDataDir({ dir: receiver.dir, name: '湖北省枢纽', level: 'province', region: '420000', port: 0, follow: [origin.url] });
    const b = await reopen(receiver.dir);
    cleanups.push(() => b.node.close());
    for (const bad of bads) origin.node.store.upsertPeer({ url: bad.url, role: 'child', pull: false });
    origin.node.store.upsertPeer({ url: b.url, role: 'child', hub: b.node.hubId, pull: false });
    origin.node.federation.kickAll();
    // Every slot (pushParallel 4) taken by a stalled push.
    await until(() => bads.every((x) => x.seen.some((s) => s.startsWith('POST /v1/records'))), 'four stalled pushes');
    const res = await post(`${origin.url}/v1/needs`, needBody(), origin.token);
    expect(res.status).toBe(201);
    const head = origin.node.store.heads()[origin.node.hubId] ?? -1;
    await until(() => (b.node.store.heads()[origin.node.hubId] ?? -1) >= head, 'the healthy peer receives the push');
    expect(b.node.store.heads()[origin.node.hubId]).toBe(head);
  }, 30_000);

  it('an oversized answer is cut at maxAnswerBytes while it is read', async () => {
    const cap = 1024 * 1024;
    const bad = await badPeer('huge', 300 * 1024 * 1024);
    cleanups.push(bad.close);
    const a = await startNode(
      { name: '武汉市枢纽', level: 'city', region: '420100' },
      { overrides: { federation: { pullIntervalMs: 0, maxAnswerBytes: cap, requestTimeoutMs: 60_000 } } },
    );
    cleanups.push(() => a.node.close());
    a.node.store.upsertPeer({ url: bad.url, role: 'follow', push: false });
    const rss0 = process.memoryUsage().rss;
    await a.node.federation.pullAll();
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    // The peer stopped writing when the node hung up, far from its 300 MB.
    expect(bad.seen.some((s) => s.startsWith('GET /v1/heads'))).toBe(true);
    expect(bad.written()).toBeLessThan(64 * 1024 * 1024);
    expect(grown).toBeLessThan(100);
    const { stats } = a.node.federation;
    expect(stats.oversized).toBeGreaterThanOrEqual(1);
    // Never more read than the cap and one chunk off the wire.
    expect(stats.maxBytesRead).toBeLessThanOrEqual(cap + 256 * 1024);
  }, 60_000);

  it('close() aborts stalled and unanswered exchanges in flight and resolves', async () => {
    const stall = await badPeer('stall');
    const silent = await badPeer('silent');
    cleanups.push(stall.close, silent.close);
    const a = await startNode(
      { name: '武汉市枢纽', level: 'city', region: '420100' },
      { overrides: { federation: { pullIntervalMs: 100, requestTimeoutMs: 600_000 } } },
    );
    a.node.store.upsertPeer({ url: stall.url, role: 'follow' });
    a.node.store.upsertPeer({ url: silent.url, role: 'follow' });
    a.node.federation.kickAll();
    await until(() => stall.seen.some((s) => s.startsWith('GET /v1/heads')) && stall.seen.some((s) => s.startsWith('POST')), 'stalled exchanges');
    await until(() => silent.seen.some((s) => s.startsWith('GET /v1/heads')), 'unanswered exchanges');
    // The test's own timeout is the only check: on the old main this never resolved.
    await a.node.close();
    expect(true).toBe(true);
  }, 20_000);

  it('SIGTERM stops `shuniu start` with stalled peers', async () => {
    const stall = await badPeer('stall');
    const silent = await badPeer('silent');
    cleanups.push(stall.close, silent.close);
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    await initDataDir({ dir, name: '武汉市枢纽', level: 'city', region: '420100', port: 0, follow: [stall.url, silent.url] });
    const child = spawn(process.execPath, [CLI, 'start', '--dir', dir, '--port', '0', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SHUNIU_PULL_INTERVAL_MS: '200' },
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.resume();
    // Serving (its signal handlers set once the sign-in line is out) with the stalled pulls in flight.
    await until(() => out.includes('console:'), 'started');
    await until(() => stall.seen.some((s) => s.startsWith('GET /v1/heads')) && silent.seen.some((s) => s.startsWith('GET /v1/heads')), 'stalled pulls');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});

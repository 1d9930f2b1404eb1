// The runtime a node takes from outside (nodes/hub/src/runtime.ts): with a clock and timers of
// the test's own, what the federation schedules is read exactly, without waiting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The second story (issue 18 point 2), `pnpm demo:shanghai` in its
 * self-checking, quick form: the foundation's hub and three district hubs
 * play Shanghai United's 2022 campaign, the donors' live totals rise as the
 * districts deliver, and the script exits 0 only when every node shows the
 * same state hash and buildReport's totals are the campaign's (27.21 M CNY
 * raised, 30.88 M of goods; with --quick a tenth of its 419 units and
 * 1.73 M people).
 */
describe('pnpm demo:shanghai', () => {
  it('four Shanghai nodes converge and the live totals end at the campaign figures', () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [tsx, '--conditions=@shuniu/source', 'examples/shanghai.ts', '--exit', '--quick'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const hashes = [...r.stdout.matchAll(/^(\w+)\s+state (\S{43})$/gm)].map((m) => m[2]);
    expect(hashes).toHaveLength(4);
    expect(new Set(hashes).size).toBe(1);
    // The totals rise district by district, then end at the campaign's.
    const live = [...r.stdout.matchAll(/units served (\d+) · people reached ([\d,]+)/g)].map((m) => [Number(m[1]), Number((m[2] as string).replace(/,/g, ''))]);
    expect(live.map(([u]) => u)).toEqual([0, 0, 14, 28, 42, 42]);
    expect(live.at(-1)).toEqual([42, 173_000]);
    expect(r.stdout).toContain('campaign 2022 上海联劝抗疫行动: money raised ¥27.21 M, goods ¥30.88 M, units 42, people 173,000');
    // Xuhui's bundle of its community groups' needs: funded as a whole, its progress following the deliveries (issue 18 point 5).
    const bundle = [
      ...r.stdout.matchAll(/bundle 徐汇区社区团购群保供项目: (\d+) needs, (\w+) \(pledged ¥0\.60 M of ¥0\.60 M\) · open (\d+) .* delivered (\d+)$/gm),
    ].map((m) => m.slice(1).map((x) => (/^\d+$/.test(x as string) ? Number(x) : x)));
    expect(bundle).toEqual([
      [10, 'funded', 10, 0],
      [10, 'funded', 0, 10],
      [10, 'funded', 0, 10],
    ]);
  }, 240_000);
});
